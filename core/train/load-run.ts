/**
 * A finished run read back from its directory: the resolved config, the evaluation times, and per fold the saved
 * model (state + weights, rebuilt without refitting anything) with its Kaplan-Meier time calibration.
 *
 * @example
 * const run = await loadRun(registries, container, 'runs/bilinear');
 * const preds = predictWithRun(run, cases);   // mean over folds: risk, S(t) at the eval times, calibrated time
 *                                             // (binary runs: mean logit and mean probability)
 * run.dispose();
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { TargetKind } from '../contracts/binary-label.js';
import type { Case } from '../contracts/case.js';
import { readResolvedConfig } from '../config/save.js';
import { createRunContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import type { RunStore } from '../contracts/run-store.js';
import { SurvivalModel, type CaseExplanation, type ModelConfig, type ModelState } from '../model/survival-model.js';
import { readTensorBundle } from '../model/tensor-bundle.js';
import type { Registries } from '../registry/registry.js';
import { kmTime, type KmTimeCalibration } from '../survival/calibration.js';
import { survivalAt } from '../survival/kaplan-meier.js';
import { readRunSummary, RUN_CALIBRATION_FILE } from './cross-validate.js';
import { foldDirName } from './train-fold.js';
import { withLlmServices } from '../llm/language-models.js';
import { llmSectionWithPaths, readRunLlm } from '../llm/run-llm.js';

export interface LoadedFold {
  fold: number;
  model: SurvivalModel;
  /** The fold's time calibration (survival runs; binary runs have none). */
  calibration: KmTimeCalibration | null;
}

export interface LoadedRun {
  dir: string;
  config: Record<string, unknown>;
  /** What the run's head predicts: survival, or a binary class. */
  target: TargetKind;
  evalTimes: number[];
  folds: LoadedFold[];
  /** The run-level calibration of the fold-mean risk (calibration.json of the run); absent in runs made before it. */
  calibration?: KmTimeCalibration;
  /** The run's container: its language models and knowledge cache (attach knowledge in it). */
  container: DependencyContainer;
  /** Frozen per-case work every fold's model needs before predicting these cases (e.g. LLM embeddings). */
  prepare(cases: readonly Case[]): Promise<void>;
  dispose(): void;
}

export interface LoadRunOptions {
  /** Knowledge cache folder; default: the one recorded in the run's llm.json (null: none). */
  cacheDir?: string | null;
  /** GGUF path per model name; default: the paths recorded in llm.json. */
  modelPaths?: Record<string, string>;
}

export async function loadRun(registries: Registries, parent: DependencyContainer, runDir: string, onlyFold?: number, opts: LoadRunOptions = {}): Promise<LoadedRun> {
  const dir = resolve(runDir);
  const { config } = await readResolvedConfig(createRunContainer(parent, { seed: 0, runDir: dir }).resolve<RunStore>(TOKENS.RunStore));
  const recorded = await readRunLlm(dir);
  const cacheDir = opts.cacheDir !== undefined ? opts.cacheDir : recorded?.cacheDir ?? null;
  const llm = withLlmServices(parent, config, dir, cacheDir, llmSectionWithPaths(config, { ...(recorded?.models ?? {}), ...(opts.modelPaths ?? {}) }));
  const container = createRunContainer(llm.container, { seed: 0, runDir: dir });
  const summary = await readRunSummary(dir);
  const target: TargetKind = summary.target ?? 'survival';
  const foldNumbers = onlyFold !== undefined ? [onlyFold] : summary.folds.map((f) => f.fold - 1);
  const folds: LoadedFold[] = [];
  try {
    for (const k of foldNumbers) {
      const mdir = join(dir, foldDirName(k), 'model');
      const read = async (f: string) => {
        try {
          return JSON.parse(await readFile(join(mdir, f), 'utf8')) as unknown;
        } catch (err) {
          throw new Error(`${join(mdir, f)}: cannot read (${(err as Error).message}); fold ${k + 1} of this run has no saved model`);
        }
      };
      const state = (await read('state.json')) as ModelState;
      const calibration = target === 'binary' ? null : ((await read('calibration.json')) as KmTimeCalibration);
      const weights = await readTensorBundle(join(mdir, 'weights'));
      const model = SurvivalModel.restore(registries, config as unknown as ModelConfig, container, state, weights);
      folds.push({ fold: k, model, calibration });
    }
  } catch (err) {
    for (const f of folds) f.model.dispose();
    await llm.models.dispose();
    throw err;
  }
  const runCal = await readFile(join(dir, RUN_CALIBRATION_FILE), 'utf8').then((t) => JSON.parse(t) as KmTimeCalibration, () => undefined);
  return {
    dir, config, target, evalTimes: summary.eval_times, folds,
    ...(runCal && onlyFold === undefined ? { calibration: runCal } : {}),
    container,
    prepare: async (cases) => {
      for (const f of folds) await f.model.prepare(cases);
    },
    dispose: () => {
      folds.forEach((f) => f.model.dispose());
      void llm.models.dispose();
    },
  };
}

export interface RunPrediction {
  caseId: string;
  /** Mean over the folds' models (binary runs: the mean logit). */
  risk: number;
  /**
   * Survival runs: the calibrated time-like output: the run-level calibration of the mean risk (strictly decreasing
   * in `risk`, so the outputs keep the risk order); with one fold, or a run without calibration.json, the folds' mean
   * calibrated time. Absent for binary runs.
   */
  time?: number;
  /** Binary runs: the mean over folds of P(positive). */
  probability?: number;
  /** Mean S(t) at the run's evaluation times, or null when the head gives no curve. */
  survival: number[] | null;
  /** Heads that explain in words (e.g. the LLM-distillation student): the first fold's explanation. */
  explanation?: string;
  /** The head's component curves (e.g. { hidden, verbalised }), each the mean over folds at the evaluation times. */
  curves?: Record<string, number[]>;
  perFold: { fold: number; risk: number; time?: number; probability?: number }[];
}

export function predictWithRun(run: LoadedRun, cases: readonly Case[]): RunPrediction[] {
  const perFold = run.folds.map((f) => ({ f, preds: f.model.predict(cases) }));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (run.target === 'binary') {
    return cases.map((c, i) => {
      const items = perFold.map(({ f, preds }) => ({ fold: f.fold + 1, risk: preds[i]!.risk, probability: preds[i]!.probability! }));
      return { caseId: c.id, risk: mean(items.map((x) => x.risk)), probability: mean(items.map((x) => x.probability)), survival: null, perFold: items };
    });
  }
  return cases.map((c, i) => {
    const items = perFold.map(({ f, preds }) => {
      const p = preds[i]!;
      const surv = p.times && p.survival ? run.evalTimes.map((t) => survivalAt({ time: p.times!, surv: p.survival! }, t)) : null;
      return { fold: f.fold + 1, risk: p.risk, time: kmTime(f.calibration!, p.risk), surv };
    });
    const survival = items.every((x) => x.surv) ? run.evalTimes.map((_, k) => mean(items.map((x) => x.surv![k]!))) : null;
    const first = perFold[0]!.preds[i]!;
    const curveNames = Object.keys(first.curves ?? {}).filter((name) => perFold.every(({ preds }) => preds[i]!.curves?.[name] && preds[i]!.times));
    const curves = Object.fromEntries(curveNames.map((name) => [
      name,
      run.evalTimes.map((t) => mean(perFold.map(({ preds }) => survivalAt({ time: preds[i]!.times!, surv: preds[i]!.curves![name]! }, t)))),
    ]));
    return {
      caseId: c.id,
      ...(first.explanation !== undefined ? { explanation: first.explanation } : {}),
      ...(curveNames.length ? { curves } : {}),
      risk: mean(items.map((x) => x.risk)),
      time: run.calibration ? kmTime(run.calibration, mean(items.map((x) => x.risk))) : mean(items.map((x) => x.time)),
      survival,
      perFold: items.map(({ fold, risk, time }) => ({ fold, risk, time })),
    };
  });
}

/** Attention of one case under the first fold's model, summarised per map: tokens, top entries, entropy. */
export function attentionSummary(run: LoadedRun, c: Case, top = 5): { name: string; tokens: number; top: { index: number; weight: number }[]; entropy: number }[] {
  const ex: CaseExplanation = run.folds[0]!.model.explain(c);
  return Object.entries(ex).map(([name, w]) => {
    const sum = w.reduce((a, b) => a + Math.abs(b), 0) || 1;
    const p = Array.from(w, (x) => Math.abs(x) / sum);
    const entropy = -p.reduce((a, x) => (x > 0 ? a + x * Math.log(x) : a), 0);
    const order = p.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).slice(0, top);
    return { name, tokens: w.length, top: order.map(([x, i]) => ({ index: i, weight: x })), entropy };
  });
}
