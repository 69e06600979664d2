import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GatedAttentionPool } from '../../../core/model/gated-attention-pool.js';
import { SeededRandom } from '../../../core/services/random.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

function randomTensor(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

function refPool(pool: GatedAttentionPool, x: ref.Mat) {
  return ref.refGatedAttentionPool(ref.variableValues(pool.variables), x);
}

describe('gated attention pool', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the float64 formula (values to 1e-5); weights sum to 1', () => {
    for (const rho of [true, false]) {
      const pool = new GatedAttentionPool({ inDim: 5, hidden: 4, rho, dropout: 0.25, random: new SeededRandom(1), explicitTranspose: false });
      const x = randomTensor(6, 5, 2);
      const { pooled, weights } = pool.apply(x, 'eval');
      const expected = refPool(pool, ref.toMat(x));
      expect(pooled.shape).toEqual([1, 5]);
      expect(weights.shape).toEqual([6]);
      expect(maxAbsDiff(pooled.dataSync(), expected.pooled)).toBeLessThan(1e-5);
      expect(maxAbsDiff(weights.dataSync(), expected.weights)).toBeLessThan(1e-5);
      expect(tf.tidy(() => tf.sum(weights).dataSync()[0])).toBeCloseTo(1, 5);
      expect(pool.variables).toHaveLength(rho ? 7 : 5);
      tf.dispose([x, pooled, weights]);
      pool.dispose();
    }
  });

  it('gradients reach every variable; no tensor leak; checks the input width', () => {
    const pool = new GatedAttentionPool({ inDim: 5, hidden: 5, rho: true, dropout: 0.25, random: new SeededRandom(3), explicitTranspose: false, name: 'pool' });
    const x = randomTensor(7, 5, 4);
    const before = tf.memory().numTensors;
    const out = pool.apply(x, 'train');
    tf.dispose([out.pooled, out.weights]);
    expect(tf.memory().numTensors).toBe(before);
    expectGradientOnEveryVariable(pool.variables, () => readoutLoss(pool.apply(x, 'train').pooled), 'gated attention pool');
    expect(() => pool.apply(tf.zeros([3, 4]) as tf.Tensor2D, 'eval')).toThrow('pool: expected tokens of shape [n >= 1, 5], found [3, 4]');
    x.dispose();
    pool.dispose();
  });
});
