import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { explicitTransposeFor } from '../../../core/model/dense.js';
import { MultiHeadAttention, TransformerEncoderLayer } from '../../../core/model/multi-head-attention.js';
import { SeededRandom } from '../../../core/services/random.js';
import { recordMatMuls } from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

function randomTensor(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.1, 0.4)), v.shape))));
}

function refMha(m: MultiHeadAttention, query: ref.Mat, kv: ref.Mat) {
  return ref.refMultiHeadAttention(ref.variableValues(m.variables), m.heads, query, kv);
}

function refEncoderLayer(l: TransformerEncoderLayer, x: ref.Mat): ref.Mat {
  return ref.refTransformerEncoderLayer(ref.variableValues(l.variables), l.attention.heads, x);
}

describe('multi-head attention (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches PyTorch formulas in float64: 2 heads, query and key widths differ (values to 1e-5)', () => {
    const m = new MultiHeadAttention({ dim: 6, heads: 2, queryDim: 5, keyDim: 3, random: new SeededRandom(1), explicitTranspose: false });
    randomize(m.variables, 2);
    const q = randomTensor(4, 5, 3);
    const kv = randomTensor(7, 3, 4);
    const { out, weights } = m.apply(q, kv, 'eval');
    const expected = refMha(m, ref.toMat(q), ref.toMat(kv));
    expect(out.shape).toEqual([4, 6]);
    expect(weights.shape).toEqual([4, 7]);
    expect(maxAbsDiff(out.dataSync(), ref.flat(expected.out))).toBeLessThan(1e-5);
    expect(maxAbsDiff(weights.dataSync(), ref.flat(expected.weights))).toBeLessThan(1e-5);
    for (const r of tf.tidy(() => tf.sum(weights, 1).dataSync())) expect(r).toBeCloseTo(1, 5);
    tf.dispose([q, kv, out, weights]);
    m.dispose();
  });

  it('explains a width that is not a multiple of heads', () => {
    expect(() => new MultiHeadAttention({ dim: 6, heads: 4, random: new SeededRandom(1), explicitTranspose: false, name: 'coattn' })).toThrow(
      'coattn: dim must be a positive multiple of heads, found dim 6 and heads 4',
    );
  });

  it('TransformerEncoderLayer equals post-norm nn.TransformerEncoderLayer in eval mode (values to 1e-5)', () => {
    const l = new TransformerEncoderLayer({ dim: 8, heads: 4, feedForward: 12, dropout: 0.25, random: new SeededRandom(5), explicitTranspose: false });
    randomize(l.variables, 6);
    const x = randomTensor(5, 8, 7);
    const y = l.apply(x, 'eval');
    expect(maxAbsDiff(y.dataSync(), ref.flat(refEncoderLayer(l, ref.toMat(x))))).toBeLessThan(1e-5);
    tf.dispose([x, y]);
    l.dispose();
  });

  it('train mode: seeded dropout (same seed -> same output, differs from eval), no tensor leak, gradients to every variable', () => {
    const x = randomTensor(5, 8, 8);
    const run = (mode: 'train' | 'eval') => {
      const l = new TransformerEncoderLayer({ dim: 8, heads: 2, feedForward: 16, dropout: 0.25, random: new SeededRandom(9), explicitTranspose: false });
      const before = tf.memory().numTensors;
      const y = l.apply(x, mode);
      const v = Array.from(y.dataSync());
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      l.dispose();
      return v;
    };
    const first = run('train');
    expect(run('train')).toEqual(first);
    expect(maxAbsDiff(run('eval'), first)).toBeGreaterThan(1e-3);
    const l = new TransformerEncoderLayer({ dim: 8, heads: 2, feedForward: 16, dropout: 0.25, random: new SeededRandom(10), explicitTranspose: false });
    expect(l.variables).toHaveLength(7 + 4 + 4); // attention q, b_q, k, v, b_v, out, b_out (no dead key bias)
    expectGradientOnEveryVariable(l.variables, () => readoutLoss(l.apply(x, 'train')), 'transformer layer');
    l.dispose();
    x.dispose();
  });
});

describe('multi-head attention (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('a Transformer layer on wasm: reference values and gradients to every variable', () => {
    const l = new TransformerEncoderLayer({ dim: 8, heads: 2, feedForward: 12, dropout: 0.25, random: new SeededRandom(11), explicitTranspose: explicitTransposeFor('wasm') });
    randomize(l.variables, 12);
    const x = randomTensor(6, 8, 13);
    const y = l.apply(x, 'eval');
    expect(maxAbsDiff(y.dataSync(), ref.flat(refEncoderLayer(l, ref.toMat(x))))).toBeLessThan(1e-5);
    y.dispose();
    expectGradientOnEveryVariable(l.variables, () => readoutLoss(l.apply(x, 'train')), 'transformer layer on wasm');
    x.dispose();
    l.dispose();
  });

  it('forward and backward run no matmul with a transposed operand (the wasm slow path)', () => {
    const l = new TransformerEncoderLayer({ dim: 8, heads: 2, feedForward: 12, dropout: 0.25, random: new SeededRandom(14), explicitTranspose: true });
    const { layouts } = recordMatMuls('wasm', () => tf.tidy(() => {
      const x = randomTensor(5, 8, 15);
      const c = randomTensor(5, 8, 16);
      tf.variableGrads(() => tf.sum(tf.mul(l.apply(x, 'train'), c)) as tf.Scalar, l.variables);
    }));
    l.dispose();
    expect(layouts.length).toBeGreaterThan(10);
    expect(layouts.filter((k) => k !== 'NN')).toEqual([]);
  });
});
