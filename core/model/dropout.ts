/**
 * Seeded dropout. Masks come from the injected RandomSource (not tfjs's global seed), so the same run seed gives the
 * same masks on every backend; in 'eval' mode both functions return their input unchanged.
 *
 * - `dropout`: zero each value with probability `rate`, scale the rest by 1 / (1 - rate) (inverted dropout).
 * - `alphaDropout`: the SELU-preserving variant of Klambauer et al. 2017 (PyTorch nn.AlphaDropout): dropped values
 *   are set to alpha' = -lambda * alpha, then y = a * x' + b with a = ((1 - p)(1 + p alpha'^2))^-1/2,
 *   b = -a alpha' p, so inputs with zero mean and unit variance keep them.
 *
 * @example
 * const h = dropout(tf.relu(x), 0.25, rng, mode);
 */
import * as tf from '@tensorflow/tfjs';
import type { Mode } from '../contracts/encoder.js';
import type { RandomSource } from '../contracts/random-source.js';

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), found ${rate}`);
}

/** A keep-mask with the shape of x, drawn from `random`: `value` where kept, 0 where dropped. */
export function keepMask(shape: number[], rate: number, random: RandomSource, value = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(random.fillMask(new Float32Array(n), rate, value), shape);
}

export function dropout<T extends tf.Tensor>(x: T, rate: number, random: RandomSource, mode: Mode): T {
  checkRate(rate);
  if (mode === 'eval' || rate === 0) return x;
  // The mask carries the scale (kept = float32(1 / (1 - rate))): one multiply instead of two, the same bits.
  return tf.tidy(() => tf.mul(x, keepMask(x.shape, rate, random, Math.fround(1 / (1 - rate)))) as T);
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

export function alphaDropout<T extends tf.Tensor>(x: T, rate: number, random: RandomSource, mode: Mode): T {
  checkRate(rate);
  if (mode === 'eval' || rate === 0) return x;
  const alphaP = -SELU_ALPHA * SELU_SCALE;
  const a = 1 / Math.sqrt((1 - rate) * (1 + rate * alphaP * alphaP));
  const b = -a * alphaP * rate;
  return tf.tidy(() => {
    const keep = keepMask(x.shape, rate, random);
    const kept = tf.add(tf.mul(x, keep), tf.mul(tf.sub(1, keep), alphaP));
    return tf.add(tf.mul(kept, a), b) as T;
  });
}
