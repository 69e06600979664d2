/**
 * The LLM-distillation preset end to end with the real llama.cpp runtime and two tiny GGUF models the test writes
 * (teacher and student): `knowledge build` caches the teacher's and the student's verbalised answers and the
 * student's embeddings, a 2-fold run trains, and `mmsurv predict` shows per case the combined survival, the
 * hidden-state and verbalised curves it combines (S = combine * hidden + (1 - combine) * verbalised) and the
 * student's explanation text. The teacher's model is not needed at prediction.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../core/contracts/backend.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { createRootContainer } from '../../../core/di/container.js';
import { buildKnowledge } from '../../../core/llm/build-knowledge.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { crossValidate } from '../../../core/train/cross-validate.js';
import { mmsurv, projectRoot } from '../../support/cli.js';
import { writeTinyGguf } from '../../support/tiny-gguf.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-distill-run-'));
const CASES = 16;
const COMBINE = 0.8;
const registries = await loadRegistries({ builtins: registerCoreComponents });
const backend = { name: 'cpu', explicitTransposeGrad: false } as unknown as Backend;
const ctx = () => ({ registries, backend, container: createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries, backend }) });
const tiny = (model: string) => ({ type: 'llama-cpp', model, contextSize: 2048, threads: 1, gpu: false });

beforeAll(async () => {
  await tf.setBackend('cpu');
  await synthesizeCohort({ out: join(dir, 'cohort'), cases: CASES, seed: 6, layout: 'manifest', featureDim: 8, genes: 20, minPatches: 10, maxPatches: 20 });
  await writeTinyGguf(join(dir, 'models', 'teacher.gguf'), { seed: 21 });
  await writeTinyGguf(join(dir, 'models', 'student.gguf'), { seed: 22 });
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    _base_: join(projectRoot, 'plugins', 'llm-distill', 'preset.json'),
    name: 'distill-tiny',
    data: { format: 'manifest', root: 'cohort' },
    llm: { teacher: tiny('models/teacher.gguf'), student: tiny('models/student.gguf') },
    encoders: { report: { outDim: 8 }, rna: { dims: [8, 8] } },
    fusion: { dim: 8 },
    head: { hidden: 8, bins: 2, combine: COMBINE },
    train: { folds: 2, epochs: 2, batchSize: 4, seed: 1, minEpochs: 1 },
  }));
}, 60_000);

describe('the llm-distill preset with tiny teacher and student models', () => {
  it('builds knowledge, trains, and predicts curves and explanations', async () => {
    const built = await buildKnowledge(ctx(), { configFile: join(dir, 'exp.json') });
    expect(Object.fromEntries(built.sources.map((s) => [s.name, s.computed]))).toEqual({ teacher: CASES, verbalised: CASES });
    expect(built.embedders).toEqual(['encoders.report']);
    const summary = await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir: join(dir, 'run') });
    expect(summary.folds).toHaveLength(2);
    expect(Number.isFinite(summary.c_index_mean)).toBe(true);

    // the teacher is a training target only: prediction never needs its model
    renameSync(join(dir, 'models', 'teacher.gguf'), join(dir, 'models', 'teacher.gguf.away'));
    const r = await mmsurv(['predict', '--run', join(dir, 'run'), '--case', join(dir, 'cohort'), '--json', '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { eval_times: number[]; predictions: { caseId: string; survival: number[]; curves: Record<string, number[]>; explanation: string }[] };
    expect(out.predictions).toHaveLength(CASES);
    for (const p of out.predictions) {
      expect(typeof p.explanation, p.caseId).toBe('string');
      expect(Object.keys(p.curves).sort()).toEqual(['hidden', 'verbalised']);
      out.eval_times.forEach((_, k) => {
        expect(p.survival[k]).toBeCloseTo(COMBINE * p.curves['hidden']![k]! + (1 - COMBINE) * p.curves['verbalised']![k]!, 6);
      });
    }
    const text = await mmsurv(['predict', '--run', join(dir, 'run'), '--case', join(dir, 'cohort'), '--quiet']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout.match(/^ {2}explanation: /gm)).toHaveLength(CASES);
    expect(text.stdout.match(/^ {2}verbalised curve: S\(/gm)).toHaveLength(CASES);
  }, 300_000);
});
