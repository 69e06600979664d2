/**
 * `mmsurv train`: k-fold cross-validation of one experiment config into a run directory.
 *
 * The run directory holds config.resolved.json, splits.json, fold-K/ (model, calibration, result, checkpoints
 * while training), oof.csv, summary.json and summary.csv. An existing run directory is never overwritten: with
 * `resume` the finished folds are kept, an unfinished fold continues from its last checkpoint, and the config must
 * be the one the run started with; without `resume` a directory that already holds a run is refused.
 *
 * Folds run one after another, or in `workers` worker threads (each with its own tfjs), with the same results.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { Backend } from '../contracts/backend.js';
import type { TargetKind } from '../contracts/binary-label.js';
import type { Case, PatchBag } from '../contracts/case.js';
import type { Logger } from '../contracts/logger.js';
import type { ProgressReporter } from '../contracts/progress.js';
import type { RunStore } from '../contracts/run-store.js';
import { ConsoleLogger } from '../services/logger.js';
import { resolveDataRoot } from '../config/data-root.js';
import { readResolvedConfig, saveResolvedConfig, RESOLVED_CONFIG_FILE } from '../config/save.js';
import { resolveAndValidate } from '../config/validate.js';
import { buildContext, createRunContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import { readCohort, type DataSection } from '../data/read-cohort.js';
import { makeSplits, readSplits, writeSplits, type Splits } from '../data/splits.js';
import { SurvivalModel, type ModelConfig } from '../model/survival-model.js';
import type { Registries } from '../registry/registry.js';
import { KNOWLEDGE_CACHE_DIR } from '../llm/knowledge-cache.js';
import { withLlmServices, type LanguageModels } from '../llm/language-models.js';
import { RUN_LLM_FILE, runLlmRecord } from '../llm/run-llm.js';
import { attachKnowledge, bagsByCase, buildKnowledgeSources, loadCaseBags, withPreloadedBags } from './prepare-cases.js';
import { recordFeatureExtractor } from './feature-record.js';
import { fitKmTimeCalibration, kaplanMeierSteps, type KmTimeCalibration } from '../survival/calibration.js';
import { binaryOofCsv, formatRunSummary, oofCsv, runSummary, summaryCsv, type RunSummary } from './run-outputs.js';
import { trainSettings, type TrainSettings } from './settings.js';
import { trainFold, type FoldResult } from './train-fold.js';

export interface CrossValidateOptions {
  configFile: string;
  runDir: string;
  resume?: boolean;
  /** Folds in parallel worker threads (1 = in this thread). */
  workers?: number;
  /** A splits.json to use (default: the data root's splits.json when it matches, else new splits saved in the run). */
  splitsFile?: string;
  /** Extra registry files (`--plugins`), passed on to workers. */
  pluginFiles?: string[];
  /** Tests: stop every fold after this many epochs of this call, as if the process were killed. */
  stopAfterEpochs?: number;
}

export interface TrainContext {
  registries: Registries;
  container: DependencyContainer;
  backend: Backend;
}

/** Everything a fold needs that can be rebuilt from files (the unit of work sent to a worker). */
export interface PreparedRun {
  config: Record<string, unknown>;
  /** What the head learns: survival (time, event) or a binary class. */
  target: TargetKind;
  settings: TrainSettings;
  cases: Case[];
  splits: Splits;
  evalTimes: number[];
  /** Parent container for the folds: the run's services plus its language models and knowledge cache folder. */
  container: DependencyContainer;
  /** The run's language models (free them with dispose() when the run ends). */
  models: LanguageModels;
}

/** How prepareRun gets the patch features: read them (into SharedArrayBuffers with `shared`), or take `bags` loaded by another thread. */
export interface PrepareBagsOptions {
  shared?: boolean;
  bags?: Record<string, PatchBag[]>;
}

export async function prepareRun(ctx: TrainContext, o: CrossValidateOptions, bagOpts: PrepareBagsOptions = {}): Promise<PreparedRun> {
  const { config } = await resolveAndValidate(o.configFile, ctx.registries, { require: ['data', 'encoders', 'fusion', 'head'] });
  const settings = trainSettings(config);
  const data = { ...(config['data'] as DataSection), root: resolveDataRoot(config, o.configFile) };
  const llm = withLlmServices(ctx.container, config, dirname(resolve(o.configFile)), join(data.root, KNOWLEDGE_CACHE_DIR));
  const container = createRunContainer(llm.container, { seed: settings.seed });
  const cohort = await readCohort(ctx.registries, data, buildContext(container, 'data'));
  const logger = container.resolve<Logger>(TOKENS.Logger);
  for (const w of cohort.warnings) logger.warn(w);
  const target = SurvivalModel.targetOf(ctx.registries, config as unknown as ModelConfig, container);
  const labelled = cohort.cases.filter((c) => (target === 'binary' ? c.binary : c.label));
  const labelName = target === 'binary' ? 'binary label (the head is a binary classifier; e.g. the chimera-task2 reader\'s BRS)' : 'survival label';
  if (labelled.length === 0) {
    throw new Error(`${o.configFile}: none of the ${cohort.cases.length} cases of ${data.root} has a ${labelName}`);
  }
  if (labelled.length < cohort.cases.length) {
    logger.warn(`${cohort.cases.length - labelled.length} of ${cohort.cases.length} cases have no ${labelName} and are left out of training`);
  }
  if (labelled.length < settings.folds * 2) {
    throw new Error(`${o.configFile}: ${labelled.length} labelled cases cannot make ${settings.folds} folds (train.folds); need at least ${settings.folds * 2}`);
  }
  const splits = await chooseSplits(o, data.root, labelled, settings, target);
  const progress = container.resolve<ProgressReporter>(TOKENS.Progress);
  let cases = await loadCaseBags(bagOpts.bags ? withPreloadedBags(labelled, bagOpts.bags) : labelled, progress, { shared: bagOpts.shared ?? false });
  cases = await attachKnowledge(cases, buildKnowledgeSources(ctx.registries, config, container), container);
  const evalTimes = target === 'binary' ? [] : settings.evalTimes ?? defaultEvalTimes(cases);
  return { config, target, settings, cases, splits, evalTimes, container: llm.container, models: llm.models };
}

async function chooseSplits(o: CrossValidateOptions, dataRoot: string, cases: readonly Case[], settings: TrainSettings, target: TargetKind): Promise<Splits> {
  const ids = new Set(cases.map((c) => c.id));
  const check = (s: Splits, file: string): Splits => {
    if (s.folds !== settings.folds) throw new Error(`${file}: has ${s.folds} folds, the config asks for train.folds = ${settings.folds}`);
    for (const a of s.assignments) {
      for (const id of [...a.train, ...a.val]) {
        if (!ids.has(id)) throw new Error(`${file}: fold ${a.fold + 1} names case '${id}', which is not a labelled case of the cohort`);
      }
    }
    const covered = new Set(s.assignments.flatMap((a) => a.val));
    const missing = [...ids].filter((id) => !covered.has(id));
    if (missing.length) throw new Error(`${file}: ${missing.length} labelled case(s) are in no validation fold, e.g. '${missing[0]}'; make the splits again`);
    return s;
  };
  const inRun = join(o.runDir, 'splits.json');
  if (o.resume && existsSync(inRun)) return check(await readSplits(inRun), inRun);
  if (o.splitsFile) return check(await readSplits(o.splitsFile), o.splitsFile);
  const inData = join(dataRoot, 'splits.json');
  if (existsSync(inData)) {
    const s = await readSplits(inData);
    // a data root's splits are stratified for the target they were made for (survival strata vs class strata)
    const madeFor: TargetKind = Object.keys(s.strata).some((k) => k.startsWith('class=')) ? 'binary' : 'survival';
    if (s.folds === settings.folds && madeFor === target) return check(s, inData);
  }
  return makeSplits(cases as Case[], { folds: settings.folds, seed: settings.seed, target });
}

/** The quartiles of the observed event times (type-1 quantiles: observed values), distinct. */
export function defaultEvalTimes(cases: readonly Case[]): number[] {
  const t = cases.filter((c) => c.label!.event).map((c) => c.label!.time).sort((a, b) => a - b);
  if (t.length === 0) return [];
  const q = (p: number) => t[Math.max(0, Math.ceil(p * t.length) - 1)]!;
  return [...new Set([q(0.25), q(0.5), q(0.75)])];
}

export async function crossValidate(ctx: TrainContext, o: CrossValidateOptions): Promise<RunSummary> {
  const started = Date.now();
  const runDir = resolve(o.runDir);
  const store = createRunContainer(ctx.container, { seed: 0, runDir }).resolve<RunStore>(TOKENS.RunStore);
  const logger = ctx.container.resolve<Logger>(TOKENS.Logger);
  const hasRun = existsSync(join(runDir, RESOLVED_CONFIG_FILE));
  if (hasRun && !o.resume) {
    throw new Error(`${runDir} already holds a run (config.resolved.json); pass --resume to continue it, or choose another --out. Nothing was changed.`);
  }
  // Fold workers receive the parent's bags in SharedArrayBuffers: loaded once, one copy in memory.
  const run = await prepareRun(ctx, o, { shared: (o.workers ?? 1) > 1 });
  try {
    return await runFolds(ctx, o, run, { started, runDir, store, logger, hasRun });
  } finally {
    await run.models.dispose();
  }
}

async function runFolds(
  ctx: TrainContext, o: CrossValidateOptions, run: PreparedRun,
  env: { started: number; runDir: string; store: RunStore; logger: Logger; hasRun: boolean },
): Promise<RunSummary> {
  const { started, runDir, store, logger, hasRun } = env;
  const { config, target, settings, cases, splits, evalTimes } = run;
  if (hasRun) {
    const previous = (await readResolvedConfig(store)).config;
    const { _sources_: _a, ...now } = config;
    if (JSON.stringify(previous) !== JSON.stringify(now)) {
      throw new Error(`${runDir}: --resume with a config that differs from the one this run started with (${join(runDir, RESOLVED_CONFIG_FILE)}); use the same config or another --out`);
    }
  }

  const { sources } = await import('../config/load.js').then((m) => m.loadConfig(o.configFile));
  await saveResolvedConfig(store, config, sources);
  const cacheDir = run.container.isRegistered(TOKENS.KnowledgeCacheDir, true) ? run.container.resolve<string>(TOKENS.KnowledgeCacheDir) : null;
  await store.writeJson(RUN_LLM_FILE, runLlmRecord(run.models.allOptions(), cacheDir));
  await recordFeatureExtractor(cases, store, logger);
  await writeSplits(join(runDir, 'splits.json'), splits);

  const byId = new Map(cases.map((c) => [c.id, c]));
  const workers = Math.max(1, Math.min(o.workers ?? 1, settings.folds));
  const progress = ctx.container.resolve<ProgressReporter>(TOKENS.Progress);
  const foldsTask = progress.start(`training ${settings.folds} folds`, settings.folds);
  const foldDone = (r: FoldResult) => foldsTask.tick(1, foldStatus(r));
  let results: FoldResult[];
  if (workers > 1) {
    const { runFoldsInWorkers } = await import('./fold-pool.js');
    results = await runFoldsInWorkers({
      configFile: resolve(o.configFile), runDir, workers, folds: settings.folds, resume: o.resume ?? false,
      backend: ctx.backend.name, pluginFiles: o.pluginFiles ?? [], ...(o.splitsFile ? { splitsFile: resolve(o.splitsFile) } : {}),
      ...(o.stopAfterEpochs !== undefined ? { stopAfterEpochs: o.stopAfterEpochs } : {}),
      ...(progress.mode ? { progress: progress.mode } : {}),
      ...(logger instanceof ConsoleLogger ? { logLevel: logger.level } : {}),
      bags: bagsByCase(cases),
    }, logger, foldDone);
  } else {
    results = [];
    for (const a of splits.assignments) {
      results.push(await trainFold({
        fold: a.fold,
        train: a.train.map((id) => byId.get(id)!),
        val: a.val.map((id) => byId.get(id)!),
        config: config as ModelConfig & Record<string, unknown>,
        settings, registries: ctx.registries, parent: run.container, runDir, evalTimes,
        resume: o.resume ?? false,
        ...(o.stopAfterEpochs !== undefined ? { stopAfterEpochs: o.stopAfterEpochs } : {}),
      }));
      foldDone(results[results.length - 1]!);
    }
  }
  foldsTask.tick(0, foldsStatus(results));
  foldsTask.done();
  const name = typeof config['name'] === 'string' ? (config['name'] as string) : basename(runDir);
  const summary = runSummary(name, results, { seed: settings.seed, backend: ctx.backend.name, seconds: (Date.now() - started) / 1000, evalTimes, config });
  if (results.some((r) => r.interrupted)) return summary;
  if (target === 'binary') {
    await store.writeText('oof.csv', binaryOofCsv(results.flatMap((r) => (r.target === 'binary' ? r.rows : []))));
  } else {
    const oof = results.flatMap((r) => (r.target === 'binary' ? [] : r.rows));
    await store.writeText('oof.csv', oofCsv(oof, evalTimes));
    try {
      await store.writeJson(RUN_CALIBRATION_FILE, runCalibration(oof));
    } catch (err) {
      logger.warn(`no run-level time calibration (${(err as Error).message}); predictions use the folds' mean calibrated time`);
    }
  }
  await store.writeJson('summary.json', summary);
  await store.writeText('summary.csv', summaryCsv(summary));
  return summary;
}

export { formatRunSummary };

const foldScore = (r: FoldResult): number | null => (r.target === 'binary' ? r.metrics?.auc : r.metrics?.harrell_c) ?? null;
const scoreName = (r: FoldResult) => (r.target === 'binary' ? 'AUC' : 'C');

/** One fold in the overall training progress: 'fold 2 C 0.713 (14s)', 'fold 2 AUC 0.690 (9s)', 'fold 2 stopped ...'. */
export function foldStatus(r: FoldResult): string {
  if (r.interrupted) return `fold ${r.fold + 1} stopped after epoch ${r.epochs}`;
  const score = foldScore(r);
  return `fold ${r.fold + 1} ${scoreName(r)} ${score === null ? '-' : score.toFixed(3)} (${r.seconds.toFixed(0)}s)`;
}

/** The last word of the overall training progress: 'mean C 0.702 over 5 folds'. */
export function foldsStatus(results: readonly FoldResult[]): string {
  if (results.some((r) => r.interrupted)) return `stopped: ${results.filter((r) => r.interrupted).length} fold(s) unfinished`;
  const scores = results.map(foldScore).filter((x): x is number => x !== null);
  if (results.length === 0 || scores.length === 0) return `${results.length} folds, no validation score`;
  return `mean ${scoreName(results[0]!)} ${(scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(3)} over ${scores.length} folds`;
}

/** The run-level time calibration (what `predict` and a packaged container apply to the mean risk over folds). */
export const RUN_CALIBRATION_FILE = 'calibration.json';

/**
 * Kaplan-Meier time calibration of the whole run: fitted on the out-of-fold risks and the Kaplan-Meier curve of every
 * case. Applied to the fold-mean risk of a new case it gives one time that is strictly decreasing in that risk, so
 * ensemble outputs keep the ensemble's risk order exactly (a mean of per-fold calibrated times would not).
 */
export function runCalibration(oof: readonly { time: number; event: number; risk: number }[]): KmTimeCalibration {
  return fitKmTimeCalibration(oof.map((r) => r.risk), kaplanMeierSteps(oof.map((r) => r.time), oof.map((r) => r.event)));
}

/** Read a finished run's summary (for evaluate/predict). */
export async function readRunSummary(runDir: string): Promise<RunSummary> {
  const file = join(runDir, 'summary.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunSummary;
  } catch (err) {
    throw new Error(`${file}: cannot read the run summary (${(err as Error).message}); did \`mmsurv train\` finish for this run?`);
  }
}
