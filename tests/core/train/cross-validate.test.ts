/**
 * k-fold training end to end on a small synthetic cohort (cpu backend): the run directory's files and their fixed
 * shapes, a killed-and-resumed run ending with the same predictions as an uninterrupted one, refusal to overwrite
 * a run, and `evaluate` recomputing the metrics from oof.csv alone.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../core/contracts/backend.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { createRootContainer } from '../../../core/di/container.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { harrellC } from '../../../core/survival/concordance.js';
import { crossValidate } from '../../../core/train/cross-validate.js';
import { evaluateRun } from '../../../core/train/evaluate-run.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-cv-'));
const registries = await loadRegistries({ builtins: registerCoreComponents });
const backend = { name: 'cpu', explicitTransposeGrad: false } as unknown as Backend;
const ctx = () => ({
  registries,
  backend,
  container: createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries, backend }),
});

beforeAll(async () => {
  await tf.setBackend('cpu');
  await synthesizeCohort({ out: join(dir, 'cohort'), cases: 48, seed: 3, layout: 'manifest', featureDim: 8, genes: 40, minPatches: 10, maxPatches: 30 });
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    data: { format: 'manifest', root: 'cohort' },
    encoders: { wsi: { type: 'abmil', dim: 8, attentionDim: 4 }, rna: { type: 'mlp', dims: [8] }, clinical: { type: 'tabular', outDim: null } },
    fusion: { type: 'chimera.lowrank-bilinear', rank: 4, pairs: [{ a: 'wsi', b: 'rna', out: 4 }, { a: 'wsi', b: 'clinical', out: 2 }, { a: 'rna', b: 'clinical', out: 2 }] },
    head: { type: 'discrete' },
    train: { folds: 3, epochs: 4, batchSize: 8, lr: 0.003, seed: 5, maxPatches: 12, sampling: 'balanced', earlyStopping: { metric: 'c-index', patience: 10 } },
  }));
}, 60_000);

const readOof = (run: string) => readFileSync(join(dir, run, 'oof.csv'), 'utf8');

describe('crossValidate', () => {
  it('writes the run files with their fixed shapes', async () => {
    const s = await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir: join(dir, 'runs/full') });
    for (const f of ['config.resolved.json', 'splits.json', 'oof.csv', 'summary.json', 'summary.csv', 'fold-1/model/weights.bin', 'fold-1/model/state.json', 'fold-1/model/calibration.json', 'fold-3/result.json']) {
      expect(existsSync(join(dir, 'runs/full', f)), f).toBe(true);
    }
    expect(existsSync(join(dir, 'runs/full/fold-1/checkpoint.json'))).toBe(false);
    const oof = readOof('runs/full').trim().split('\n');
    const header = oof[0]!.split(',');
    expect(header.slice(0, 5)).toEqual(['id', 'fold', 'time', 'event', 'risk']);
    expect(header.slice(5).every((h) => /^surv_[0-9.]+$/.test(h))).toBe(true);
    expect(oof).toHaveLength(49);
    const summary = JSON.parse(readFileSync(join(dir, 'runs/full/summary.json'), 'utf8'));
    for (const k of ['c_index_mean', 'c_index_sd', 'folds', 'seed', 'config']) expect(summary, k).toHaveProperty(k);
    expect(summary.folds).toHaveLength(3);
    expect(summary.seed).toBe(5);
    // the summary's fold C-index is Harrell's C of that fold's oof rows
    const rows = oof.slice(1).map((l) => l.split(','));
    for (const f of summary.folds) {
      const r = rows.filter((x) => Number(x[1]) === f.fold);
      expect(f.c_index).toBeCloseTo(harrellC(r.map((x) => Number(x[2])), r.map((x) => Number(x[3])), r.map((x) => Number(x[4]))).cIndex, 12);
    }
    expect(s.c_index_mean).toBeCloseTo(summary.folds.reduce((a: number, f: { c_index: number }) => a + f.c_index, 0) / 3, 12);
  }, 120_000);

  it('a run killed after 2 epochs and resumed ends with the same predictions as the uninterrupted run', async () => {
    const runDir = join(dir, 'runs/killed');
    await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir, stopAfterEpochs: 2 });
    expect(existsSync(join(runDir, 'fold-1/checkpoint.json'))).toBe(true);
    expect(existsSync(join(runDir, 'oof.csv'))).toBe(false);
    await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir, resume: true });
    expect(readOof('runs/killed')).toBe(readOof('runs/full'));
  }, 180_000);

  it('refuses to overwrite a run, and a resume with another config', async () => {
    const before = readOof('runs/full');
    await expect(crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir: join(dir, 'runs/full') })).rejects.toThrow(/already holds a run .* --resume/);
    const other = JSON.parse(readFileSync(join(dir, 'exp.json'), 'utf8'));
    other.train.lr = 0.01;
    writeFileSync(join(dir, 'exp2.json'), JSON.stringify(other));
    await expect(crossValidate(ctx(), { configFile: join(dir, 'exp2.json'), runDir: join(dir, 'runs/full'), resume: true })).rejects.toThrow(/differs from the one this run started with/);
    expect(readOof('runs/full')).toBe(before);
  }, 60_000);

  it('evaluate recomputes the same metrics from oof.csv', async () => {
    const saved = JSON.parse(readFileSync(join(dir, 'runs/full/summary.json'), 'utf8'));
    const again = await evaluateRun(join(dir, 'runs/full'));
    expect(again.c_index_mean).toBeCloseTo(saved.c_index_mean, 12);
    expect(again.ibs_mean).toBeCloseTo(saved.ibs_mean, 12);
    expect(again.folds.map((f) => f.iauc)).toEqual(saved.folds.map((f: { iauc: number }) => expect.closeTo(f.iauc, 12)));
  }, 60_000);
});
