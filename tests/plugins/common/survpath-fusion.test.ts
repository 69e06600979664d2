import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { SeededRandom } from '../../../core/services/random.js';
import { SurvPathFusion, survPathFusionSpec } from '../../../plugins/common/survpath-fusion.js';
import { testContext } from '../../support/context.js';
import {
  disposeOutput, disposeTokens, expectFlatTraining, expectNoLeakOnFuse, fuseValues, schemaDefaults, seededTokens, without,
} from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.2, 0.5)), v.shape))));
}

const DIMS = new Map([['wsi', 6], ['rna', 6]]);

function make(options: Record<string, unknown> = {}, seed = 1, dims: ReadonlyMap<string, number> = DIMS): SurvPathFusion {
  const f = new SurvPathFusion({ dim: 4, ...options }, testContext('fusion', seed));
  f.build(dims);
  return f;
}

describe('survpath fusion (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('options: {} is valid with the SurvPath defaults; outDim = 2*dim, or hidden', () => {
    expect(schemaDefaults(survPathFusionSpec.optionsSchema)).toEqual({ genomic: 'rna', pathology: 'wsi', dim: 128, dropout: 0.1, hidden: null });
    expect(survPathFusionSpec.id).toBe('survpath');
    expect(new SurvPathFusion({}, testContext('fusion')).outDim).toBe(256);
    const f = make({ hidden: 3 });
    expect(f.outDim).toBe(3);
    expect(f.variables).toHaveLength(11 + 2);
    f.dispose();
  });

  it('z = [mean of the genomic side, mean of the patch side] of the float64 SurvPath layer (1e-5); attention maps', () => {
    const f = make();
    expect(f.outDim).toBe(8);
    expect(f.variables).toHaveLength(11); // LayerNorm 2, to_qkv 1, FeedForward 6, LayerNorm 2
    randomize(f.variables, 3);
    const tokens = seededTokens({ rna: [3, 6], wsi: [5, 6] });
    const out = f.fuse(tokens, 'eval');
    const w = ref.variableValues(f.variables);
    const expected = ref.refSurvPathLayer(w.slice(0, 3), w.slice(3), 4, ref.toMat(tokens.get('rna')!), ref.toMat(tokens.get('wsi')!));
    expect(maxAbsDiff(out.z.dataSync(), [...ref.meanRows(expected.a!), ...ref.meanRows(expected.p!)])).toBeLessThan(1e-5);
    const g2p = out.attention!['genomic->pathology']!;
    const p2g = out.attention!['pathology->genomic']!;
    expect(g2p.shape).toEqual([5]);
    expect(maxAbsDiff(g2p.dataSync(), expected.aToP!)).toBeLessThan(1e-5);
    expect(p2g.shape).toEqual([3]);
    expect(tf.tidy(() => tf.sum(p2g).dataSync()[0])).toBeCloseTo(5, 4); // each patch's P->A row sums to 1
    disposeOutput(out);
    disposeTokens(tokens);
    f.dispose();
  });

  it('a missing modality: its half of z is zeros, the other half is the single-side layer output', () => {
    const f = make();
    randomize(f.variables, 4);
    const tokens = seededTokens({ rna: [2, 6], wsi: [4, 6] });
    const w = ref.variableValues(f.variables);
    const noRna = fuseValues(f, without(tokens, 'rna'), 'eval', 'survpath without rna');
    const expectedP = ref.refSurvPathLayer(w.slice(0, 3), w.slice(3), 4, null, ref.toMat(tokens.get('wsi')!)).p!;
    expect(Array.from(noRna.slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(maxAbsDiff(noRna.slice(4), ref.meanRows(expectedP))).toBeLessThan(1e-5);
    const noWsi = fuseValues(f, without(tokens, 'wsi'), 'eval', 'survpath without wsi');
    const expectedA = ref.refSurvPathLayer(w.slice(0, 3), w.slice(3), 4, ref.toMat(tokens.get('rna')!), null).a!;
    expect(maxAbsDiff(noWsi.slice(0, 4), ref.meanRows(expectedA))).toBeLessThan(1e-5);
    expect(Array.from(noWsi.slice(4))).toEqual([0, 0, 0, 0]);
    const out = f.fuse(without(tokens, 'wsi'), 'eval');
    expect(out.attention).toBeUndefined();
    disposeOutput(out);
    disposeTokens(tokens);
    f.dispose();
  });

  it('genomic tokens of another width are projected to the patch width first; roles follow the options', () => {
    const f = make({ genomic: 'pathways', pathology: 'patches' }, 1, new Map([['patches', 6], ['pathways', 9]]));
    expect(f.variables).toHaveLength(2 + 11);
    expect(f.variables[0]!.shape).toEqual([9, 6]);
    const tokens = seededTokens({ pathways: [3, 9], patches: [4, 6] });
    fuseValues(f, tokens, 'eval', 'survpath with projection');
    disposeTokens(tokens);
    f.dispose();
  });

  it('same seed -> same z (eval and train); another seed -> another z', () => {
    const tokens = seededTokens({ rna: [3, 6], wsi: [5, 6] });
    const z = (seed: number, mode: 'train' | 'eval') => {
      const f = make({ dropout: 0.5 }, seed);
      const v = fuseValues(f, tokens, mode, 'survpath');
      f.dispose();
      return Array.from(v);
    };
    expect(z(1, 'eval')).toEqual(z(1, 'eval'));
    expect(z(1, 'train')).toEqual(z(1, 'train'));
    expect(maxAbsDiff(z(1, 'train'), z(1, 'eval'))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(z(2, 'eval'), z(1, 'eval'))).toBeGreaterThan(1e-4);
    disposeTokens(tokens);
  });

  it('no tensor leak after fuse or 5 Adam steps; gradients reach every variable', () => {
    const start = tf.memory().numTensors;
    const f = make({ hidden: 5 });
    const tokens = seededTokens({ rna: [3, 6], wsi: [7, 6] });
    expectNoLeakOnFuse(f, tokens, 'survpath');
    expectFlatTraining(f, tokens, 'survpath');
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'train').z), 'survpath');
    disposeTokens(tokens);
    f.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('errors teach: missing build, unconfigured modality, shared role, wrong width, empty case', () => {
    const f = new SurvPathFusion({}, testContext('model.fusion'));
    expect(() => f.fuse(new Map(), 'eval')).toThrow('model.fusion: call build(inputDims) before fuse');
    expect(() => f.build(new Map([['wsi', 6], ['clinical', 4]]))).toThrow(
      "model.fusion: the 'survpath' fusion needs tokens of modality 'rna' (option 'genomic'), but no encoder is configured for it; configured: wsi, clinical. Add encoders.rna, or set 'genomic' to one of the configured modalities",
    );
    expect(() => new SurvPathFusion({ genomic: 'wsi' }, testContext('fusion')).build(DIMS)).toThrow(/options 'genomic' and 'pathology' both name modality 'wsi'/);
    const ok = make();
    const bad = seededTokens({ rna: [2, 5] });
    expect(() => ok.fuse(bad, 'eval')).toThrow("fusion: modality 'rna' tokens have shape [2, 5], expected [n >= 1, 6] (the width given to build())");
    expect(() => ok.fuse(new Map(), 'eval')).toThrow("fusion: the case has neither 'rna' nor 'wsi' tokens; the survpath fusion needs at least one");
    disposeTokens(bad);
    ok.dispose();
    const ctx = testContext('fusion');
    new SurvPathFusion({}, ctx).build(new Map([['wsi', 6], ['rna', 6], ['clinical', 3]]));
    expect(ctx.memory.lines.some((l) => l.level === 'warn' && /reads rna, wsi; the tokens of clinical are not used/.test(l.message))).toBe(true);
  });
});

describe('survpath fusion (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gradients reach every variable on wasm, and training leaks nothing', () => {
    const f = make({ hidden: 4 });
    const tokens = seededTokens({ rna: [3, 6], wsi: [6, 6] });
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'train').z), 'survpath on wasm');
    expectFlatTraining(f, tokens, 'survpath on wasm');
    disposeTokens(tokens);
    f.dispose();
  });
});
