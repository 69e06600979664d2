/**
 * Train and evaluate one cross-validation fold.
 *
 * Per epoch e: every random stream restarts in scope `epoch-e` (ScopedRandom), the training cases are ordered
 * (shuffle or class-balanced), each case keeps at most `maxPatches` patches, batches of `batchSize` give gradients
 * that are averaged over `gradAccumulation` batches before one optimiser step; then the validation fold is
 * predicted (Harrell's C, loss), the best epoch so far is kept (from `minEpochs` on), early stopping is checked and
 * a checkpoint is written. A resumed fold continues from its last checkpoint and, because nothing random depends on
 * what happened before an epoch, ends with the same weights as an uninterrupted run.
 *
 * After training: the selected weights, the head's baseline (Cox), the Kaplan-Meier time calibration fitted on the
 * training risks, and the validation predictions are saved in `fold-K/`; `fold-K/result.json` is written last and
 * marks the fold as done.
 *
 * A binary head (`Head.target === 'binary'`) changes what is scored, not how it trains: the validation "C" is the
 * ROC AUC, the fold's metrics are a BinaryReport (AUC, weighted F1 at 0.5, accuracy, log loss, Brier), its rows
 * carry the class and P(positive), and there is no baseline or time calibration.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { Case } from '../contracts/case.js';
import type { Logger } from '../contracts/logger.js';
import type { ProgressReporter } from '../contracts/progress.js';
import type { SurvivalPrediction } from '../contracts/survival-prediction.js';
import { createRunContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import { SurvivalModel, type ModelConfig } from '../model/survival-model.js';
import { writeTensorBundle, type TensorEntry } from '../model/tensor-bundle.js';
import type { Registries } from '../registry/registry.js';
import { ScopedRandom } from '../services/scoped-random.js';
import { writeFileAtomic } from '../services/run-store.js';
import { fitKmTimeCalibration, kaplanMeierSteps, kmTime, type KmTimeCalibration } from '../survival/calibration.js';
import { binaryReport, rocAuc, type BinaryReport } from '../classification/metrics.js';
import { harrellC } from '../survival/concordance.js';
import { survivalAt } from '../survival/kaplan-meier.js';
import { survivalReport, type SurvivalReport } from '../survival/metrics-report.js';
import { readCheckpoint, removeCheckpoints, writeCheckpoint, type EpochRecord, type LoopState } from './checkpoint.js';
import { learningRate, Optimizer } from './optimizer.js';
import { epochOrder, samplePatches } from './sampling.js';
import type { TrainSettings } from './settings.js';

export interface FoldInput {
  fold: number;
  train: Case[];
  val: Case[];
  config: ModelConfig & Record<string, unknown>;
  settings: TrainSettings;
  registries: Registries;
  /** Root container (logger, progress, backend). */
  parent: DependencyContainer;
  runDir: string;
  evalTimes: number[];
  resume: boolean;
  /** Stop after this many epochs of this call (tests of resume: simulate a kill). */
  stopAfterEpochs?: number;
}

export interface OofRow {
  id: string;
  fold: number;
  time: number;
  event: number;
  risk: number;
  /** Calibrated time-like output (larger = later event). */
  predictedTime: number;
  /** S(t) at the run's evaluation times (null when the head gives no curve). */
  surv: number[] | null;
}

/** One validation case of a binary run. */
export interface BinaryOofRow {
  id: string;
  fold: number;
  /** 1 = positive class. */
  label: number;
  /** The logit (higher = more likely positive). */
  risk: number;
  probability: number;
}

interface FoldBase {
  fold: number;
  nTrain: number;
  nVal: number;
  epochs: number;
  bestEpoch: number | null;
  history: EpochRecord[];
  metricsNote?: string;
  seconds: number;
  /** True when the fold stopped early because `stopAfterEpochs` was reached (not finished). */
  interrupted?: boolean;
}

/** A survival fold (`target` absent in runs written before binary heads existed). */
export interface SurvivalFoldResult extends FoldBase {
  target?: 'survival';
  metrics: SurvivalReport | null;
  rows: OofRow[];
}

export interface BinaryFoldResult extends FoldBase {
  target: 'binary';
  metrics: BinaryReport | null;
  rows: BinaryOofRow[];
}

export type FoldResult = SurvivalFoldResult | BinaryFoldResult;

export const foldDirName = (fold: number) => `fold-${fold + 1}`;

export async function trainFold(input: FoldInput): Promise<FoldResult> {
  const { fold, train, val, settings } = input;
  const foldDir = join(input.runDir, foldDirName(fold));
  await mkdir(foldDir, { recursive: true });
  const resultFile = join(foldDir, 'result.json');
  if (input.resume) {
    const done = await readFile(resultFile, 'utf8').catch(() => null);
    if (done) return JSON.parse(done) as FoldResult;
  }
  const started = Date.now();
  const container = createRunContainer(input.parent, { seed: settings.seed, runDir: foldDir });
  const random = new ScopedRandom(settings.seed, `fold-${fold + 1}`);
  container.register(TOKENS.Random, { useValue: random });
  const logger = container.resolve<Logger>(TOKENS.Logger);
  const progress = container.resolve<ProgressReporter>(TOKENS.Progress);

  random.setScope('init');
  const model = SurvivalModel.create(input.registries, input.config, container);
  const target = model.target;
  try {
    await model.prepare([...train, ...val]);
    model.fit(train);
    const vars = model.variables;
    const optimizer = new Optimizer(settings.optimizer, vars, { weightDecay: settings.weightDecay });
    try {
      let loop: LoopState = {
        epoch: 0, history: [], bestEpoch: null, bestScore: null, sinceBest: 0, stopped: false,
        optimizer: { name: settings.optimizer, step: 0 }, modelState: model.state(),
      };
      let best: TensorEntry[] | null = null;
      const ck = input.resume ? await readCheckpoint(foldDir) : null;
      if (ck) {
        model.setWeights(ck.weights, `${foldDir} checkpoint`);
        optimizer.setState({ name: ck.loop.optimizer.name, step: ck.loop.optimizer.step, m: ck.m.map((e) => e.data), v: ck.v.map((e) => e.data) });
        loop = ck.loop;
        best = ck.best;
        logger.info(`fold ${fold + 1}: resumed after epoch ${loop.epoch} (checkpoint in ${foldDir})`);
      } else {
        await removeCheckpoints(foldDir);
      }

      const batchesPerEpoch = Math.ceil(train.length / settings.batchSize);
      const stepsPerEpoch = Math.ceil(batchesPerEpoch / settings.gradAccumulation);
      const totalSteps = stepsPerEpoch * settings.epochs;
      const warmupSteps = Math.round(settings.warmupEpochs * stepsPerEpoch);
      let epochsThisCall = 0;

      for (let epoch = loop.epoch + 1; epoch <= settings.epochs && !loop.stopped; epoch++) {
        if (input.stopAfterEpochs !== undefined && epochsThisCall >= input.stopAfterEpochs) {
          const base = { fold, nTrain: train.length, nVal: val.length, epochs: loop.epoch, bestEpoch: loop.bestEpoch, history: loop.history, seconds: (Date.now() - started) / 1000, interrupted: true };
          return target === 'binary' ? { ...base, target, metrics: null, rows: [] } : { ...base, metrics: null, rows: [] };
        }
        const t0 = Date.now();
        random.setScope(`epoch-${epoch}`);
        const rng = random.fork('trainer');
        const order = epochOrder(train, settings.sampling, rng.fork('order'), target);
        const patchRng = rng.fork('patches');
        const task = progress.start(`fold ${fold + 1}/${settings.folds} epoch ${epoch}/${settings.epochs}`, batchesPerEpoch);
        let lossSum = 0;
        let lossCount = 0;
        let acc: tf.Tensor[] | null = null;
        let accCount = 0;
        let lr = settings.lr;
        for (let b = 0; b < batchesPerEpoch; b++) {
          const batch = order.slice(b * settings.batchSize, (b + 1) * settings.batchSize).map((c) => samplePatches(c, settings.maxPatches, patchRng));
          const { value, grads } = tf.variableGrads(() => model.loss(batch, 'train'), vars);
          const v = value.dataSync()[0]!;
          value.dispose();
          if (!Number.isFinite(v)) {
            tf.dispose(Object.values(grads));
            throw new Error(`fold ${fold + 1}, epoch ${epoch}: the training loss became ${v} (cases ${batch.map((c) => c.id).join(', ')}); lower train.lr (now ${settings.lr}) or check the inputs for extreme values`);
          }
          lossSum += v;
          lossCount++;
          const aligned = vars.map((x) => grads[x.name] ?? null);
          if (!acc) {
            acc = vars.map((x, i) => aligned[i] ?? tf.zerosLike(x));
          } else {
            const prev: tf.Tensor[] = acc;
            acc = prev.map((a, i) => (aligned[i] ? tf.add(a, aligned[i]!) : a));
            prev.forEach((a, i) => { if (aligned[i]) a.dispose(); });
            tf.dispose(aligned.filter((g): g is tf.Tensor => g !== null));
          }
          accCount++;
          if (accCount === settings.gradAccumulation || b === batchesPerEpoch - 1) {
            lr = learningRate(settings.schedule, settings.lr, optimizer.step, totalSteps, warmupSteps);
            const scaled = accCount === 1 ? acc : acc.map((a) => tf.div(a, accCount));
            optimizer.apply(scaled, lr);
            if (scaled !== acc) tf.dispose(scaled);
            tf.dispose(acc);
            acc = null;
            accCount = 0;
          }
          task.tick(1, `loss ${(lossSum / lossCount).toFixed(4)}`);
        }
        const evalResult = evaluateFold(model, val);
        task.tick(0, `loss ${(lossSum / lossCount).toFixed(4)} val ${target === 'binary' ? 'AUC' : 'C'} ${evalResult.c === null ? '-' : evalResult.c.toFixed(3)}`);
        task.done();
        const record: EpochRecord = { epoch, trainLoss: lossSum / lossCount, valLoss: evalResult.loss, valC: evalResult.c, lr, seconds: (Date.now() - t0) / 1000 };
        loop.history.push(record);
        loop.epoch = epoch;
        loop.optimizer = { name: settings.optimizer, step: optimizer.step };
        const metric = settings.earlyStopping?.metric ?? 'c-index';
        const score = metric === 'c-index' ? evalResult.c : evalResult.loss === null ? null : -evalResult.loss;
        if (epoch >= settings.minEpochs) {
          if (score !== null && (loop.bestScore === null || score > loop.bestScore)) {
            loop.bestScore = score;
            loop.bestEpoch = epoch;
            loop.sinceBest = 0;
            best = model.weights();
          } else {
            loop.sinceBest++;
          }
          if (settings.earlyStopping && loop.sinceBest >= settings.earlyStopping.patience) {
            loop.stopped = true;
            logger.info(`fold ${fold + 1}: early stop after epoch ${epoch} (no better validation ${metric} for ${loop.sinceBest} epochs; best epoch ${loop.bestEpoch})`);
          }
        }
        const moments = optimizer.getState();
        await writeCheckpoint(foldDir, {
          loop, weights: model.weights(), best,
          m: moments.m.map((data, i) => ({ name: `m/${i}`, shape: vars[i]!.shape.slice(), data })),
          v: moments.v.map((data, i) => ({ name: `v/${i}`, shape: vars[i]!.shape.slice(), data })),
        });
        epochsThisCall++;
      }

      if (settings.selection === 'best' && best) model.setWeights(best, `fold ${fold + 1} best weights`);
      const base = { fold, nTrain: train.length, nVal: val.length, epochs: loop.epoch, bestEpoch: loop.bestEpoch, history: loop.history };
      let result: FoldResult;
      let calibration: KmTimeCalibration | null = null;
      const valPreds = () => model.predict(val);
      if (target === 'binary') {
        const preds = valPreds();
        const rows = val.map((c, i) => binaryOofRow(c, fold, preds[i]!));
        const { metrics, note } = binaryFoldMetrics(rows);
        result = { ...base, target, metrics, ...(note ? { metricsNote: note } : {}), rows, seconds: 0 };
      } else {
        // one eval pass over the training fold: its risks fit both the baseline and the time calibration
        const trainRisks = model.predict(train).map((p) => p.risk);
        model.fitBaseline(train, trainRisks);
        calibration = fitKmTimeCalibration(
          trainRisks,
          kaplanMeierSteps(train.map((c) => c.label!.time), train.map((c) => (c.label!.event ? 1 : 0))),
        );
        const preds = valPreds();
        const rows = val.map((c, i) => oofRow(c, fold, preds[i]!, calibration!, input.evalTimes));
        const { metrics, note } = foldMetrics(rows, input.evalTimes);
        result = { ...base, metrics, ...(note ? { metricsNote: note } : {}), rows, seconds: 0 };
      }
      if (result.metricsNote) logger.warn(`fold ${fold + 1}: ${result.metricsNote}`);

      await saveModel(join(foldDir, 'model'), model, calibration);
      result.seconds = (Date.now() - started) / 1000;
      await writeFileAtomic(resultFile, JSON.stringify(result) + '\n');
      await removeCheckpoints(foldDir);
      return result;
    } finally {
      optimizer.dispose();
    }
  } finally {
    model.dispose();
  }
}

/**
 * Validation C-index (binary heads: ROC AUC) and loss in eval mode (null when undefined, e.g. no comparable pair or a
 * single class).
 */
function evaluateFold(model: SurvivalModel, val: readonly Case[]): { c: number | null; loss: number | null } {
  const { predictions: preds, loss } = model.evaluate(val);
  let c: number | null = null;
  try {
    c = model.target === 'binary'
      ? rocAuc(val.map((x) => (x.binary!.positive ? 1 : 0)), preds.map((p) => p.risk))
      : harrellC(val.map((x) => x.label!.time), val.map((x) => (x.label!.event ? 1 : 0)), preds.map((p) => p.risk)).cIndex;
  } catch {
    c = null;
  }
  return { c, loss: Number.isFinite(loss) ? loss : null };
}

function oofRow(c: Case, fold: number, p: SurvivalPrediction, map: KmTimeCalibration, times: readonly number[]): OofRow {
  const surv = p.times && p.survival ? times.map((t) => survivalAt({ time: p.times!, surv: p.survival! }, t)) : null;
  return { id: c.id, fold, time: c.label!.time, event: c.label!.event ? 1 : 0, risk: p.risk, predictedTime: kmTime(map, p.risk), surv };
}

function binaryOofRow(c: Case, fold: number, p: SurvivalPrediction): BinaryOofRow {
  if (p.probability === undefined) throw new Error(`case ${c.id}: the binary head gave no probability`);
  return { id: c.id, fold, label: c.binary!.positive ? 1 : 0, risk: p.risk, probability: p.probability };
}

/** The fold's binary report on its validation cases (AUC null, with a note, when the fold holds one class). */
export function binaryFoldMetrics(rows: readonly BinaryOofRow[]): { metrics: BinaryReport | null; note?: string } {
  try {
    const metrics = binaryReport(rows.map((r) => r.label), rows.map((r) => r.probability));
    return { metrics, ...(metrics.auc === null ? { note: `AUC undefined: the validation cases hold one class only (${metrics.positives} positive of ${metrics.n})` } : {}) };
  } catch (err) {
    return { metrics: null, note: `metrics undefined: ${(err as Error).message}` };
  }
}

/** The fold's survival report on its validation cases; evaluation times outside its follow-up are left out. */
export function foldMetrics(rows: readonly OofRow[], evalTimes: readonly number[]): { metrics: SurvivalReport | null; note?: string } {
  const time = rows.map((r) => r.time);
  const event = rows.map((r) => r.event);
  const lo = Math.min(...time);
  const hi = Math.max(...time);
  const keep = evalTimes.map((t, k) => [t, k] as const).filter(([t]) => t >= lo && t < hi);
  const times = keep.map(([t]) => t);
  const surv = rows.every((r) => r.surv) ? rows.map((r) => keep.map(([, k]) => r.surv![k]!)) : undefined;
  const notes: string[] = [];
  if (keep.length < evalTimes.length) notes.push(`evaluation times outside this fold's follow-up [${lo}, ${hi}) were left out of AUC/Brier`);
  try {
    const { report, warnings } = survivalReport({
      time, event, risk: rows.map((r) => r.risk), times,
      ...(surv && times.length ? { surv } : {}),
      ...(times.length ? { tau: times[times.length - 1]! } : {}),
    });
    notes.push(...warnings);
    return { metrics: report, ...(notes.length ? { note: notes.join('; ') } : {}) };
  } catch (err) {
    notes.push(`metrics undefined: ${(err as Error).message}`);
    return { metrics: null, note: notes.join('; ') };
  }
}

/** Weights, state and (survival heads) the fold's time calibration; binary heads have none. */
export async function saveModel(dir: string, model: SurvivalModel, calibration: KmTimeCalibration | null): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeTensorBundle(join(dir, 'weights'), model.weights());
  if (calibration) await writeFileAtomic(join(dir, 'calibration.json'), JSON.stringify(calibration) + '\n');
  await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(model.state()) + '\n');
}
