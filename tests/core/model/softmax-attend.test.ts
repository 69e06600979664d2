import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { softmaxAttend } from '../../../core/model/softmax-attend.js';
import { SeededRandom } from '../../../core/services/random.js';
import { fromFlat, matmul, maxAbsDiff, softmaxRows } from './plain-js.js';

function randomTensor(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

describe.each<BackendName>(['cpu', 'wasm'])('softmaxAttend on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it.each([true, false])('explicitTranspose=%s: value = plain softmax(a b) c; gradients = the op-by-op tape', (explicit) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const a = randomTensor(9, 4, 1);
      const b = randomTensor(4, 6, 2);
      const c = randomTensor(6, 3, 3);
      const g = randomTensor(9, 3, 4);
      const out = softmaxAttend(a, b, c, explicit);
      const ref = matmul(softmaxRows(matmul(fromFlat(a.dataSync(), 9, 4), fromFlat(b.dataSync(), 4, 6))), fromFlat(c.dataSync(), 6, 3));
      expect(maxAbsDiff(out.dataSync(), ref.flat())).toBeLessThan(1e-5);
      const loss = (f: (x: tf.Tensor2D, y: tf.Tensor2D, z: tf.Tensor2D) => tf.Tensor2D) =>
        tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor2D, y as tf.Tensor2D, z as tf.Tensor2D), g)))([a, b, c]);
      const ours = loss((x, y, z) => softmaxAttend(x, y, z, explicit));
      const stock = loss((x, y, z) => tf.matMul(tf.softmax(tf.matMul(x, y)), z));
      ours.forEach((d, i) => {
        expect(d.shape).toEqual(stock[i]!.shape);
        expect(maxAbsDiff(d.dataSync(), stock[i]!.dataSync())).toBeLessThan(1e-5);
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks shapes', () => {
    tf.tidy(() => {
      expect(() => softmaxAttend(tf.zeros([2, 3]), tf.zeros([4, 5]), tf.zeros([5, 1]), false)).toThrow(/expected a \[r, k\], b \[k, s\], c \[s, e\], found \[2, 3\], \[4, 5\], \[5, 1\]/);
    });
  });
});
