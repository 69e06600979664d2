/**
 * softmax(a @ b) @ c, row-wise softmax, with a memory-lean gradient: the tape keeps only a, b and c, and the
 * [rows, cols] probability matrix is recomputed in the backward pass (one extra matmul) instead of keeping the
 * scores, the probabilities and their copies alive until the step ends. For a 4096-patch bag with 256 Nystrom
 * landmarks that matrix is 4.5 MB per head and use, and keeping all of them (with the copies the wasm backend makes
 * of every saved tensor) pushed a TransMIL step to the 4 GB wasm heap limit.
 *
 * Gradients (P = softmax(a b), dO the output gradient):
 *   dc = P^T dO,  dP = dO c^T,  dS = P * (dP - rowsum(dP * P)),  da = dS b^T,  db = a^T dS.
 * With `explicitTranspose` (wasm) the transposes are explicit ops followed by plain matmuls, as in core/model/dense.
 *
 * @example
 * const out = softmaxAttend(q, tf.transpose(k), v, explicitTransposeFor(backendName));   // [n, d]
 */
import * as tf from '@tensorflow/tfjs';
import { matMulTransposed } from './matmul-transposed.js';

const mmT = matMulTransposed;

function makeAttend(explicit: boolean) {
  return tf.customGrad<tf.Tensor2D>((...args) => {
    const [a, b, c, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([a, b, c]);
    return {
      value: tf.tidy(() => tf.matMul(tf.softmax(tf.matMul(a, b)), c)),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [as, bs, cs] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        return tf.tidy(() => {
          const p = tf.softmax(tf.matMul(as, bs)) as tf.Tensor2D;
          const dc = mmT(p, dy, true, false, explicit);
          const dp = mmT(dy, cs, false, true, explicit);
          const ds = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))) as tf.Tensor2D;
          return [mmT(ds, bs, false, true, explicit), mmT(as, ds, true, false, explicit), dc];
        });
      },
    };
  });
}

const attendExplicit = makeAttend(true);
const attendStock = makeAttend(false);

/** softmax(a @ b) @ c for a [r, k], b [k, s], c [s, e] -> [r, e]; see the file comment. */
export function softmaxAttend(a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor2D, explicitTranspose: boolean): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || c.rank !== 2 || a.shape[1] !== b.shape[0] || b.shape[1] !== c.shape[0]) {
    throw new Error(`softmaxAttend: expected a [r, k], b [k, s], c [s, e], found [${a.shape.join(', ')}], [${b.shape.join(', ')}], [${c.shape.join(', ')}]`);
  }
  return explicitTranspose ? attendExplicit(a, b, c) : attendStock(a, b, c);
}
