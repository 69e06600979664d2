/**
 * The data of a run report, computed from the run directory alone (summary.json, oof.csv, splits.json,
 * config.resolved.json) plus, for the attention figure, one fold model. Every plot is drawn from this data, and
 * every part is also written as JSON/CSV (see write-report.ts), so a figure can be redrawn elsewhere.
 *
 * - `data`: cases, events, censored, follow-up (median by the reverse Kaplan-Meier method, min/max time) of the
 *   cases that have an out-of-fold prediction.
 * - `km`: Kaplan-Meier curves of the out-of-fold risk groups, median split and tertiles (risk-groups.ts).
 * - `tdAuc`: AUC(t) per fold over a time grid (td-auc-curve.ts); `iauc` is the run's iAUC (summary.json).
 * - `calibration`: predicted vs Kaplan-Meier observed S(t) at the run's evaluation times (calibration-bins.ts).
 * - `attention`: one case's patch attention at its coordinates (attention-map.ts), or a note saying why there is
 *   none.
 * Survival figures are null for a binary run.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { reverseKmMedian } from '../data/summary.js';
import { packageRoot } from '../paths.js';
import { readRunSummary } from '../train/cross-validate.js';
import { readSurvivalOof } from '../train/evaluate-run.js';
import type { FoldSummary, RunSummary } from '../train/run-outputs.js';
import type { OofRow } from '../train/train-fold.js';
import type { AttentionFigure } from './attention-map.js';
import { calibrationFigure, type CalibrationFigure } from './calibration-bins.js';
import { kmGroupsFigure, type KmGroupsFigure, type OofCase } from './risk-groups.js';
import { tdAucFigure, type TdAucFigure } from './td-auc-curve.js';

export interface DataSummary {
  cases: number;
  events: number;
  censored: number;
  /** Median follow-up (reverse Kaplan-Meier), null when not reached. */
  followUpMedian: number | null;
  timeMin: number;
  timeMax: number;
}

export interface ReportEnvironment {
  backend: string;
  node: string;
  mmsurv: string;
  tfjs: string | null;
  platform: string;
  seed: number;
  splitsHash: string | null;
  trainSeconds: number;
}

export interface ReportData {
  version: 1;
  name: string;
  target: 'survival' | 'binary';
  /** ISO time the report was made. */
  generated: string;
  runDir: string;
  config: Record<string, unknown>;
  data: DataSummary | null;
  summary: RunSummary;
  folds: FoldSummary[];
  km: { median: KmGroupsFigure; tertiles: KmGroupsFigure } | null;
  tdAuc: (TdAucFigure & { iauc: number | null; iaucSd: number | null }) | null;
  calibration: CalibrationFigure | null;
  attention: AttentionFigure | { note: string } | null;
  environment: ReportEnvironment;
}

async function jsonOrNull<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The version in a package.json (mmsurv's own, or a dependency's resolved from mmsurv's install), or null. */
function packageVersion(name: string | null): string | null {
  try {
    const require = createRequire(join(packageRoot(), 'package.json'));
    return (require(name === null ? './package.json' : `${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

export function dataSummary(rows: readonly OofCase[]): DataSummary {
  const time = rows.map((r) => r.time);
  const events = rows.filter((r) => r.event).length;
  return {
    cases: rows.length, events, censored: rows.length - events,
    followUpMedian: reverseKmMedian(time, rows.map((r) => Boolean(r.event))),
    timeMin: Math.min(...time), timeMax: Math.max(...time),
  };
}

/** The survival figures of a run's out-of-fold predictions. */
export function survivalFigures(rows: readonly (OofCase & { surv: number[] | null })[], summary: RunSummary): Pick<ReportData, 'km' | 'tdAuc' | 'calibration'> {
  return {
    km: { median: kmGroupsFigure(rows, 'median'), tertiles: kmGroupsFigure(rows, 'tertiles') },
    tdAuc: { ...tdAucFigure(rows), iauc: summary.iauc_mean, iaucSd: summary.iauc_sd },
    calibration: calibrationFigure(rows, summary.eval_times),
  };
}

/**
 * The report data of a run directory. `attention`, when given, computes the attention figure from the out-of-fold
 * rows of a survival run (it needs a model; see attention-map.ts).
 */
export async function collectReportData(runDir: string, o: { attention?: (oof: OofRow[]) => Promise<ReportData['attention']> } = {}): Promise<ReportData> {
  const dir = resolve(runDir);
  const summary = await readRunSummary(dir);
  const target = summary.target ?? 'survival';
  const splits = await jsonOrNull<{ hash?: string }>(join(dir, 'splits.json'));
  const config = (await jsonOrNull<Record<string, unknown>>(join(dir, 'config.resolved.json'))) ?? summary.config;
  const environment: ReportEnvironment = {
    backend: summary.backend, node: process.version, mmsurv: packageVersion(null) ?? 'unknown',
    tfjs: packageVersion('@tensorflow/tfjs'), platform: `${process.platform}-${process.arch}`,
    seed: summary.seed, splitsHash: splits?.hash ?? null, trainSeconds: summary.seconds,
  };
  const base = {
    version: 1 as const, name: summary.name, target, generated: new Date().toISOString(), runDir: dir, config,
    summary, folds: summary.folds, environment,
  };
  if (target === 'binary') return { ...base, attention: null, data: null, km: null, tdAuc: null, calibration: null };
  const rows = await readSurvivalOof(join(dir, 'oof.csv'), summary.eval_times);
  const attention = o.attention ? await o.attention(rows) : null;
  return { ...base, attention, data: dataSummary(rows), ...survivalFigures(rows, summary) };
}
