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

/** A 0/1 keep-mask with the shape of x, drawn from `random`. */
export function keepMask(shape: number[], rate: number, random: RandomSource): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = random.uniform() >= rate ? 1 : 0;
  return tf.tensor(mask, shape);
}

export function dropout<T extends tf.Tensor>(x: T, rate: number, random: RandomSource, mode: Mode): T {
  checkRate(rate);
  if (mode === 'eval' || rate === 0) return x;
  return tf.tidy(() => tf.mul(x, tf.mul(keepMask(x.shape, rate, random), 1 / (1 - rate))) as T);
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
