/**
 * The files of a run directory that scripts rely on:
 *
 * - `oof.csv`: one row per validation case of every fold: `id,fold,time,event,risk` then `surv_<t>` for each
 *   evaluation time (empty cells when the head gives no curve). `fold` is 1-based.
 * - `summary.json`: at least `c_index_mean`, `c_index_sd`, `folds` (one object per fold), `seed`, `config`; also
 *   Uno's C, iAUC and IBS means and sds, the evaluation times, the pooled out-of-fold C-index and the backend.
 * - `summary.csv`: one row per fold, then `mean` and `sd` rows.
 *
 * Means and sds are over folds (sd with n - 1); a metric undefined in a fold is left out of its mean.
 */
import type { SurvivalReport } from '../survival/metrics-report.js';
import { harrellC } from '../survival/concordance.js';
import type { FoldResult, OofRow } from './train-fold.js';

export interface FoldSummary {
  fold: number;
  n_train: number;
  n_val: number;
  events_val: number;
  epochs: number;
  best_epoch: number | null;
  c_index: number | null;
  uno_c: number | null;
  iauc: number | null;
  ibs: number | null;
  seconds: number;
  note?: string;
}

export interface RunSummary {
  name: string;
  c_index_mean: number | null;
  c_index_sd: number | null;
  uno_c_mean: number | null;
  uno_c_sd: number | null;
  iauc_mean: number | null;
  iauc_sd: number | null;
  ibs_mean: number | null;
  ibs_sd: number | null;
  /** Harrell's C of all out-of-fold risks pooled (risks of different folds are on different scales: a rough check). */
  c_index_pooled_oof: number | null;
  eval_times: number[];
  folds: FoldSummary[];
  seed: number;
  backend: string;
  seconds: number;
  config: Record<string, unknown>;
}

export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function oofCsv(rows: readonly OofRow[], evalTimes: readonly number[]): string {
  const header = ['id', 'fold', 'time', 'event', 'risk', ...evalTimes.map((t) => `surv_${t}`)];
  const lines = [header.join(',')];
  for (const r of rows) {
    lines.push([r.id, r.fold + 1, r.time, r.event, r.risk, ...evalTimes.map((_, k) => (r.surv ? r.surv[k] : null))].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

function meanSd(values: (number | null)[]): [number | null, number | null] {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return [null, null];
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return [mean, null];
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return [mean, sd];
}

export function foldSummary(r: FoldResult): FoldSummary {
  const m: SurvivalReport | null = r.metrics;
  return {
    fold: r.fold + 1,
    n_train: r.nTrain,
    n_val: r.nVal,
    events_val: r.rows.reduce((a, x) => a + x.event, 0),
    epochs: r.epochs,
    best_epoch: r.bestEpoch,
    c_index: m?.harrell_c ?? null,
    uno_c: m?.uno_c ?? null,
    iauc: m?.iauc ?? null,
    ibs: m?.ibs ?? null,
    seconds: r.seconds,
    ...(r.metricsNote ? { note: r.metricsNote } : {}),
  };
}

export function runSummary(
  name: string,
  results: readonly FoldResult[],
  o: { seed: number; backend: string; seconds: number; evalTimes: number[]; config: Record<string, unknown> },
): RunSummary {
  const folds = results.map(foldSummary);
  const [cMean, cSd] = meanSd(folds.map((f) => f.c_index));
  const [uMean, uSd] = meanSd(folds.map((f) => f.uno_c));
  const [aMean, aSd] = meanSd(folds.map((f) => f.iauc));
  const [bMean, bSd] = meanSd(folds.map((f) => f.ibs));
  const rows = results.flatMap((r) => r.rows);
  let pooled: number | null = null;
  try {
    pooled = harrellC(rows.map((r) => r.time), rows.map((r) => r.event), rows.map((r) => r.risk)).cIndex;
  } catch {
    pooled = null;
  }
  return {
    name,
    c_index_mean: cMean, c_index_sd: cSd, uno_c_mean: uMean, uno_c_sd: uSd,
    iauc_mean: aMean, iauc_sd: aSd, ibs_mean: bMean, ibs_sd: bSd,
    c_index_pooled_oof: pooled,
    eval_times: o.evalTimes,
    folds,
    seed: o.seed,
    backend: o.backend,
    seconds: o.seconds,
    config: o.config,
  };
}

export function summaryCsv(s: RunSummary): string {
  const cols = ['fold', 'n_train', 'n_val', 'events_val', 'epochs', 'best_epoch', 'c_index', 'uno_c', 'iauc', 'ibs', 'seconds'] as const;
  const lines = [cols.join(',')];
  for (const f of s.folds) lines.push(cols.map((c) => csvCell(f[c])).join(','));
  lines.push(['mean', '', '', '', '', '', s.c_index_mean, s.uno_c_mean, s.iauc_mean, s.ibs_mean, ''].map(csvCell).join(','));
  lines.push(['sd', '', '', '', '', '', s.c_index_sd, s.uno_c_sd, s.iauc_sd, s.ibs_sd, ''].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

const f4 = (x: number | null) => (x === null ? '-' : x.toFixed(4));

/** The table printed at the end of `mmsurv train`. */
export function formatRunSummary(s: RunSummary): string {
  const lines = ['fold  n_val  events  epochs  best  C-index  Uno C   iAUC    IBS'];
  for (const f of s.folds) {
    lines.push(
      `${String(f.fold).padEnd(4)}  ${String(f.n_val).padStart(5)}  ${String(f.events_val).padStart(6)}  ${String(f.epochs).padStart(6)}  ` +
        `${String(f.best_epoch ?? '-').padStart(4)}  ${f4(f.c_index).padEnd(7)}  ${f4(f.uno_c).padEnd(6)}  ${f4(f.iauc).padEnd(6)}  ${f4(f.ibs)}`,
    );
  }
  const pm = (m: number | null, sd: number | null) => (m === null ? '-' : `${m.toFixed(4)} +- ${sd === null ? '-' : sd.toFixed(4)}`);
  lines.push('');
  lines.push(`C-index ${pm(s.c_index_mean, s.c_index_sd)}   Uno's C ${pm(s.uno_c_mean, s.uno_c_sd)}   iAUC ${pm(s.iauc_mean, s.iauc_sd)}   IBS ${pm(s.ibs_mean, s.ibs_sd)}`);
  return lines.join('\n');
}
