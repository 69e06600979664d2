import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { installWasmSharedCopies, uninstallWasmSharedCopies, wasmSharedCopiesActive } from '../../../core/backend/wasm-shared-copies.js';
import { SeededRandom } from '../../../core/services/random.js';

await selectBackend({ prefer: 'wasm' });
const offset = (t: tf.Tensor) => (tf.backend() as unknown as { getMemoryOffset(id: object): number }).getMemoryOffset(t.dataId);

/** Loss and gradients of a small two-layer model with tanh, relu and a broadcast bias (saves inputs and outputs). */
function lossAndGrads(seed: number): { loss: number; grads: Float32Array[] } {
  const rng = new SeededRandom(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const x = tf.tensor2d(values(64 * 16), [64, 16]);
  // tidy disposes the initial values; variables survive it
  const [w1, b1, w2] = tf.tidy(() => [
    tf.variable(tf.tensor2d(values(16 * 8), [16, 8])), tf.variable(tf.tensor1d(values(8))), tf.variable(tf.tensor2d(values(8 * 1), [8, 1])),
  ]);
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
    const h = tf.relu(tf.tanh(tf.add(tf.matMul(x, w1), b1)));
    return tf.mean(tf.square(tf.matMul(h, w2))) as tf.Scalar;
  }), [w1!, b1!, w2!]);
  const out = { loss: value.dataSync()[0]!, grads: [w1!, b1!, w2!].map((v) => Float32Array.from(grads[v.name]!.dataSync() as Float32Array)) };
  tf.dispose([x, w1!, b1!, w2!, value, ...Object.values(grads)]);
  return out;
}

describe('wasm Identity and same-dtype Cast share their buffer', () => {
  afterAll(() => { installWasmSharedCopies(); });

  it('is installed by selectBackend', () => {
    expect(wasmSharedCopiesActive()).toBe(true);
  });

  it('clone() shares memory, keeps its values when the original is disposed, and counts as a tensor', () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3, 4]);
    const b = a.clone();
    const c = tf.cast(a, 'float32');
    expect(offset(b)).toBe(offset(a));
    expect(offset(c)).toBe(offset(a));
    expect(tf.memory().numTensors).toBe(before + 3);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a cast to another dtype still converts', () => {
    const a = tf.tensor1d([1.7, -2.2, 3]);
    const i = tf.cast(a, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3]);
    expect(offset(i)).not.toBe(offset(a));
    tf.dispose([a, i]);
  });

  it('gives bit for bit the gradients of the copying kernels, with no tensor left behind', () => {
    const before = tf.memory().numTensors;
    const shared = lossAndGrads(3);
    uninstallWasmSharedCopies();
    expect(wasmSharedCopiesActive()).toBe(false);
    const copied = lossAndGrads(3);
    installWasmSharedCopies();
    expect(shared.loss).toBe(copied.loss);
    shared.grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(copied.grads[i]!)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a variable assigned from a clone keeps its value after the clone is disposed', () => {
    const v = tf.tidy(() => tf.variable(tf.zeros([3])));
    const src = tf.tensor1d([5, 6, 7]);
    const copy = src.clone();
    v.assign(copy);
    tf.dispose([src, copy]);
    expect(Array.from(v.dataSync())).toEqual([5, 6, 7]);
    v.dispose();
  });
});
