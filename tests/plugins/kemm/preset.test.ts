/**
 * The kemm preset end to end on a small synthetic bladder cohort (cpu backend, no LLM): it validates, cross-validates
 * with its knowledge sources attached (report sentences + built-in PBK -> text-embedding tokens -> KECM), and the
 * no-knowledge ablation made by config alone (`"knowledge": { "_delete_": true }`, or also without the knowledge
 * encoder and `fusion.knowledge: null`) trains too, with other predictions.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../core/contracts/backend.js';
import { loadConfigObject } from '../../../core/config/load.js';
import { validateConfig } from '../../../core/config/validate.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { createRootContainer } from '../../../core/di/container.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { crossValidate } from '../../../core/train/cross-validate.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const preset = join(root, 'plugins/kemm/preset.json');
const dir = mkdtempSync(join(tmpdir(), 'mmsurv-kemm-preset-'));
const registries = await loadRegistries({ builtins: registerCoreComponents });
const backend = { name: 'cpu', explicitTransposeGrad: false } as unknown as Backend;
const ctx = () => ({
  registries,
  backend,
  container: createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries, backend }),
});

/** The preset at test size: small widths, 2 folds of 2 epochs. */
const small = {
  _base_: preset,
  data: { format: 'manifest', root: 'cohort' },
  encoders: { wsi: { outDim: 8 }, rna: { dims: [8] }, knowledge: { outDim: 8, embedder: { dim: 64 } } },
  fusion: { dim: 8, heads: 2 },
  head: { hidden: 8 },
  train: { folds: 2, epochs: 2, maxPatches: 12, lr: 0.003, minEpochs: 1, seed: 3 },
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  await synthesizeCohort({ out: join(dir, 'cohort'), cases: 24, seed: 2, layout: 'manifest', featureDim: 8, genes: 20, minPatches: 8, maxPatches: 16 });
}, 60_000);

async function train(name: string, config: Record<string, unknown>): Promise<{ risks: number[]; cIndex: number }> {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(config));
  const summary = await crossValidate(ctx(), { configFile: join(dir, `${name}.json`), runDir: join(dir, 'runs', name) });
  const rows = readFileSync(join(dir, 'runs', name, 'oof.csv'), 'utf8').trim().split('\n').slice(1);
  expect(rows).toHaveLength(24);
  return { risks: rows.map((r) => Number(r.split(',')[4])), cIndex: summary.c_index_mean ?? Number.NaN };
}

describe('kemm preset', () => {
  it('validates with data added; report + background knowledge, text-embedding knowledge tokens, KECM, 5 folds', async () => {
    const { config } = await loadConfigObject({ _base_: preset, data: { format: 'manifest', root: 'cohort' } }, root);
    const result = validateConfig(config, registries, { file: 'plugins/kemm/preset.json', require: ['data', 'encoders', 'fusion', 'head'] });
    expect(result.errors).toEqual([]);
    const r = result.resolved as Record<string, Record<string, Record<string, unknown>>>;
    expect(r['knowledge']).toMatchObject({ report: { type: 'kemm.expert-report', llm: null }, background: { type: 'kemm.background', llm: null } });
    expect(r['encoders']!['knowledge']).toMatchObject({ type: 'text-embedding', roles: ['report', 'pbk'] });
    expect(r['fusion']).toMatchObject({ type: 'kemm.kecm', knowledge: 'knowledge', pathology: 'wsi', genomic: 'rna', dim: 128 });
    expect(r['head']).toMatchObject({ type: 'discrete', bins: 4 });
    expect((r['train'] as unknown as { folds: number }).folds).toBe(5);
    expect(String(r['description']).length).toBeGreaterThan(80);
  });

  it('cross-validates with knowledge; the no-knowledge ablations (by config) train and predict differently', async () => {
    const full = await train('full', small);
    const noKnowledge = await train('no-knowledge', { ...small, knowledge: { _delete_: true } });
    const noEncoder = await train('no-encoder', {
      ...small,
      knowledge: { _delete_: true },
      encoders: { _delete_: true, wsi: { type: 'linear', outDim: 8, activation: 'none' }, rna: { type: 'snn', dims: [8] } },
      fusion: { dim: 8, heads: 2, knowledge: null },
    });
    for (const run of [full, noKnowledge, noEncoder]) {
      expect(run.risks.every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(run.cIndex)).toBe(true);
    }
    expect(Math.max(...full.risks.map((r, i) => Math.abs(r - noKnowledge.risks[i]!)))).toBeGreaterThan(1e-6);
  }, 60_000);
});
