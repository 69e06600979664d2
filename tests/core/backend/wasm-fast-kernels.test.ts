import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { installWasmFastKernels, uninstallWasmFastKernels, wasmFastKernelsActive } from '../../../core/backend/wasm-fast-kernels.js';
import { SeededRandom } from '../../../core/services/random.js';

await selectBackend({ prefer: 'wasm' });

function normals(n: number, seed: number, sd = 1): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal(0, sd));
}

/** Float64 sums over the first r axes of a row-major array, written here (no tfjs). */
function leadingSumReference(x: Float32Array, shape: number[], r: number): Float64Array {
  const cols = shape.slice(r).reduce((a, b) => a * b, 1);
  const out = new Float64Array(cols);
  for (let i = 0; i < x.length; i++) out[i % cols]! += x[i]!;
  return out;
}

describe('wasm Sum over leading axes and Tanh', () => {
  afterAll(() => { installWasmFastKernels(); });

  it('are installed by selectBackend', () => {
    expect(wasmFastKernelsActive()).toBe(true);
  });

  it.each([
    { shape: [300, 7], axis: [0], r: 1 },
    { shape: [300, 7], axis: -2, r: 1 },
    { shape: [4, 5, 6], axis: [1, 0], r: 2 },
    { shape: [4, 5, 6], axis: [0], r: 1 },
  ])('sum of $shape over $axis equals a float64 reference to 1e-6 (keepDims both ways)', ({ shape, axis, r }) => {
    const values = normals(shape.reduce((a, b) => a * b, 1), 11);
    const want = leadingSumReference(values, shape, r);
    const x = tf.tensor(values, shape);
    for (const keepDims of [false, true]) {
      const s = tf.sum(x, axis, keepDims);
      expect(s.shape).toEqual(keepDims ? shape.map((d, i) => (i < r ? 1 : d)) : shape.slice(r));
      const got = s.dataSync();
      for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want[j]!)));
      s.dispose();
    }
    x.dispose();
  });

  it('other sums (innermost axes, all axes, int32) give what tfjs gives', () => {
    const x = tf.tensor(normals(60, 2), [3, 4, 5]);
    const xi = tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32');
    const cases = () => [tf.sum(x, -1), tf.sum(x, [1, 2]), tf.sum(x), tf.sum(x, 1), tf.sum(xi, 0)].map((t) => { const v = Array.from(t.dataSync()); t.dispose(); return v; });
    const ours = cases();
    uninstallWasmFastKernels();
    const theirs = cases();
    installWasmFastKernels();
    expect(ours).toEqual(theirs);
    expect(ours[4]).toEqual([4, 6]);
    tf.dispose([x, xi]);
  });

  it('tanh is within 3e-7 absolute and 3e-6 relative of float64 tanh, from 1e-30 to saturation', () => {
    const rng = new SeededRandom(5);
    const values = Float32Array.from({ length: 200_000 }, (_, i) => {
      const mag = 10 ** (rng.uniform() * 32 - 30); // 1e-30 .. 1e2
      return (i % 2 ? -1 : 1) * (i % 3 === 0 ? rng.uniform() * 0.2 : mag);
    });
    const got = tf.tidy(() => tf.tanh(tf.tensor1d(values)).dataSync());
    let abs = 0, rel = 0;
    for (let i = 0; i < values.length; i++) {
      const want = Math.tanh(values[i]!);
      const e = Math.abs(got[i]! - want);
      abs = Math.max(abs, e);
      if (want !== 0) rel = Math.max(rel, e / Math.abs(want));
    }
    expect(abs).toBeLessThan(3e-7);
    expect(rel).toBeLessThan(3e-6);
  });

  it('tanh keeps the special values: 0, -0, +-Infinity, NaN', () => {
    const got = tf.tidy(() => Array.from(tf.tanh(tf.tensor1d([0, -0, Infinity, -Infinity, NaN, 1e-40, 50])).dataSync()));
    expect(got.slice(0, 4)).toEqual([0, -0, 1, -1]);
    expect(Number.isNaN(got[4])).toBe(true);
    expect(got[5]).toBe(Math.fround(1e-40)); // a float32 subnormal: tanh x = x
    expect(got[6]).toBe(1);
  });

  it('gradients through tanh and a bias add agree with tfjs kernels to 1e-5, with no tensor left behind', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(normals(512 * 16, 7), [512, 16]);
    const b = tf.tidy(() => tf.variable(tf.tensor1d(normals(16, 8))));
    const grad = () => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(tf.tanh(tf.add(x, b)))) as tf.Scalar), [b]);
      const out = { loss: value.dataSync()[0]!, g: Array.from(grads[b.name]!.dataSync()) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const ours = grad();
    uninstallWasmFastKernels();
    const theirs = grad();
    installWasmFastKernels();
    expect(Math.abs(ours.loss - theirs.loss) / theirs.loss).toBeLessThan(1e-5);
    ours.g.forEach((g, i) => expect(Math.abs(g - theirs.g[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(theirs.g[i]!))));
    tf.dispose([x, b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
