/**
 * SurvivalModel.evaluate: validation in one pass gives exactly predict()'s predictions and loss(cases, 'eval')'s
 * loss, without leaving tensors behind.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../core/contracts/backend.js';
import type { Case } from '../../../core/contracts/case.js';
import { resolveAndValidate } from '../../../core/config/validate.js';
import { readCohort, type DataSection } from '../../../core/data/read-cohort.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { buildContext, createRootContainer, createRunContainer } from '../../../core/di/container.js';
import { SurvivalModel, type ModelConfig } from '../../../core/model/survival-model.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { loadCaseBags } from '../../../core/train/prepare-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-model-'));
const registries = await loadRegistries({ builtins: registerCoreComponents });
const backend = { name: 'cpu', explicitTransposeGrad: false } as unknown as Backend;
let cases: Case[] = [];
let model: SurvivalModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await synthesizeCohort({ out: join(dir, 'cohort'), cases: 16, seed: 4, layout: 'manifest', featureDim: 8, genes: 20, minPatches: 5, maxPatches: 20 });
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    data: { format: 'manifest', root: 'cohort' },
    encoders: { wsi: { type: 'abmil', dim: 8, attentionDim: 4 }, rna: { type: 'mlp', dims: [8] }, clinical: { type: 'tabular', outDim: null } },
    fusion: { type: 'chimera.lowrank-bilinear', rank: 4, pairs: [{ a: 'wsi', b: 'rna', out: 4 }, { a: 'wsi', b: 'clinical', out: 2 }, { a: 'rna', b: 'clinical', out: 2 }] },
    head: { type: 'cox' },
    train: { folds: 2, epochs: 1, seed: 2 },
  }));
  const { config } = await resolveAndValidate(join(dir, 'exp.json'), registries, { require: ['data'] });
  const root = createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries, backend });
  const container = createRunContainer(root, { seed: 2 });
  const cohort = await readCohort(registries, { ...(config['data'] as DataSection), root: join(dir, 'cohort') }, buildContext(container, 'data'));
  cases = await loadCaseBags(cohort.cases, new StreamProgress({ quiet: true }));
  model = SurvivalModel.create(registries, config as unknown as ModelConfig, container);
  model.fit(cases.slice(0, 10));
}, 60_000);

describe('SurvivalModel.evaluate', () => {
  it("returns predict()'s predictions exactly and loss(cases, 'eval') to 1e-6, with tf.memory().numTensors flat", () => {
    const val = cases.slice(10);
    const before = tf.memory().numTensors;
    const { predictions, loss } = model.evaluate(val);
    expect(tf.memory().numTensors).toBe(before);
    expect(predictions.map((p) => p.caseId)).toEqual(val.map((c) => c.id));
    expect(predictions.map((p) => p.risk)).toEqual(model.predict(val).map((p) => p.risk));
    const l = tf.tidy(() => model.loss(val, 'eval'));
    const want = l.dataSync()[0]!;
    l.dispose();
    expect(Number.isFinite(want)).toBe(true);
    expect(Math.abs(loss - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the case without a label (validation cases need one)', () => {
    const unlabelled: Case = { ...cases[12]!, id: 'no-label' };
    delete (unlabelled as { label?: unknown }).label;
    expect(() => model.evaluate([cases[11]!, unlabelled])).toThrow(/case no-label: has no survival label/);
  });
});

describe('SurvivalModel.fitBaseline', () => {
  it("with the caller's training risks fits the baseline predict(train) would, and uses them (other risks, other curves)", () => {
    const train = cases.slice(0, 10);
    const val = cases.slice(10);
    model.fitBaseline(train);
    const own = model.predict(val);
    const risks = model.predict(train).map((p) => p.risk);
    model.fitBaseline(train, risks);
    const given = model.predict(val);
    expect(given.map((p) => p.risk)).toEqual(own.map((p) => p.risk));
    expect(given[0]!.survival).toBeDefined();
    expect(given.map((p) => p.survival)).toEqual(own.map((p) => p.survival));
    model.fitBaseline(train, risks.map((r) => -r));
    expect(model.predict(val).map((p) => p.survival)).not.toEqual(own.map((p) => p.survival));
    model.fitBaseline(train);
  });

  it('refuses risks that are not one per training case', () => {
    expect(() => model.fitBaseline(cases.slice(0, 10), [0.1, 0.2])).toThrow(/2 risks for 10 training cases/);
  });
});
