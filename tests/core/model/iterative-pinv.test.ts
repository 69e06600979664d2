import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { moorePenroseIterPinv } from '../../../core/model/iterative-pinv.js';
import { SeededRandom } from '../../../core/services/random.js';
import { fromFlat, matmul, maxAbsDiff, pinvIter } from './plain-js.js';

/** Softmax rows of random scores: the kind of matrix Nystrom attention inverts. */
function softmaxMatrix(m: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tidy(() => tf.softmax(tf.tensor2d(Float32Array.from({ length: m * m }, () => rng.normal()), [m, m])) as tf.Tensor2D);
}

/** The op-by-op formulation (what autograd sees in PyTorch), for comparing gradients. */
function tapePinv(xs: tf.Tensor2D[], iterations: number): tf.Tensor2D[] {
  const abs = xs.map((x) => tf.abs(x));
  const s = tf.mul(tf.max(tf.stack(abs.map((a) => tf.max(tf.sum(a, 1))))), tf.max(tf.stack(abs.map((a) => tf.max(tf.sum(a, 0))))));
  const eye = tf.eye(xs[0]!.shape[0]);
  return xs.map((x) => {
    let z = tf.div(tf.transpose(x), s) as tf.Tensor2D;
    for (let i = 0; i < iterations; i++) {
      const xz = tf.matMul(x, z);
      z = tf.mul(tf.matMul(z, tf.sub(tf.mul(eye, 13), tf.matMul(xz, tf.sub(tf.mul(eye, 15), tf.matMul(xz, tf.sub(tf.mul(eye, 7), xz)))))), 0.25) as tf.Tensor2D;
    }
    return z;
  });
}

describe.each<BackendName>(['cpu', 'wasm'])('moorePenroseIterPinv on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it('equals the plain-JS iteration (global scale over heads) and approaches the inverse with more iterations', () => {
    tf.tidy(() => {
      const xs = [softmaxMatrix(6, 1), softmaxMatrix(6, 2)];
      const plain = pinvIter(xs.map((x) => fromFlat(x.dataSync(), 6, 6)), 6);
      moorePenroseIterPinv(xs, 6, backend === 'wasm').forEach((z, h) => expect(maxAbsDiff(z.dataSync(), plain[h]!.flat())).toBeLessThan(1e-3));
      // well-conditioned matrix: x pinv(x) -> I
      const x = tf.add(tf.mul(tf.eye(5), 0.6), tf.mul(tf.ones([5, 5]), 0.08)) as tf.Tensor2D;
      const [z] = moorePenroseIterPinv([x], 20, false);
      const prod = matmul(fromFlat(x.dataSync(), 5, 5), fromFlat(z!.dataSync(), 5, 5));
      expect(maxAbsDiff(prod.flat(), Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0)))).toBeLessThan(1e-4);
    });
  });

  it.each([true, false])('explicitTranspose=%s: gradients equal the op-by-op tape, including through the shared scale', (explicit) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const xs = [softmaxMatrix(5, 3), softmaxMatrix(5, 4)];
      const rng = new SeededRandom(9);
      const g = tf.tensor2d(Float32Array.from({ length: 25 }, () => rng.normal()), [5, 5]);
      const loss = (f: (a: tf.Tensor2D[]) => tf.Tensor2D[]) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.addN(f([a as tf.Tensor2D, b as tf.Tensor2D]).map((z, h) => tf.sum(tf.mul(z, h === 0 ? g : tf.transpose(g))))) as tf.Scalar)(xs);
      const ours = loss((a) => moorePenroseIterPinv(a, 6, explicit));
      const tape = loss((a) => tapePinv(a, 6));
      ours.forEach((d, i) => {
        const ref = tape[i]!.dataSync();
        const scale = Math.max(...Array.from(ref, Math.abs));
        expect(scale).toBeGreaterThan(1e-3);
        expect(maxAbsDiff(d.dataSync(), ref) / scale).toBeLessThan(1e-4);
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
