/**
 * A binary-target run end to end (cpu backend): cross-validation of a BRS3 classifier on a small synthetic CHIMERA
 * cohort read by the `chimera-task2` reader. Checks the run's files and their shapes (no time calibration), that every
 * summary metric is the scikit-learn-tested metric of that fold's oof rows, class-stratified splits, that `evaluate`
 * reproduces the summary from oof.csv, that a reloaded run predicts exactly the probabilities in oof.csv for its
 * validation cases, determinism by seed, no tensor leak, and that `package` refuses a binary run for a survival task.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTask3 } from '../../../challenges/chimera/task3.js';
import { writeBuildContext } from '../../../containers/build-context.js';
import { binaryReport } from '../../../core/classification/metrics.js';
import type { Backend } from '../../../core/contracts/backend.js';
import { readCohort } from '../../../core/data/read-cohort.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { buildContext, createRootContainer, createRunContainer } from '../../../core/di/container.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { crossValidate } from '../../../core/train/cross-validate.js';
import { evaluateRun } from '../../../core/train/evaluate-run.js';
import { loadRun, predictWithRun } from '../../../core/train/load-run.js';
import { loadCaseBags } from '../../../core/train/prepare-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-binary-'));
const registries = await loadRegistries({ builtins: registerCoreComponents });
const backend = { name: 'cpu', explicitTransposeGrad: false } as unknown as Backend;
const logger = new MemoryLogger();
const container = () => createRootContainer({ logger, progress: new StreamProgress({ quiet: true }), registries, backend });
const ctx = () => ({ registries, backend, container: container() });

beforeAll(async () => {
  await tf.setBackend('cpu');
  await synthesizeCohort({ out: join(dir, 'cohort'), cases: 60, seed: 2, layout: 'chimera-task3', difficulty: 'easy', featureDim: 8, genes: 20, minPatches: 10, maxPatches: 30 });
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    name: 'brs',
    data: { format: 'chimera-task2', root: 'cohort' },
    encoders: { wsi: { type: 'abmil', dim: 8, attentionDim: 4 }, clinical: { type: 'tabular' } },
    fusion: { type: 'concat' },
    head: { type: 'binary', positiveWeight: 'balanced' },
    train: { folds: 3, epochs: 12, batchSize: 8, lr: 0.01, seed: 5, maxPatches: 12, sampling: 'balanced' },
  }));
}, 60_000);

const read = (rel: string) => readFileSync(join(dir, rel), 'utf8');
const oofRows = (run: string) => read(`${run}/oof.csv`).trim().split('\n').slice(1).map((l) => l.split(','));

describe('a binary (BRS3) run', () => {
  it('writes oof.csv id,fold,label,probability,logit and a binary summary whose metrics are those of the oof rows', async () => {
    const before = tf.memory().numTensors;
    const s = await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir: join(dir, 'runs/a') });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.target).toBe('binary');
    expect(read('runs/a/oof.csv').split('\n')[0]).toBe('id,fold,label,probability,logit');
    expect(existsSync(join(dir, 'runs/a/calibration.json'))).toBe(false);
    expect(existsSync(join(dir, 'runs/a/fold-1/model/calibration.json'))).toBe(false);
    expect(read('runs/a/summary.csv').split('\n')[0]).toBe('fold,n_train,n_val,positives_val,epochs,best_epoch,auc,f1_weighted,accuracy,log_loss,brier,seconds');

    const cohort = await readCohort(registries, { format: 'chimera-task2', root: join(dir, 'cohort') }, buildContext(createRunContainer(container(), { seed: 0 }), 'data'));
    const labelled = cohort.cases.filter((c) => c.binary);
    const rows = oofRows('runs/a');
    expect(rows).toHaveLength(labelled.length);
    const truth = new Map(labelled.map((c) => [c.id, c.binary!.positive ? 1 : 0]));
    for (const r of rows) {
      expect(Number(r[2]), r[0]).toBe(truth.get(r[0]!));
      expect(Number(r[3])).toBeCloseTo(1 / (1 + Math.exp(-Number(r[4]))), 6);
    }
    const summary = JSON.parse(read('runs/a/summary.json'));
    expect(summary.c_index_mean).toBeNull();
    for (const f of summary.folds) {
      const fr = rows.filter((x) => Number(x[1]) === f.fold);
      const ref = binaryReport(fr.map((x) => Number(x[2])), fr.map((x) => Number(x[3])));
      expect(f.positives_val).toBe(ref.positives);
      expect(f.auc).toBeCloseTo(ref.auc!, 12);
      expect(f.f1_weighted).toBeCloseTo(ref.f1_weighted, 12);
      expect(f.brier).toBeCloseTo(ref.brier, 12);
    }
    expect(s.auc_mean).toBeCloseTo(summary.folds.reduce((a: number, f: { auc: number }) => a + f.auc, 0) / 3, 12);
    // class-stratified splits
    const splits = JSON.parse(read('runs/a/splits.json'));
    expect(Object.keys(splits.strata).sort()).toEqual(['class=0', 'class=1']);
    const pos = splits.strata['class=1'];
    for (const f of summary.folds) expect([Math.floor(pos / 3), Math.ceil(pos / 3)]).toContain(f.positives_val);
    // a signal the model can learn (easy difficulty): the pooled out-of-fold AUC beats chance
    expect(s.auc_pooled_oof).toBeGreaterThan(0.6);
  }, 180_000);

  it('evaluate reproduces the summary from oof.csv alone', async () => {
    const saved = JSON.parse(read('runs/a/summary.json'));
    const again = await evaluateRun(join(dir, 'runs/a'));
    expect(again.target).toBe('binary');
    expect(again.auc_mean).toBeCloseTo(saved.auc_mean, 12);
    expect(again.f1_weighted_mean).toBeCloseTo(saved.f1_weighted_mean, 12);
    expect(again.log_loss_mean).toBeCloseTo(saved.log_loss_mean, 12);
  });

  it('a reloaded run gives each validation case the probability oof.csv holds (its fold), and the fold mean overall', async () => {
    const run = await loadRun(registries, container(), join(dir, 'runs/a'));
    try {
      expect(run.target).toBe('binary');
      const cohort = await readCohort(registries, { format: 'chimera-task2', root: join(dir, 'cohort') }, buildContext(createRunContainer(container(), { seed: 0 }), 'data'));
      const rows = oofRows('runs/a').slice(0, 8);
      const cases = await loadCaseBags(rows.map((r) => cohort.cases.find((c) => c.id === r[0])!), new StreamProgress({ quiet: true }));
      const preds = predictWithRun(run, cases);
      preds.forEach((p, i) => {
        const own = p.perFold.find((f) => f.fold === Number(rows[i]![1]))!;
        expect(own.probability!).toBeCloseTo(Number(rows[i]![3]), 6);
        expect(p.probability!).toBeCloseTo(p.perFold.reduce((a, f) => a + f.probability!, 0) / 3, 12);
        expect(p.time).toBeUndefined();
      });
    } finally {
      run.dispose();
    }
  }, 60_000);

  it('the same seed gives the same out-of-fold predictions', async () => {
    await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir: join(dir, 'runs/b') });
    expect(read('runs/b/oof.csv')).toBe(read('runs/a/oof.csv'));
  }, 180_000);

  it('package refuses a binary run for a survival (time) task and says what to train', async () => {
    await expect(writeBuildContext({
      registries, logger, runDir: join(dir, 'runs/a'), challenge: 'chimera-task3', adapter: createTask3(), target: 'cpu', tag: 't', out: join(dir, 'ctx'),
    })).rejects.toThrow(/--challenge chimera-task3 needs a time-like survival output; this run .* has a binary head/);
    expect(existsSync(join(dir, 'ctx'))).toBe(false);
  });
});
