import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { explicitTransposeFor } from '../../../core/model/dense.js';
import { FeedForwardNorm, gelu, SurvPathAttention } from '../../../core/model/survpath-attention.js';
import { SeededRandom } from '../../../core/services/random.js';
import { recordMatMuls } from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

function randomTensor(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

/** Give every variable non-trivial values (LayerNorm gammas/betas included), so the comparison covers them. */
function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.2, 0.5)), v.shape))));
}

/** The float64 reference on this layer's current weights. */
function refLayer(layer: SurvPathAttention, A: ref.Mat | null, P: ref.Mat | null) {
  return ref.refSurvPathLayer(
    ref.variableValues([...layer.norm.variables, ...layer.qkv.variables]), ref.variableValues(layer.post.variables), layer.dim, A, P,
  );
}

function makeLayer(seed = 3, explicitTranspose = false, post?: FeedForwardNorm): SurvPathAttention {
  return new SurvPathAttention({ inDim: 6, dim: 4, random: new SeededRandom(seed), explicitTranspose, ...(post ? { post } : {}) });
}

describe('survpath attention (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gelu is the erf form (PyTorch nn.GELU default), to 1e-6 over [-6, 6]', () => {
    const xs = Array.from({ length: 121 }, (_, i) => -6 + i * 0.1);
    const got = tf.tidy(() => Array.from(gelu(tf.tensor1d(xs)).dataSync()));
    expect(maxAbsDiff(got, xs.map(ref.gelu))).toBeLessThan(1e-6);
    // differs from the tanh approximation by more than that somewhere
    const tanhGelu = xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    expect(maxAbsDiff(xs.map(ref.gelu), tanhGelu)).toBeGreaterThan(1e-4);
  });

  it('matches a float64 re-implementation with both sides present (values to 1e-5)', () => {
    const layer = makeLayer();
    randomize(layer.variables, 7);
    const A = randomTensor(3, 6, 1);
    const P = randomTensor(5, 6, 2);
    const out = layer.apply(A, P, 'eval');
    const expected = refLayer(layer, ref.toMat(A), ref.toMat(P));
    expect(out.a!.shape).toEqual([3, 4]);
    expect(out.p!.shape).toEqual([5, 4]);
    expect(out.aToP!.shape).toEqual([5]);
    expect(out.pToA!.shape).toEqual([5, 3]);
    expect(maxAbsDiff(out.a!.dataSync(), ref.flat(expected.a!))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.p!.dataSync(), ref.flat(expected.p!))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.aToP!.dataSync(), expected.aToP!)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.pToA!.dataSync(), ref.flat(expected.pToA!))).toBeLessThan(1e-5);
    tf.dispose([A, P, out.a!, out.p!, out.aToP!, out.pToA!]);
    layer.dispose();
  });

  it('attention maps: P->A rows sum to 1; A->P per-patch scores are in [0, n_a] and sum to n_a minus the mass kept on A', () => {
    const layer = makeLayer(4);
    randomize(layer.variables, 8);
    tf.tidy(() => {
      const out = layer.apply(randomTensor(3, 6, 3), randomTensor(9, 6, 4), 'eval');
      const rows = tf.sum(out.pToA!, 1).dataSync();
      for (const r of rows) expect(r).toBeCloseTo(1, 5);
      const scores = Array.from(out.aToP!.dataSync());
      expect(scores.every((s) => s >= 0 && s <= 3)).toBe(true);
      const total = scores.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThan(3);
    });
    layer.dispose();
  });

  it('a missing side: without P the A tokens attend to A only; without A each patch keeps its own value vector', () => {
    const layer = makeLayer(5);
    randomize(layer.variables, 9);
    const A = randomTensor(2, 6, 5);
    const P = randomTensor(4, 6, 6);
    const onlyA = layer.apply(A, null, 'eval');
    const onlyP = layer.apply(null, P, 'eval');
    expect(onlyA.p).toBeNull();
    expect(onlyA.aToP).toBeNull();
    expect(onlyP.a).toBeNull();
    expect(onlyP.pToA).toBeNull();
    expect(maxAbsDiff(onlyA.a!.dataSync(), ref.flat(refLayer(layer, ref.toMat(A), null).a!))).toBeLessThan(1e-5);
    expect(maxAbsDiff(onlyP.p!.dataSync(), ref.flat(refLayer(layer, null, ref.toMat(P)).p!))).toBeLessThan(1e-5);
    expect(() => layer.apply(null, null, 'eval')).toThrow(/both the query-side tokens \(A\) and the patch tokens \(P\) are missing/);
    expect(() => layer.apply(tf.zeros([2, 5]) as tf.Tensor2D, null, 'eval')).toThrow('survpath-attention: A tokens must have shape [n >= 1, 6], found [2, 5]');
    tf.dispose([A, P, onlyA.a!, onlyP.p!]);
    layer.dispose();
  });

  it('never forms the P->P block: no matmul output is n_p x n_p', () => {
    const layer = makeLayer(6);
    const { shapes } = recordMatMuls('cpu', () => tf.tidy(() => {
      const f = () => readoutLoss(layer.apply(randomTensor(2, 6, 7), randomTensor(11, 6, 8), 'train').p!);
      tf.variableGrads(f, layer.variables);
    }));
    layer.dispose();
    expect(shapes.length).toBeGreaterThan(5);
    expect(shapes).not.toContain('11x11');
    expect(shapes).toContain('2x11'); // the A->P scores
    expect(shapes).toContain('11x2'); // the P->A scores
  });

  it('train mode: seeded dropout (same seed -> same output, differs from eval); no tensor leak', () => {
    const A = randomTensor(3, 6, 9);
    const P = randomTensor(5, 6, 10);
    const run = (seed: number, mode: 'train' | 'eval') => {
      const layer = makeLayer(seed);
      const before = tf.memory().numTensors;
      const out = layer.apply(A, P, mode);
      const v = Array.from(out.a!.dataSync());
      tf.dispose([out.a!, out.p!, out.aToP!, out.pToA!]);
      expect(tf.memory().numTensors).toBe(before);
      layer.dispose();
      return v;
    };
    const first = run(11, 'train');
    expect(run(11, 'train')).toEqual(first);
    expect(maxAbsDiff(run(11, 'eval'), first)).toBeGreaterThan(1e-4);
    tf.dispose([A, P]);
  });

  it('a shared post block: the layers list it no more, do not dispose it, and apply the same block', () => {
    const post = new FeedForwardNorm({ dim: 4, random: new SeededRandom(1), explicitTranspose: false });
    const l1 = makeLayer(1, false, post);
    const l2 = makeLayer(2, false, post);
    const own = makeLayer(3);
    expect(l1.variables).toHaveLength(3); // gamma, beta, to_qkv kernel
    expect(own.variables).toHaveLength(3 + post.variables.length);
    expect(l1.post).toBe(post);
    expect(() => makeLayer(1, false, new FeedForwardNorm({ dim: 5, random: new SeededRandom(1), explicitTranspose: false }))).toThrow(
      'survpath-attention: the shared post block has width 5, expected dim 4',
    );
    l1.dispose();
    l2.dispose();
    tf.tidy(() => {
      expect(post.apply(tf.ones([1, 4]) as tf.Tensor2D, 'eval').shape).toEqual([1, 4]); // still usable
    });
    post.dispose();
    own.dispose();
  });

  it('gradients reach every variable (both sides, and each side alone)', () => {
    const layer = makeLayer(12);
    const A = randomTensor(3, 6, 11);
    const P = randomTensor(6, 6, 12);
    expectGradientOnEveryVariable(layer.variables, () => {
      const out = layer.apply(A, P, 'train');
      return tf.add(readoutLoss(out.a!), readoutLoss(out.p!));
    }, 'survpath attention');
    expectGradientOnEveryVariable(layer.variables, () => readoutLoss(layer.apply(A, null, 'train').a!), 'survpath attention, A only');
    tf.dispose([A, P]);
    layer.dispose();
  });
});

describe('survpath attention (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gradients reach every variable with explicit-transpose matmuls, and values equal the float64 reference', () => {
    const layer = makeLayer(13, explicitTransposeFor('wasm'));
    randomize(layer.variables, 14);
    const A = randomTensor(3, 6, 13);
    const P = randomTensor(7, 6, 14);
    const out = layer.apply(A, P, 'eval');
    const expected = refLayer(layer, ref.toMat(A), ref.toMat(P));
    expect(maxAbsDiff(out.p!.dataSync(), ref.flat(expected.p!))).toBeLessThan(1e-5);
    tf.dispose([out.a!, out.p!, out.aToP!, out.pToA!]);
    expectGradientOnEveryVariable(layer.variables, () => {
      const o = layer.apply(A, P, 'train');
      return tf.add(readoutLoss(o.a!), readoutLoss(o.p!));
    }, 'survpath attention on wasm');
    tf.dispose([A, P]);
    layer.dispose();
  });

  // Explicit transposes are what the stock wasm kernel needs (its transposed-operand path is slow); with the native
  // sgemm active explicitTransposeFor('wasm') is false and transposes go to sgemm as flags. Forced on here, so the
  // layer's own explicit-transpose path is checked on every machine.
  it('with explicit transposes, forward and backward run no matmul with a transposed operand (the wasm slow path)', () => {
    const layer = makeLayer(15, true);
    const { layouts } = recordMatMuls('wasm', () => tf.tidy(() => {
      const [A, P] = [randomTensor(3, 6, 15), randomTensor(5, 6, 16)];
      const [ca, cp] = [randomTensor(3, 4, 17), randomTensor(5, 4, 18)];
      tf.variableGrads(() => {
        const o = layer.apply(A, P, 'train'); // a readout without matmul (readoutLoss's own gradient would use one)
        return tf.add(tf.sum(tf.mul(o.a!, ca)), tf.sum(tf.mul(o.p!, cp))) as tf.Scalar;
      }, layer.variables);
    }));
    layer.dispose();
    expect(layouts.length).toBeGreaterThan(10);
    expect(layouts.filter((k) => k !== 'NN')).toEqual([]);
  });
});
