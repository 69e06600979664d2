import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { SeededRandom } from '../../../core/services/random.js';
import { DualPathFusion, dualPathFusionSpec } from '../../../plugins/survpgc/dual-path-fusion.js';
import { testContext } from '../../support/context.js';
import {
  disposeOutput, disposeTokens, expectFlatTraining, expectNoLeakOnFuse, fuseValues, missingSubsets, schemaDefaults, seededTokens, without,
} from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

const DIMS = new Map([['clinical', 6], ['rna', 6], ['wsi', 6]]);
const SHAPES: Record<string, [number, number]> = { clinical: [6, 6], rna: [4, 6], wsi: [7, 6] };

function make(options: Record<string, unknown> = {}, seed = 1, dims: ReadonlyMap<string, number> = DIMS): DualPathFusion {
  const f = new DualPathFusion({ dim: 4, ...options }, testContext('fusion', seed));
  f.build(dims);
  return f;
}

function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.2, 0.5)), v.shape))));
}

/** The weight arrays of each path ([norm gamma, beta, to_qkv] and its post block), for shared or per-path blocks. */
function pathWeights(f: DualPathFusion, shared: boolean): { c: [number[][], number[][]]; g: [number[][], number[][]] } {
  const w = ref.variableValues(f.variables);
  if (shared) return { c: [w.slice(8, 11), w.slice(0, 8)], g: [w.slice(11, 14), w.slice(0, 8)] };
  return { c: [w.slice(0, 3), w.slice(3, 11)], g: [w.slice(11, 14), w.slice(14, 22)] };
}

/** SurvPGC_F's embedding (eval) in float64: [C mean, P->C mean, G mean, P->G mean] with zeros for a missing path. */
function refDualPath(f: DualPathFusion, shared: boolean, tokens: Map<string, tf.Tensor2D>): { z: number[]; e1: number[]; e2: number[] } {
  const w = pathWeights(f, shared);
  const mat = (m: string) => (tokens.has(m) ? ref.toMat(tokens.get(m)!) : null);
  const [C, G, P] = [mat('clinical'), mat('rna'), mat('wsi')];
  const zeros = [0, 0, 0, 0];
  const path = ([attn, post]: [number[][], number[][]], A: ref.Mat | null) => {
    if (!A && (C || G)) return [...zeros, ...zeros];
    const out = ref.refSurvPathLayer(attn, post, 4, A, P);
    return [...(out.a ? ref.meanRows(out.a) : zeros), ...(out.p ? ref.meanRows(out.p) : zeros)];
  };
  const e1 = path(w.c, C);
  const e2 = path(w.g, G);
  return { z: [...e1, ...e2], e1, e2 };
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
  const na = a.reduce((s, x) => s + x * x, 0) + 1e-12;
  const nb = b.reduce((s, x) => s + x * x, 0) + 1e-12;
  return dot / Math.sqrt(na * nb);
}

describe('survpgc dual-path fusion (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('options: {} is valid with the SurvPGC defaults; outDim = 4*dim; the shared block is listed once', () => {
    expect(schemaDefaults(dualPathFusionSpec.optionsSchema)).toEqual({
      clinical: 'clinical', genomic: 'rna', pathology: 'wsi', dim: 128, dropout: 0.1, sharedFeedForward: true, beta: 0, margin: 0.2,
    });
    expect(dualPathFusionSpec.id).toBe('survpgc.dual-path');
    expect(new DualPathFusion({}, testContext('fusion')).outDim).toBe(512);
    const shared = make();
    const own = make({ sharedFeedForward: false });
    expect(shared.outDim).toBe(16);
    expect(shared.variables).toHaveLength(8 + 3 + 3);
    expect(own.variables).toHaveLength(2 * (3 + 8));
    shared.dispose();
    own.dispose();
  });

  it('z = [C, P->C, G, P->G] token means of the float64 SurvPath layer per path (shared and per-path blocks), to 1e-5', () => {
    for (const shared of [true, false]) {
      const f = make({ sharedFeedForward: shared });
      randomize(f.variables, 2);
      const tokens = seededTokens(SHAPES);
      const out = f.fuse(tokens, 'eval');
      expect(maxAbsDiff(out.z.dataSync(), refDualPath(f, shared, tokens).z)).toBeLessThan(1e-5);
      expect(out.auxLoss).toBeUndefined();
      const a = out.attention!;
      expect(Object.keys(a).sort()).toEqual(['clinical->pathology', 'genomic->pathology', 'pathology->clinical', 'pathology->genomic']);
      expect(a['clinical->pathology']!.shape).toEqual([7]);
      expect(a['genomic->pathology']!.shape).toEqual([7]);
      expect(a['pathology->clinical']!.shape).toEqual([6]);
      expect(tf.tidy(() => tf.sum(a['pathology->genomic']!).dataSync()[0])).toBeCloseTo(7, 4);
      const c2p = Array.from(a['clinical->pathology']!.dataSync());
      expect(c2p.every((s) => s >= 0 && s <= 6)).toBe(true);
      const w = pathWeights(f, shared);
      const expectedC2P = ref.refSurvPathLayer(w.c[0], w.c[1], 4, ref.toMat(tokens.get('clinical')!), ref.toMat(tokens.get('wsi')!)).aToP!;
      expect(maxAbsDiff(c2p, expectedC2P)).toBeLessThan(1e-5);
      disposeOutput(out);
      disposeTokens(tokens);
      f.dispose();
    }
  });

  it('auxLoss = beta * max(0, cos(e1, e2) - margin) between the two path embeddings (float64, 1e-5)', () => {
    const tokens = seededTokens(SHAPES);
    for (const margin of [0.2, -1]) {
      const f = make({ beta: 0.3, margin });
      randomize(f.variables, 3);
      const out = f.fuse(tokens, 'eval');
      const { e1, e2 } = refDualPath(f, true, tokens);
      const expected = 0.3 * Math.max(0, cosine(e1, e2) - margin);
      expect(out.auxLoss!.rank).toBe(0);
      expect(Math.abs(out.auxLoss!.dataSync()[0]! - expected)).toBeLessThan(1e-5);
      if (margin === -1) expect(expected).toBeGreaterThan(0.01);
      disposeOutput(out);
      f.dispose();
    }
    disposeTokens(tokens);
  });

  it('every subset of missing modalities gives a finite z matching the float64 rules; the aux term needs both paths', () => {
    const f = make({ beta: 0.3, margin: -1 });
    randomize(f.variables, 4);
    const tokens = seededTokens(SHAPES);
    for (const missing of missingSubsets(['clinical', 'rna', 'wsi'])) {
      const some = without(tokens, ...missing);
      for (const mode of ['train', 'eval'] as const) fuseValues(f, some, mode, `dual-path without ${missing.join(', ')}`);
      const out = f.fuse(some, 'eval');
      expect(maxAbsDiff(out.z.dataSync(), refDualPath(f, true, some).z), `without ${missing.join(', ')}`).toBeLessThan(1e-5);
      expect(out.auxLoss === undefined, `aux without ${missing.join(', ')}`).toBe(missing.includes('clinical') || missing.includes('rna'));
      disposeOutput(out);
    }
    // a missing path is zeros; only pathology: both P sides carry the slide
    const noClinical = fuseValues(f, without(tokens, 'clinical'), 'eval', 'no clinical');
    expect(Array.from(noClinical.slice(0, 8))).toEqual(new Array(8).fill(0));
    const onlyWsi = fuseValues(f, without(tokens, 'clinical', 'rna'), 'eval', 'only wsi');
    expect(Array.from(onlyWsi.slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(onlyWsi.slice(4, 8).some((x) => x !== 0)).toBe(true);
    disposeTokens(tokens);
    f.dispose();
  });

  it('clinical and genomic tokens of another width are projected to the patch width first', () => {
    const f = make({}, 1, new Map([['clinical', 5], ['rna', 9], ['wsi', 6]]));
    expect(f.variables.slice(0, 4).map((v) => v.shape)).toEqual([[5, 6], [6], [9, 6], [6]]);
    const tokens = seededTokens({ clinical: [6, 5], rna: [4, 9], wsi: [3, 6] });
    fuseValues(f, tokens, 'train', 'dual-path with projections');
    disposeTokens(tokens);
    f.dispose();
  });

  it('same seed -> same z and auxLoss (eval and train); another seed -> another z', () => {
    const tokens = seededTokens(SHAPES);
    const run = (seed: number, mode: 'train' | 'eval') => {
      const f = make({ beta: 0.3, margin: -1, dropout: 0.5 }, seed);
      const out = f.fuse(tokens, mode);
      const v = [...Array.from(out.z.dataSync()), out.auxLoss!.dataSync()[0]!];
      disposeOutput(out);
      f.dispose();
      return v;
    };
    expect(run(1, 'eval')).toEqual(run(1, 'eval'));
    expect(run(1, 'train')).toEqual(run(1, 'train'));
    expect(maxAbsDiff(run(1, 'train'), run(1, 'eval'))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(run(2, 'eval'), run(1, 'eval'))).toBeGreaterThan(1e-4);
    disposeTokens(tokens);
  });

  it('no tensor leak after fuse or 5 Adam steps (with auxLoss); gradients reach every variable, the aux term alone too', () => {
    const start = tf.memory().numTensors;
    for (const shared of [true, false]) {
      const f = make({ beta: 0.3, margin: -1, sharedFeedForward: shared });
      const tokens = seededTokens(SHAPES);
      expectNoLeakOnFuse(f, tokens, 'dual-path');
      expectFlatTraining(f, tokens, 'dual-path');
      expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'train').z), 'dual-path');
      expectGradientOnEveryVariable(f.variables, () => f.fuse(tokens, 'eval').auxLoss!, 'dual-path auxLoss');
      disposeTokens(tokens);
      f.dispose();
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  it('errors teach: a role without an encoder, bad beta, empty case', () => {
    expect(() => make({}, 1, new Map([['wsi', 6], ['rna', 6]]))).toThrow(
      /the 'survpgc.dual-path' fusion needs tokens of modality 'clinical' \(option 'clinical'\), but no encoder is configured for it; configured: wsi, rna/,
    );
    expect(() => new DualPathFusion({ beta: 2 }, testContext('fusion'))).toThrow('fusion.beta: expected a weight in [0, 1] (SurvPGC: 0.3), found 2');
    const f = make();
    expect(() => f.fuse(new Map(), 'eval')).toThrow("fusion: the case has none of 'clinical', 'rna', 'wsi'; the survpgc.dual-path fusion needs at least one");
    f.dispose();
  });
});

describe('survpgc dual-path fusion (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gradients reach every variable on wasm (with auxLoss), and training leaks nothing', () => {
    const f = make({ beta: 0.3, margin: -1 });
    const tokens = seededTokens(SHAPES);
    expectGradientOnEveryVariable(f.variables, () => {
      const out = f.fuse(tokens, 'train');
      return tf.add(readoutLoss(out.z), out.auxLoss!) as tf.Scalar;
    }, 'dual-path on wasm');
    expectFlatTraining(f, tokens, 'dual-path on wasm');
    disposeTokens(tokens);
    f.dispose();
  });
});
