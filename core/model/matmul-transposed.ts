/**
 * a @ b with either operand transposed, for hand-written gradients. With `explicitTranspose` (wasm, where matmul
 * with a transposed operand takes a slow path; see core/model/dense) the transposes are separate ops followed by a
 * plain matmul; otherwise tfjs's transpose flags are used.
 *
 * @example
 * const dw = matMulTransposed(x, dy, true, false, explicit);   // x^T @ dy
 */
import * as tf from '@tensorflow/tfjs';

export function matMulTransposed(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean, explicitTranspose: boolean): tf.Tensor2D {
  if (!explicitTranspose) return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}
