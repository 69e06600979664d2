/**
 * Moore-Penrose pseudo-inverse by iteration (Razavi et al. 2014), as lucidrains' `moore_penrose_iter_pinv` used by
 * Nystromformer and TransMIL:
 *
 *   z0 = x^T / (max_i sum_j |x_ij| * max_j sum_i |x_ij|)       (both maxima over ALL heads, as torch.max there)
 *   repeat: X = x z; z <- 0.25 z (13I - X (15I - X (7I - X)))
 *
 * z0 is computed with ordinary ops (its gradient flows through the maxima, as in PyTorch); the iterations are one
 * `tf.customGrad` per head whose backward pass is written out (for Y = P Q: dP = dY Q^T, dQ = P^T dY) from the
 * per-iteration matrices it saved. That keeps 5 [m, m] matrices per iteration instead of the ~14 tensors (plus the
 * copies the wasm backend makes of every saved tensor) that the op-by-op tape keeps: ~0.7 GB less at m = 256,
 * 8 heads and two layers. The gradient equals the op-by-op one (tests/core/model/iterative-pinv.test.ts).
 *
 * @example
 * const [inv] = moorePenroseIterPinv([attn2], 6, explicitTransposeFor(backendName));
 */
import * as tf from '@tensorflow/tfjs';
import { matMulTransposed } from './matmul-transposed.js';

function makeIterate(iterations: number, explicit: boolean) {
  const mmT = (a: tf.Tensor2D, b: tf.Tensor2D, ta: boolean, tb: boolean) => matMulTransposed(a, b, ta, tb, explicit);
  return tf.customGrad<tf.Tensor2D>((...args) => {
    const [x, z0, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const m = x.shape[0];
    const eye = tf.eye(m);
    const [i7, i13, i15] = [7, 13, 15].map((c) => tf.mul(eye, c));
    const steps: tf.Tensor2D[] = []; // per iteration: z, X, A, B, C
    let z = z0;
    for (let t = 0; t < iterations; t++) {
      const xz = tf.matMul(x, z) as tf.Tensor2D;
      const a = tf.sub(i7!, xz) as tf.Tensor2D;
      const b = tf.sub(i15!, tf.matMul(xz, a)) as tf.Tensor2D;
      const c = tf.sub(i13!, tf.matMul(xz, b)) as tf.Tensor2D;
      steps.push(z, xz, a, b, c);
      z = tf.mul(tf.matMul(z, c), 0.25) as tf.Tensor2D;
    }
    save([x, ...steps]);
    return {
      value: z,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const xs = saved[0] as tf.Tensor2D;
        return tf.tidy(() => {
          let dx = tf.zerosLike(xs) as tf.Tensor2D;
          let dz = dy;
          for (let t = iterations - 1; t >= 0; t--) {
            const [zt, xz, a, b, c] = saved.slice(1 + 5 * t, 6 + 5 * t) as tf.Tensor2D[];
            const dC = tf.mul(mmT(zt!, dz, true, false), 0.25) as tf.Tensor2D;
            const dzPrev = tf.mul(mmT(dz, c!, false, true), 0.25) as tf.Tensor2D;
            const dB = tf.neg(mmT(xz!, dC, true, false)) as tf.Tensor2D;
            const dA = tf.neg(mmT(xz!, dB, true, false)) as tf.Tensor2D;
            // X enters C = 13I - X B, B = 15I - X A and A = 7I - X
            const dX = tf.neg(tf.addN([mmT(dC, b!, false, true), mmT(dB, a!, false, true), dA])) as tf.Tensor2D;
            dx = tf.add(dx, mmT(dX, zt!, false, true)) as tf.Tensor2D;
            dz = tf.add(dzPrev, mmT(xs, dX, true, false)) as tf.Tensor2D;
          }
          return [dx, dz];
        });
      },
    };
  });
}

const cache = new Map<string, ReturnType<typeof makeIterate>>();

/** The iterated pseudo-inverses of square matrices xs (one per head, same size); see the file comment. */
export function moorePenroseIterPinv(xs: tf.Tensor2D[], iterations: number, explicitTranspose: boolean): tf.Tensor2D[] {
  if (xs.length === 0) return [];
  const m = xs[0]!.shape[0];
  for (const x of xs) {
    if (x.rank !== 2 || x.shape[0] !== m || x.shape[1] !== m) {
      throw new Error(`moorePenroseIterPinv: expected square matrices [${m}, ${m}], found [${x.shape.join(', ')}]`);
    }
  }
  const key = `${iterations}:${explicitTranspose}`;
  let iterate = cache.get(key);
  if (!iterate) cache.set(key, (iterate = makeIterate(iterations, explicitTranspose)));
  const run = iterate;
  return tf.tidy(() => {
    const abs = xs.map((x) => tf.abs(x));
    const maxRowSum = tf.max(tf.stack(abs.map((a) => tf.max(tf.sum(a, 1)))));
    const maxColSum = tf.max(tf.stack(abs.map((a) => tf.max(tf.sum(a, 0)))));
    const scale = tf.mul(maxRowSum, maxColSum);
    return xs.map((x) => (iterations === 0 ? (tf.div(tf.transpose(x), scale) as tf.Tensor2D) : run(x, tf.div(tf.transpose(x), scale) as tf.Tensor2D)));
  });
}
