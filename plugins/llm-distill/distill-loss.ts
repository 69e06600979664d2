/**
 * The distillation term of the student head: how far a discrete-time head's survival curve lies from the teacher's
 * curve at the same times, per case, masked (calibration correction, distill-mask.ts) and averaged over the batch.
 *
 * With logits h [b, K] (hazard_k = sigmoid(h_k)), the student's S_k = prod_{j<=k} (1 - hazard_j) at the upper bin
 * edges, the teacher's T_k = S_T(edge_{k+1}) and the mask m_i in {0, 1}:
 *   D_i = (1/K) sum_k KL(Bernoulli(T_ik) || Bernoulli(S_ik))
 *       = (1/K) sum_k [ T log(T / S) + (1 - T) log((1 - T) / (1 - S)) ],
 *   term = (1/b) sum_i m_i D_i.
 * Choice here: binary cross-entropy per edge, written as the Bernoulli KL (cross-entropy minus the teacher's own
 * entropy, a constant), so D_i >= 0 and D_i = 0 exactly when the curves agree; the gradient is that of the BCE.
 * Why BCE and not squared error: each T_k is a soft label for the event "alive at edge k", and the log loss is the
 * proper scoring rule on the same (log-likelihood) scale as the NLL it is added to, so `distillWeight` trades two
 * comparable quantities; squared error on probabilities is bounded and its gradient fades as S_k saturates, so a
 * confidently wrong student would hardly be corrected.
 *
 * Numerics: log S_k = -sum_{j<=k} softplus(h_j) (an upper-triangular matmul, as core/survival/discrete-nll.ts), log(1 -
 * S_k) = log(-expm1(log S_k)) (accurate when S_k is near 1), both clamped from below at log(eps), eps = 1e-7. Ops:
 * softplus, matMul, expm1, log, maximum, mul, sum: all have gradients on the cpu and wasm backends.
 *
 * @example
 * const term = distillationTerm(logits, teacher, Float32Array.from([1, 0, 1]));   // scalar on the tape
 */
import * as tf from '@tensorflow/tfjs';

const EPS = 1e-7;

/** x log x with 0 log 0 = 0. */
const xlogx = (x: number): number => (x > 0 ? x * Math.log(x) : 0);

function check(logits: tf.Tensor2D, teacher: ArrayLike<number>, mask: ArrayLike<number>, where: string): [number, number] {
  if (logits.rank !== 2) throw new Error(`${where}: logits must be [batch, bins], found shape [${logits.shape.join(', ')}]`);
  const [b, k] = logits.shape as [number, number];
  if (teacher.length !== b * k) throw new Error(`${where}: expected ${b} x ${k} teacher survival values (row-major), found ${teacher.length}`);
  if (mask.length !== b) throw new Error(`${where}: expected one mask value per row (${b}), found ${mask.length}`);
  for (let i = 0; i < teacher.length; i++) {
    const t = teacher[i]!;
    if (!(t >= 0 && t <= 1)) throw new Error(`${where}: teacher survival [${Math.floor(i / k)}][${i % k}] must be in [0, 1], found ${t}`);
  }
  for (let i = 0; i < b; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) throw new Error(`${where}: mask[${i}] must be 0 or 1, found ${mask[i]}`);
  }
  return [b, k];
}

/** D_i per row, [b] (see the file comment); not masked. */
export function distillationPerCase(logits: tf.Tensor2D, teacher: ArrayLike<number>, where = 'distillation'): tf.Tensor1D {
  const [b, k] = check(logits, teacher, new Float32Array(logits.shape[0]), where);
  const negEntropy = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const t = teacher[i * k + j]!;
      s += xlogx(t) + xlogx(1 - t);
    }
    negEntropy[i] = s;
  }
  return tf.tidy(() => {
    const upper = new Float32Array(k * k);
    for (let j = 0; j < k; j++) for (let m = j; m < k; m++) upper[j * k + m] = 1;
    const logEps = tf.scalar(Math.log(EPS));
    const logS = tf.neg(tf.matMul(tf.softplus(tf.cast(logits, 'float32')), tf.tensor2d(upper, [k, k])));
    const logOneMinusS = tf.log(tf.maximum(tf.neg(tf.expm1(logS)), EPS));
    const t = tf.tensor2d(Float32Array.from(teacher), [b, k]);
    const crossEntropy = tf.neg(tf.add(tf.mul(t, tf.maximum(logS, logEps)), tf.mul(tf.sub(1, t), logOneMinusS)));
    // KL = cross-entropy - entropy(T) = cross-entropy + sum (T log T + (1 - T) log (1 - T))
    return tf.div(tf.add(tf.sum(crossEntropy, 1), tf.tensor1d(negEntropy)), k) as tf.Tensor1D;
  });
}

/** (1/b) sum_i mask_i D_i, a scalar on the gradient tape (0, still connected to `logits`, when every mask is 0). */
export function distillationTerm(logits: tf.Tensor2D, teacher: ArrayLike<number>, mask: ArrayLike<number>, where = 'distillation'): tf.Scalar {
  check(logits, teacher, mask, where);
  return tf.tidy(() => tf.mean(tf.mul(distillationPerCase(logits, teacher, where), tf.tensor1d(Float32Array.from(mask)))) as tf.Scalar);
}
