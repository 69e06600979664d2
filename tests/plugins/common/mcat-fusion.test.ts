import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { SeededRandom } from '../../../core/services/random.js';
import { McatFusion, mcatFusionSpec } from '../../../plugins/common/mcat-fusion.js';
import { testContext } from '../../support/context.js';
import {
  disposeOutput, disposeTokens, expectFlatTraining, expectNoLeakOnFuse, fuseValues, schemaDefaults, seededTokens, without,
} from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

const SMALL = { dim: 8, heads: 2, feedForward: 12, layers: 2 };

function make(options: Record<string, unknown> = {}, seed = 1, dims = new Map([['wsi', 8], ['rna', 8]])): McatFusion {
  const f = new McatFusion({ ...SMALL, ...options }, testContext('fusion', seed));
  f.build(dims);
  return f;
}

function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.05, 0.35)), v.shape))));
}

/**
 * MCAT_Surv's forward up to the fusion output (eval mode), in float64, from the fusion's weight arrays in order:
 * [projections], co-attention (7), pathology layers (15 each), pathology pool (7), genomic layers, genomic pool, mm (4).
 */
function refMcat(w: number[][], o: { dim: number; heads: number; layers: number; mm: boolean; projections: [boolean, boolean] }, G: ref.Mat | null, P: ref.Mat | null): number[] {
  let i = 0;
  const take = (n: number) => { const s = w.slice(i, i + n); i += n; return s; };
  const gp = o.projections[0] ? take(2) : null;
  const pp = o.projections[1] ? take(2) : null;
  const co = take(7);
  const pathLayers = Array.from({ length: o.layers }, () => take(15));
  const pathPool = take(7);
  const omicLayers = Array.from({ length: o.layers }, () => take(15));
  const omicPool = take(7);
  const mm = o.mm ? take(4) : null;
  expect(i).toBe(w.length);
  const g = G && gp ? ref.linear(G, gp[0]!, gp[1]!) : G;
  const p = P && pp ? ref.linear(P, pp[0]!, pp[1]!) : P;
  const dim = o.dim;
  const encode = (x: ref.Mat, layers: number[][][], pool: number[][]) =>
    ref.refGatedAttentionPool(pool, layers.reduce((h, lw) => ref.refTransformerEncoderLayer(lw, o.heads, h), x)).pooled;
  let hPath = new Array<number>(dim).fill(0);
  if (p && g) hPath = encode(ref.refMultiHeadAttention(co, 1, g, p).out, pathLayers, pathPool);
  else if (p) hPath = ref.refGatedAttentionPool(pathPool, p).pooled;
  const hOmic = g ? encode(g, omicLayers, omicPool) : new Array<number>(dim).fill(0);
  const z = [[...hPath, ...hOmic]];
  if (!mm) return z[0]!;
  return ref.map(ref.linear(ref.map(ref.linear(z, mm[0]!, mm[1]!), ref.relu), mm[2]!, mm[3]!), ref.relu)[0]!;
}

describe('mcat fusion (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("options: {} is valid with MCAT's settings; outDim = dim with mm, 2*dim without", () => {
    expect(schemaDefaults(mcatFusionSpec.optionsSchema)).toEqual({
      genomic: 'rna', pathology: 'wsi', dim: 256, heads: 8, feedForward: 512, layers: 2, dropout: 0.25, mm: true,
    });
    expect(mcatFusionSpec.id).toBe('mcat');
    expect(new McatFusion({}, testContext('fusion')).outDim).toBe(256);
    expect(new McatFusion({ mm: false }, testContext('fusion')).outDim).toBe(512);
    const f = make({ layers: 1 });
    expect(f.variables).toHaveLength(7 + 2 * (15 + 7) + 4);
    f.dispose();
    expect(() => new McatFusion({ dim: 10, heads: 4 }, testContext('fusion'))).toThrow('fusion: dim (10) must be a multiple of heads (4)');
  });

  it('z equals the float64 MCAT forward (co-attention, 2 Transformer layers, gated pooling, rho, mm), to 1e-5', () => {
    for (const mm of [true, false]) {
      const f = make({ mm });
      randomize(f.variables, 2);
      const tokens = seededTokens({ rna: [3, 8], wsi: [5, 8] });
      const out = f.fuse(tokens, 'eval');
      const expected = refMcat(ref.variableValues(f.variables), { dim: 8, heads: 2, layers: 2, mm, projections: [false, false] }, ref.toMat(tokens.get('rna')!), ref.toMat(tokens.get('wsi')!));
      expect(out.z.shape).toEqual([1, mm ? 8 : 16]);
      expect(maxAbsDiff(out.z.dataSync(), expected)).toBeLessThan(1e-5);
      const g2p = out.attention!['genomic->pathology']!;
      expect(g2p.shape).toEqual([5]);
      expect(tf.tidy(() => tf.sum(g2p).dataSync()[0])).toBeCloseTo(3, 4); // each genomic query's weights sum to 1
      disposeOutput(out);
      disposeTokens(tokens);
      f.dispose();
    }
  });

  it('a missing modality: pathology pooled by its own gated attention, or the genomic branch alone; the other half zeros', () => {
    const f = make({ mm: false });
    randomize(f.variables, 3);
    const tokens = seededTokens({ rna: [3, 8], wsi: [6, 8] });
    const w = ref.variableValues(f.variables);
    const opts = { dim: 8, heads: 2, layers: 2, mm: false, projections: [false, false] as [boolean, boolean] };
    const noRna = fuseValues(f, without(tokens, 'rna'), 'eval', 'mcat without rna');
    expect(maxAbsDiff(noRna, refMcat(w, opts, null, ref.toMat(tokens.get('wsi')!)))).toBeLessThan(1e-5);
    expect(Array.from(noRna.slice(8))).toEqual(new Array(8).fill(0));
    const noWsi = fuseValues(f, without(tokens, 'wsi'), 'eval', 'mcat without wsi');
    expect(maxAbsDiff(noWsi, refMcat(w, opts, ref.toMat(tokens.get('rna')!), null))).toBeLessThan(1e-5);
    expect(Array.from(noWsi.slice(0, 8))).toEqual(new Array(8).fill(0));
    const out = f.fuse(without(tokens, 'rna'), 'eval');
    expect(out.attention).toBeUndefined();
    disposeOutput(out);
    disposeTokens(tokens);
    f.dispose();
  });

  it('tokens of another width are projected to dim first (variables start with the projections)', () => {
    const f = make({}, 1, new Map([['wsi', 10], ['rna', 6]]));
    randomize(f.variables, 4);
    expect(f.variables.slice(0, 4).map((v) => v.shape)).toEqual([[6, 8], [8], [10, 8], [8]]);
    const tokens = seededTokens({ rna: [2, 6], wsi: [4, 10] });
    const z = fuseValues(f, tokens, 'eval', 'mcat with projections');
    const expected = refMcat(ref.variableValues(f.variables), { dim: 8, heads: 2, layers: 2, mm: true, projections: [true, true] }, ref.toMat(tokens.get('rna')!), ref.toMat(tokens.get('wsi')!));
    expect(maxAbsDiff(z, expected)).toBeLessThan(1e-5);
    disposeTokens(tokens);
    f.dispose();
  });

  it('same seed -> same z (eval and train); another seed -> another z', () => {
    const tokens = seededTokens({ rna: [3, 8], wsi: [5, 8] });
    const z = (seed: number, mode: 'train' | 'eval') => {
      const f = make({ mm: false }, seed);
      const v = Array.from(fuseValues(f, tokens, mode, 'mcat'));
      f.dispose();
      return v;
    };
    expect(z(1, 'eval')).toEqual(z(1, 'eval'));
    expect(z(1, 'train')).toEqual(z(1, 'train'));
    expect(maxAbsDiff(z(1, 'train'), z(1, 'eval'))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(z(2, 'eval'), z(1, 'eval'))).toBeGreaterThan(1e-4);
    disposeTokens(tokens);
  });

  it('no tensor leak after fuse or 5 Adam steps; gradients reach every variable', () => {
    const start = tf.memory().numTensors;
    const f = make();
    const tokens = seededTokens({ rna: [3, 8], wsi: [7, 8] });
    expectNoLeakOnFuse(f, tokens, 'mcat');
    expectFlatTraining(f, tokens, 'mcat');
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'eval').z), 'mcat');
    disposeTokens(tokens);
    f.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('errors teach: unconfigured modality, empty case', () => {
    expect(() => make({ genomic: 'omics' })).toThrow(/needs tokens of modality 'omics' \(option 'genomic'\), but no encoder is configured for it; configured: wsi, rna/);
    const f = make();
    expect(() => f.fuse(new Map(), 'eval')).toThrow("fusion: the case has neither 'rna' nor 'wsi' tokens; the mcat fusion needs at least one");
    f.dispose();
  });
});

describe('mcat fusion (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gradients reach every variable on wasm, and training leaks nothing', () => {
    const f = make();
    const tokens = seededTokens({ rna: [3, 8], wsi: [6, 8] });
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'train').z), 'mcat on wasm');
    expectFlatTraining(f, tokens, 'mcat on wasm');
    disposeTokens(tokens);
    f.dispose();
  });
});
