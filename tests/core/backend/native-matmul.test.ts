import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { describeNativeMatmul, installNativeMatmul, nativeMatmulStatus, uninstallNativeMatmul } from '../../../core/backend/native-matmul.js';
import { explicitTransposeFor } from '../../../core/model/dense.js';
import { SeededRandom } from '../../../core/services/random.js';

await selectBackend({ prefer: 'wasm' });
const skipReason = nativeMatmulStatus().active ? null : (nativeMatmulStatus().reason ?? 'inactive');

/** Float64 reference: C[b] = op(A[b]) @ op(B[b]) from row-major arrays, written here (no tfjs). */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean): Float64Array {
  const [ba, ra, ca] = aShape.length === 3 ? aShape : [1, ...aShape];
  const [bb, rb, cb] = bShape.length === 3 ? bShape : [1, ...bShape];
  const m = ta ? ca! : ra!;
  const k = ta ? ra! : ca!;
  const n = tb ? rb! : cb!;
  const batch = Math.max(ba!, bb!);
  const out = new Float64Array(batch * m * n);
  for (let x = 0; x < batch; x++) {
    const ao = (ba === 1 ? 0 : x) * ra! * ca!;
    const bo = (bb === 1 ? 0 : x) * rb! * cb!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[ao + p * ca! + i]! : a[ao + i * ca! + p]!;
          const bv = tb ? b[bo + j * cb! + p]! : b[bo + p * cb! + j]!;
          s += av * bv;
        }
        out[x * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

function randomArray(n: number, rng: SeededRandom): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, 1);
  return out;
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  return err / Math.max(scale, 1e-30);
}

const CASES: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { a: [37, 19], b: [19, 23], ta: false, tb: false },
  { a: [19, 37], b: [19, 23], ta: true, tb: false },
  { a: [37, 19], b: [23, 19], ta: false, tb: true },
  { a: [19, 37], b: [23, 19], ta: true, tb: true },
  { a: [1, 64], b: [64, 1], ta: false, tb: false },
  { a: [3, 5, 7], b: [3, 7, 4], ta: false, tb: false },
  { a: [3, 7, 5], b: [1, 4, 7], ta: true, tb: true },
  { a: [1, 5, 7], b: [3, 7, 4], ta: false, tb: false },
  { a: [300, 129], b: [129, 65], ta: false, tb: false },
];

describe.skipIf(skipReason !== null)(`native sgemm BatchMatMul on wasm (${skipReason ?? describeNativeMatmul()})`, () => {
  it('is active after selecting wasm, and turns the explicit-transpose gradient path off', () => {
    expect(nativeMatmulStatus().active).toBe(true);
    expect(explicitTransposeFor('wasm')).toBe(false);
  });

  it.each(CASES)('matMul $a x $b (transposeA $ta, transposeB $tb) equals a float64 reference to 1e-5', ({ a, b, ta, tb }) => {
    const rng = new SeededRandom(a.concat(b).reduce((s, d) => s * 31 + d, 7));
    const av = randomArray(a.reduce((p, d) => p * d, 1), rng);
    const bv = randomArray(b.reduce((p, d) => p * d, 1), rng);
    const got = tf.tidy(() => tf.matMul(tf.tensor(av, a), tf.tensor(bv, b), ta, tb));
    const data = got.dataSync();
    const want = reference(av, a, bv, b, ta, tb);
    got.dispose();
    expect(data.length).toBe(want.length);
    expect(maxRelError(data, want)).toBeLessThan(1e-5);
  });

  it('gives the shape tfjs gives (batch dims kept, broadcast of a batch of one)', () => {
    const shapes = tf.tidy(() => [
      tf.matMul(tf.ones([2, 3, 4]), tf.ones([1, 4, 5])).shape,
      tf.matMul(tf.ones([3, 4]), tf.ones([4, 5])).shape,
      tf.matMul(tf.ones([1, 3, 4]), tf.ones([2, 4, 5])).shape,
    ]);
    expect(shapes).toEqual([[2, 3, 5], [3, 5], [2, 3, 5]]);
  });

  it('k = 0 gives zeros (the output buffer is not left uninitialised)', () => {
    const z = tf.tidy(() => tf.matMul(tf.ones([3, 0]), tf.ones([0, 2])));
    expect(Array.from(z.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    z.dispose();
  });

  it("tf.grads through matMul equals the reference gradients, and leaves tf.memory().numTensors flat", () => {
    const rng = new SeededRandom(5);
    const xv = randomArray(50 * 30, rng);
    const wv = randomArray(30 * 20, rng);
    const dyv = randomArray(50 * 20, rng);
    const x = tf.tensor2d(xv, [50, 30]);
    const w = tf.tensor2d(wv, [30, 20]);
    const dy = tf.tensor2d(dyv, [50, 20]);
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) {
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b))([x, w], dy);
      // dL/dx = dy @ w^T, dL/dw = x^T @ dy
      expect(maxRelError(gx!.dataSync(), reference(dyv, [50, 20], wv, [30, 20], false, true))).toBeLessThan(1e-5);
      expect(maxRelError(gw!.dataSync(), reference(xv, [50, 30], dyv, [50, 20], true, false))).toBeLessThan(1e-5);
      tf.dispose([gx!, gw!]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, dy]);
  });

  it('is deterministic (bit-identical results on repeat) and agrees with the wasm kernel it replaces', () => {
    const rng = new SeededRandom(9);
    const av = randomArray(512 * 256, rng);
    const bv = randomArray(256 * 128, rng);
    const run = (): Float32Array => {
      const y = tf.tidy(() => tf.matMul(tf.tensor2d(av, [512, 256]), tf.tensor2d(bv, [128, 256]), false, true));
      const data = Float32Array.from(y.dataSync() as Float32Array);
      y.dispose();
      return data;
    };
    const first = run();
    expect(Array.from(run())).toEqual(Array.from(first));
    uninstallNativeMatmul();
    try {
      expect(nativeMatmulStatus().active).toBe(false);
      const wasm = run();
      expect(maxRelError(first, wasm)).toBeLessThan(1e-5);
    } finally {
      installNativeMatmul();
    }
    expect(nativeMatmulStatus().active).toBe(true);
  });
});

describe('native sgemm when it cannot load', () => {
  let wasActive = false;
  beforeAll(() => {
    wasActive = nativeMatmulStatus().active;
    uninstallNativeMatmul();
  });
  afterAll(() => {
    if (wasActive) installNativeMatmul();
  });

  it('a missing BLAS library leaves the wasm kernel in place and says what was tried and how to install it', () => {
    const s = installNativeMatmul({ libraries: ['libmmsurv-no-such-blas.so.0'] });
    expect(s.active).toBe(false);
    expect(s.reason).toContain('libmmsurv-no-such-blas.so.0');
    expect(s.reason).toContain('apt-get install libopenblas0');
    expect(explicitTransposeFor('wasm')).toBe(true);
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
    expect(Array.from(y.dataSync())).toEqual([19, 22, 43, 50]);
    y.dispose();
  });

  it('MMSURV_NATIVE_MATMUL=0 turns it off', () => {
    const saved = process.env.MMSURV_NATIVE_MATMUL;
    process.env.MMSURV_NATIVE_MATMUL = '0';
    try {
      const s = installNativeMatmul();
      expect(s.active).toBe(false);
      expect(s.reason).toContain('MMSURV_NATIVE_MATMUL=0');
      expect(describeNativeMatmul(s)).toMatch(/^wasm matmul \(native sgemm off: /);
    } finally {
      if (saved === undefined) delete process.env.MMSURV_NATIVE_MATMUL;
      else process.env.MMSURV_NATIVE_MATMUL = saved;
    }
  });
});
