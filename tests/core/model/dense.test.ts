import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { Dense, explicitTransposeFor, initKernel, matMul } from '../../../core/model/dense.js';
import { nativeMatmulStatus } from '../../../core/backend/native-matmul.js';
import { SeededRandom } from '../../../core/services/random.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function stats(v: ArrayLike<number>): { mean: number; sd: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
  }
  const mean = s / v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i]! - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (v.length - 1)), min, max };
}

function randomTensor(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

it('explicitTransposeFor is true for wasm only, and only while its matmul is the wasm kernel', () => {
  expect(explicitTransposeFor('wasm')).toBe(!nativeMatmulStatus().active);
  for (const name of ['cpu', 'tfjs-node', 'tfjs-node-gpu', 'tensorflow']) expect(explicitTransposeFor(name)).toBe(false);
});

describe('initKernel', () => {
  const [inDim, outDim] = [256, 256];
  it('glorot-normal: mean 0, std sqrt(2/(in+out)) within 10%', () => {
    const s = stats(initKernel('glorot-normal', inDim, outDim, new SeededRandom(1)));
    const target = Math.sqrt(2 / (inDim + outDim)); // 0.0625
    expect(Math.abs(s.sd - target) / target).toBeLessThan(0.1);
    expect(Math.abs(s.mean)).toBeLessThan(0.01 * target * 10);
  });
  it('he-normal and lecun-normal: std sqrt(2/in) and sqrt(1/in)', () => {
    const he = stats(initKernel('he-normal', 128, 64, new SeededRandom(2)));
    expect(Math.abs(he.sd - Math.sqrt(2 / 128)) / Math.sqrt(2 / 128)).toBeLessThan(0.1);
    const lecun = stats(initKernel('lecun-normal', 128, 64, new SeededRandom(3)));
    expect(Math.abs(lecun.sd - Math.sqrt(1 / 128)) / Math.sqrt(1 / 128)).toBeLessThan(0.1);
  });
  it('glorot-uniform: inside (-a, a) with std a/sqrt(3), a = sqrt(6/(in+out))', () => {
    const a = Math.sqrt(6 / (inDim + outDim));
    const s = stats(initKernel('glorot-uniform', inDim, outDim, new SeededRandom(4)));
    expect(s.min).toBeGreaterThanOrEqual(-a);
    expect(s.max).toBeLessThan(a);
    expect(s.max).toBeGreaterThan(0.99 * a);
    expect(Math.abs(s.sd - a / Math.sqrt(3)) / (a / Math.sqrt(3))).toBeLessThan(0.05);
  });
  it('zeros, and an unknown init is an error naming the valid ones', () => {
    expect(initKernel('zeros', 3, 4, new SeededRandom(1)).every((v) => v === 0)).toBe(true);
    expect(() => initKernel('xavier' as 'zeros', 3, 4, new SeededRandom(1))).toThrow(
      "dense init 'xavier' is unknown: expected one of glorot-normal, glorot-uniform, lecun-normal, he-normal, zeros",
    );
  });
});

const weightsBySeed = new Map<string, Float32Array>();

describe.each<BackendName>(['cpu', 'wasm'])('on the %s backend', (backendName) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backendName });
    expect(tf.getBackend()).toBe(backendName);
  });

  it('explicit-transpose matMul: same value and same gradients (tf.grads) as tf.matMul, to 1e-5', () => {
    tf.tidy(() => {
      const x = randomTensor(37, 23, 11);
      const w = randomTensor(23, 19, 12);
      const dy = randomTensor(37, 19, 13);
      const stock = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
      const explicit = tf.grads((a: tf.Tensor, b: tf.Tensor) => matMul(a as tf.Tensor2D, b as tf.Tensor2D, true));
      const [sx, sw] = stock([x, w], dy);
      const [ex, ew] = explicit([x, w], dy);
      expect(ex!.shape).toEqual([37, 23]);
      expect(ew!.shape).toEqual([23, 19]);
      // the values are not trivial (would hide a zero-gradient bug)
      expect(tf.max(tf.abs(sx!)).dataSync()[0]).toBeGreaterThan(1);
      expect(maxAbsDiff(ex!.dataSync(), sx!.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(ew!.dataSync(), sw!.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(matMul(x, w, true).dataSync(), tf.matMul(x, w).dataSync())).toBeLessThan(1e-5);
      // and against the textbook formulas computed independently of both paths
      const refDx = tf.matMul(dy, w, false, true).dataSync();
      const refDw = tf.matMul(x, dy, true, false).dataSync();
      expect(maxAbsDiff(ex!.dataSync(), refDx)).toBeLessThan(1e-5);
      expect(maxAbsDiff(ew!.dataSync(), refDw)).toBeLessThan(1e-5);
    });
  });

  it('the explicit path runs no matmul with a transposed operand (the wasm slow path); the stock one does', () => {
    const original = tf.getKernel('BatchMatMul', backendName)!;
    const seen: string[] = [];
    tf.unregisterKernel('BatchMatMul', backendName);
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
        seen.push(`${attrs.transposeA ? 'T' : 'N'}${attrs.transposeB ? 'T' : 'N'}`);
        return original.kernelFunc(args);
      },
    });
    try {
      const run = (explicit: boolean) =>
        tf.tidy(() => {
          seen.length = 0;
          const f = (a: tf.Tensor, b: tf.Tensor) => matMul(a as tf.Tensor2D, b as tf.Tensor2D, explicit);
          tf.grads(f)([randomTensor(6, 4, 1), randomTensor(4, 3, 2)], randomTensor(6, 3, 3));
          return [...seen];
        });
      expect(run(true)).toEqual(['NN', 'NN', 'NN']); // forward, dx, dw
      expect(run(false).filter((k) => k !== 'NN').length).toBeGreaterThan(0);
    } finally {
      tf.unregisterKernel('BatchMatMul', backendName);
      tf.registerKernel(original);
    }
  });

  it('matMul gradients through a loss (sum of squares) match between paths', () => {
    tf.tidy(() => {
      const x = randomTensor(8, 5, 21);
      const w = randomTensor(5, 3, 22);
      const loss = (explicit: boolean) => (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(matMul(a as tf.Tensor2D, b as tf.Tensor2D, explicit)));
      const [sx, sw] = tf.grads(loss(false))([x, w]);
      const [ex, ew] = tf.grads(loss(true))([x, w]);
      expect(maxAbsDiff(ex!.dataSync(), sx!.dataSync())).toBeLessThan(1e-4);
      expect(maxAbsDiff(ew!.dataSync(), sw!.dataSync())).toBeLessThan(1e-4);
    });
  });

  it('Dense: same seed -> identical weights (also across backends), different seed -> different', () => {
    const make = (seed: number) =>
      new Dense({ inDim: 64, outDim: 32, random: new SeededRandom(seed), explicitTranspose: explicitTransposeFor(backendName) });
    const a = make(5);
    const b = make(5);
    const c = make(6);
    const wa = a.getWeights();
    expect(wa.kernel).toHaveLength(64 * 32);
    expect(wa.bias).toEqual(new Float32Array(32));
    expect(b.getWeights().kernel).toEqual(wa.kernel);
    expect(maxAbsDiff(c.getWeights().kernel, wa.kernel)).toBeGreaterThan(0.01);
    // the same numbers the RandomSource gives, so no tf random op is involved
    expect(wa.kernel).toEqual(initKernel('glorot-normal', 64, 32, new SeededRandom(5)));
    const other = weightsBySeed.get('5');
    if (other) expect(wa.kernel).toEqual(other); // the second backend compares with the first
    else weightsBySeed.set('5', wa.kernel);
    for (const d of [a, b, c]) d.dispose();
  });

  it('Dense.apply computes x @ kernel + bias, and checks the input shape', () => {
    const d = new Dense({ inDim: 2, outDim: 3, random: new SeededRandom(1), explicitTranspose: true, name: 'proj' });
    d.setWeights({ kernel: [1, 2, 3, 4, 5, 6], bias: [0.5, -1, 0] });
    expect(Array.from(d.getWeights().kernel)).toEqual([1, 2, 3, 4, 5, 6]);
    const y = tf.tidy(() => d.apply(tf.tensor2d([[1, 1], [2, 0]])).arraySync());
    expect(y).toEqual([[5.5, 6, 9], [2.5, 3, 6]]);
    expect(() => d.apply(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow('proj: expected input of shape [n, 2], found [1, 3]');
    expect(() => d.setWeights({ kernel: [1, 2] })).toThrow(/proj: kernel must have 2x3 = 6 values/);
    const noBias = new Dense({ inDim: 2, outDim: 1, bias: false, init: 'zeros', random: new SeededRandom(1), explicitTranspose: false });
    expect(noBias.variables).toHaveLength(1);
    expect(noBias.getWeights()).toEqual({ kernel: new Float32Array(2) });
    d.dispose();
    noBias.dispose();
    tf.disposeVariables();
  });

  it('no tensor leak on construction and dispose', () => {
    const before = tf.memory().numTensors;
    const d = new Dense({ inDim: 16, outDim: 8, random: new SeededRandom(3), explicitTranspose: explicitTransposeFor(backendName) });
    expect(tf.memory().numTensors).toBe(before + 2); // kernel and bias variables, nothing else
    d.setWeights(d.getWeights());
    expect(tf.memory().numTensors).toBe(before + 2);
    d.dispose();
    d.dispose(); // idempotent
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tiny regression: loss decreases and numTensors stays flat over 20 adam steps', () => {
    const start = tf.memory().numTensors;
    const explicitTranspose = explicitTransposeFor(backendName);
    const rng = new SeededRandom(9);
    const hidden = new Dense({ inDim: 4, outDim: 16, init: 'he-normal', random: rng.fork('hidden'), explicitTranspose });
    const out = new Dense({ inDim: 16, outDim: 1, random: rng.fork('out'), explicitTranspose });
    const x = randomTensor(64, 4, 10);
    const y = tf.tidy(() => tf.matMul(x, tf.tensor2d([[1], [-2], [0.5], [3]])).add(1) as tf.Tensor2D);
    const optimizer = tf.train.adam(0.05);
    const varList = [...hidden.variables, ...out.variables];
    const losses: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 20; step++) {
      tf.tidy(() => {
        const loss = optimizer.minimize(
          () => tf.losses.meanSquaredError(y, out.apply(tf.relu(hidden.apply(x)))) as tf.Scalar,
          true,
          varList,
        )!;
        losses.push(loss.dataSync()[0]!);
      });
      counts.push(tf.memory().numTensors);
    }
    // the first step creates adam's moment variables; afterwards nothing may accumulate
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts[1]).toBe(counts[0]);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(0.5 * losses[0]!);
    optimizer.dispose();
    hidden.dispose();
    out.dispose();
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
