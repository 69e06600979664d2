import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { depthwiseConv2dSame } from '../../../core/model/depthwise-conv.js';
import { SeededRandom } from '../../../core/services/random.js';
import { depthwiseSame, maxAbsDiff, toGrid } from './plain-js.js';

function values(n: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe.each<BackendName>(['cpu', 'wasm'])('depthwiseConv2dSame on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it.each([
    [5, 4, 3, 3, 3],
    [6, 6, 2, 7, 7],
    [3, 2, 4, 5, 5], // kernel larger than the grid
    [9, 1, 3, 5, 1], // a 1-D sequence filter (k x 1)
  ])('H=%i W=%i C=%i kernel %ix%i: value and both gradients equal plain loops', (H, W, C, kh, kw) => {
    const xv = values(H * W * C, 1);
    const kv = values(kh * kw * C, 2);
    const gv = values(H * W * C, 3); // loss = sum(y * g)
    const before = tf.memory().numTensors;
    const [y, dx, dk] = tf.tidy(() => {
      const x = tf.tensor3d(xv, [H, W, C]);
      const k = tf.tensor3d(kv, [kh, kw, C]);
      const g = tf.tensor3d(gv, [H, W, C]);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(depthwiseConv2dSame(a as tf.Tensor3D, b as tf.Tensor3D), g)));
      const [gx, gk] = grads([x, k]);
      return [depthwiseConv2dSame(x, k).dataSync(), gx!.dataSync(), gk!.dataSync()];
    });
    expect(tf.memory().numTensors).toBe(before);
    const grid = toGrid(xv, H, W, C);
    const kernel = toGrid(kv, kh, kw, C);
    const g = toGrid(gv, H, W, C);
    expect(maxAbsDiff(y!, depthwiseSame(grid, kernel).flat(2))).toBeLessThan(1e-4);
    // dx: the same convolution of g with the kernel flipped in both axes
    const flipped = kernel.map((_, a) => kernel[kh - 1 - a]!.map((_, b) => kernel[kh - 1 - a]![kw - 1 - b]!));
    expect(maxAbsDiff(dx!, depthwiseSame(g, flipped).flat(2))).toBeLessThan(1e-4);
    // dk[a][b][c] = sum_ij x[i + a - ph][j + b - pw][c] * g[i][j][c]
    const refDk: number[] = [];
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
        const r = i + a - (kh - 1) / 2;
        const q = j + b - (kw - 1) / 2;
        if (r >= 0 && r < H && q >= 0 && q < W) s += grid[r]![q]![c]! * g[i]![j]![c]!;
      }
      refDk.push(s);
    }
    expect(maxAbsDiff(dk!, refDk)).toBeLessThan(1e-3);
  });

  it('rejects even kernels and channel mismatches with the shapes', () => {
    tf.tidy(() => {
      expect(() => depthwiseConv2dSame(tf.zeros([4, 4, 2]), tf.zeros([2, 2, 2]))).toThrow(/odd .* found 2x2/);
      expect(() => depthwiseConv2dSame(tf.zeros([4, 4, 2]), tf.zeros([3, 3, 5]))).toThrow(/kernel has 5 channels, x has 2/);
    });
  });
});

it("agrees with tfjs's own depthwiseConv2d gradient on the cpu backend (which has it)", async () => {
  await selectBackend({ prefer: 'cpu' });
  tf.tidy(() => {
    const x = tf.tensor3d(values(7 * 5 * 3, 4), [7, 5, 3]);
    const k = tf.tensor3d(values(5 * 5 * 3, 5), [5, 5, 3]);
    const loss = (f: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(f(a as tf.Tensor3D, b as tf.Tensor3D))));
    const ours = loss(depthwiseConv2dSame)([x, k]);
    const stock = loss((a, b) => tf.depthwiseConv2d(a, tf.reshape(b, [5, 5, 3, 1]) as tf.Tensor4D, 1, 'same'))([x, k]);
    expect(maxAbsDiff(ours[0]!.dataSync(), stock[0]!.dataSync())).toBeLessThan(1e-3);
    expect(maxAbsDiff(ours[1]!.dataSync(), stock[1]!.dataSync())).toBeLessThan(1e-3);
  });
});
