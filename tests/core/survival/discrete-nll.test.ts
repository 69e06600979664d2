/**
 * Discrete-time NLL: against SurvPath's nll_loss values (golden toy file), against a float64 reimplementation written
 * here from the formula (sigmoid, cumulative product, clamp in probability space: deliberately not the log-space
 * form the implementation uses), gradients against central finite differences of that float64 reference.
 *
 * Gradient tolerance: the reference is float64, so its central differences with step 1e-6 are exact to ~1e-9;
 * tf.grad runs in float32 (~1e-7 relative per op over a handful of ops), so |tf - fd| < 1e-5 + 1e-4 |fd|.
 * A second check differentiates the float32 tfjs loss itself (step 1e-2: truncation ~h^2 = 1e-4, rounding
 * ~1e-7 / h = 1e-5), tolerance 2e-3 + 2e-3 |fd|.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { Dense, explicitTransposeFor } from '../../../core/model/dense.js';
import { SeededRandom } from '../../../core/services/random.js';
import {
  discreteNll,
  discreteNllFloat64,
  discreteNllFloat64PerSample,
  discreteNllPerSample,
} from '../../../core/survival/discrete-nll.js';

const golden = JSON.parse(readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8')) as {
  discrete: { logits: number[][] };
  nll: { y_bin: number[]; c: number[]; per_sample_alpha0: number[]; sum_alpha0: number; sum_alpha05: number };
};

/** The formula of METHODS.md, literally, in float64. */
function referenceNll(logits: number[][], y: number[], c: number[], alpha: number, eps = 1e-7): number[] {
  return logits.map((h, i) => {
    const hazard = h.map((v) => 1 / (1 + Math.exp(-v)));
    const S: number[] = [];
    let prod = 1;
    for (const hz of hazard) S.push((prod *= 1 - hz));
    const Spad = [1, ...S];
    const sPrev = Math.max(Spad[y[i]!]!, eps);
    const hThis = Math.max(hazard[y[i]!]!, eps);
    const sThis = Math.max(Spad[y[i]! + 1]!, eps);
    const uncensored = -(1 - c[i]!) * (Math.log(sPrev) + Math.log(hThis));
    const censored = -c[i]! * Math.log(sThis);
    return (1 - alpha) * (censored + uncensored) + alpha * uncensored;
  });
}
const sum = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0);

function randomBatch(seed: number, b: number, k: number, scale = 2) {
  const rng = new SeededRandom(seed);
  const logits = Array.from({ length: b }, () => Array.from({ length: k }, () => rng.normal(0, scale)));
  const y = Array.from({ length: b }, () => rng.int(k));
  const c = Array.from({ length: b }, () => (rng.uniform() < 0.4 ? 1 : 0));
  return { logits, y, c };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number, rel: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]!);
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol)) {
      throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]} (|diff| ${Math.abs(actual[i]! - expected[i]!)} > ${tol})`);
    }
  }
}

describe('discreteNllFloat64 (no tfjs)', () => {
  it('equals SurvPath nll_loss on the golden toy cohort: per case (alpha 0) and sums (alpha 0 and 0.5), 1e-12', () => {
    const { logits } = golden.discrete;
    const { y_bin, c, per_sample_alpha0, sum_alpha0, sum_alpha05 } = golden.nll;
    expectClose(discreteNllFloat64PerSample(logits, y_bin, c), per_sample_alpha0, 1e-12, 0);
    expect(Math.abs(discreteNllFloat64(logits, y_bin, c, { reduction: 'sum' }) - sum_alpha0)).toBeLessThan(1e-12);
    expect(Math.abs(discreteNllFloat64(logits, y_bin, c, { alpha: 0.5, reduction: 'sum' }) - sum_alpha05)).toBeLessThan(1e-12);
    expect(Math.abs(discreteNllFloat64(logits, y_bin, c, { alpha: 0.5 }) - sum_alpha05 / 12)).toBeLessThan(1e-12);
    // and the test's own reference agrees with the golden values (so it can stand in for them below)
    expectClose(referenceNll(logits, y_bin, c, 0), per_sample_alpha0, 1e-12, 0);
    expect(Math.abs(sum(referenceNll(logits, y_bin, c, 0.5)) - sum_alpha05)).toBeLessThan(1e-12);
  });

  it('equals the reference on random batches, alpha 0 / 0.5 / 1, including clamped extreme logits', () => {
    for (const [seed, scale] of [[1, 2], [2, 6], [3, 25]] as const) {
      const { logits, y, c } = randomBatch(seed, 40, 4, scale);
      for (const alpha of [0, 0.5, 1]) {
        expectClose(discreteNllFloat64PerSample(logits, y, c, { alpha }), referenceNll(logits, y, c, alpha), 1e-9, 1e-9);
      }
    }
    // hazards of 1 and 0 in float64: the clamp caps each log term at -log(1e-7)
    const capped = discreteNllFloat64PerSample([[-60, 0, 0], [60, 60, 60]], [0, 2], [0, 1]);
    expectClose(capped, [-Math.log(1e-7), -Math.log(1e-7)], 1e-9, 0);
  });

  it('rejects bad labels and non-finite logits, naming the index', () => {
    expect(() => discreteNllFloat64([[0, 1], [NaN, 0]], [0, 1], [0, 0])).toThrow(/logits\[1\]\[0\] is NaN/);
    expect(() => discreteNllFloat64([[0, 1]], [2], [0])).toThrow(/bin\[0\] must be an integer in \[0, 1\].*found 2/);
    expect(() => discreteNllFloat64([[0, 1]], [0.5], [0])).toThrow(/bin\[0\]/);
    expect(() => discreteNllFloat64([[0, 1]], [0], [2])).toThrow(/censored\[0\] must be a boolean or 0\/1.*found 2/);
    expect(() => discreteNllFloat64([[0, 1]], [0, 1], [0])).toThrow(/1 rows but bin has 2 and censored 1/);
    expect(() => discreteNllFloat64([[0, 1]], [0], [0], { alpha: 2 })).toThrow(/alpha must be in \[0, 1\], found 2/);
    expect(() => discreteNllFloat64([], [], [])).toThrow(/the batch is empty/);
  });

  it('property: the loss is >= 0 and accepts booleans for censored', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.double({ min: 0, max: 1, noNaN: true }), (seed, alpha) => {
        const { logits, y, c } = randomBatch(seed, 5, 4, 4);
        const v = discreteNllFloat64PerSample(logits, y, c, { alpha });
        expect(Array.from(v).every((x) => x >= 0)).toBe(true);
        expect(discreteNllFloat64PerSample(logits, y, c.map((x) => x === 1), { alpha })).toEqual(v);
      }),
      { numRuns: 50 },
    );
  });
});

describe.each<BackendName>(['cpu', 'wasm'])('discreteNll on the %s backend', (backendName) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backendName });
    expect(tf.getBackend()).toBe(backendName);
  });

  it('equals SurvPath nll_loss on the golden toy cohort (float32: 1e-5 relative)', () => {
    const { logits } = golden.discrete;
    const { y_bin, c, per_sample_alpha0, sum_alpha0, sum_alpha05 } = golden.nll;
    tf.tidy(() => {
      const h = tf.tensor2d(logits);
      expectClose(discreteNllPerSample(h, y_bin, c).dataSync(), per_sample_alpha0, 1e-6, 1e-5);
      expect(discreteNll(h, Int32Array.from(y_bin), Uint8Array.from(c), { reduction: 'sum' }).dataSync()[0]!).toBeCloseTo(sum_alpha0, 4);
      expectClose(discreteNll(h, y_bin, c, { alpha: 0.5, reduction: 'sum' }).dataSync(), [sum_alpha05], 0, 1e-5);
      expectClose(discreteNll(h, y_bin, c, { alpha: 0.5 }).dataSync(), [sum_alpha05 / 12], 0, 1e-5);
      expectClose(discreteNllPerSample(h, y_bin, c, { alpha: 0.5 }).dataSync(), referenceNll(logits, y_bin, c, 0.5), 1e-6, 1e-5);
    });
  });

  it('equals the float64 reference on random batches, including extreme logits (stable log-space form)', () => {
    for (const [seed, scale] of [[4, 2], [5, 8], [6, 40]] as const) {
      const { logits, y, c } = randomBatch(seed, 32, 4, scale);
      for (const alpha of [0, 0.5]) {
        const got = tf.tidy(() => discreteNllPerSample(tf.tensor2d(logits), y, c, { alpha }).dataSync());
        // float32 logits differ from the float64 ones by ~6e-8 relative; log terms up to ~|h|
        expectClose(got, referenceNll(logits, y, c, alpha), 1e-5, 1e-5);
      }
    }
  });

  it('gradients equal central finite differences of the float64 reference (alpha 0 and 0.5, sum and mean)', () => {
    const { logits, y, c } = randomBatch(7, 12, 4, 1.5);
    for (const alpha of [0, 0.5]) {
      for (const reduction of ['sum', 'mean'] as const) {
        const grad = tf.tidy(() =>
          tf.grad((h: tf.Tensor) => discreteNll(h as tf.Tensor2D, y, c, { alpha, reduction }))(tf.tensor2d(logits)).dataSync(),
        );
        const step = 1e-6;
        const fd: number[] = [];
        const f = (l: number[][]) => sum(referenceNll(l, y, c, alpha)) / (reduction === 'mean' ? l.length : 1);
        for (let i = 0; i < logits.length; i++) {
          for (let k = 0; k < 4; k++) {
            const plus = logits.map((r) => [...r]);
            const minus = logits.map((r) => [...r]);
            plus[i]![k]! += step;
            minus[i]![k]! -= step;
            fd.push((f(plus) - f(minus)) / (2 * step));
          }
        }
        expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(reduction === 'sum' ? 0.1 : 0.1 / 12); // not trivially zero
        expectClose(grad, fd, 1e-5, 1e-4);
      }
    }
  });

  it('gradients equal float32 finite differences of the tfjs loss itself (step 1e-2)', () => {
    const { logits, y, c } = randomBatch(8, 6, 4, 1);
    const f = (l: number[][]) => tf.tidy(() => discreteNll(tf.tensor2d(l), y, c, { alpha: 0.5, reduction: 'sum' }).dataSync()[0]!);
    const grad = tf.tidy(() =>
      tf.grad((h: tf.Tensor) => discreteNll(h as tf.Tensor2D, y, c, { alpha: 0.5, reduction: 'sum' }))(tf.tensor2d(logits)).dataSync(),
    );
    const step = 1e-2;
    const fd: number[] = [];
    for (let i = 0; i < logits.length; i++) {
      for (let k = 0; k < 4; k++) {
        const plus = logits.map((r) => [...r]);
        const minus = logits.map((r) => [...r]);
        plus[i]![k]! += step;
        minus[i]![k]! -= step;
        fd.push((f(plus) - f(minus)) / (2 * step));
      }
    }
    expectClose(grad, fd, 2e-3, 2e-3);
  });

  it('rejects non-finite logits with their index, and bad labels', () => {
    tf.tidy(() => {
      const h = tf.tensor2d([[0, 1, 2], [3, Infinity, 5]]);
      expect(() => discreteNll(h, [0, 1], [0, 0])).toThrow(/logits\[1\]\[1\] is Infinity: the model produced a non-finite output/);
      expect(() => discreteNll(tf.tensor2d([[0, NaN]]), [0], [0])).toThrow(/logits\[0\]\[1\] is NaN/);
      expect(() => discreteNll(tf.tensor2d([[0, 1]]), [-1], [0])).toThrow(/bin\[0\] must be an integer in \[0, 1\]/);
      expect(() => discreteNll(tf.tensor1d([0, 1]) as unknown as tf.Tensor2D, [0], [0])).toThrow(/logits must be \[batch, bins\]/);
      expect(() => discreteNll(tf.tensor2d([[0, 1]]), [0], [0], { reduction: 'none' as 'sum' })).toThrow(/reduction must be/);
      // checkFinite: false skips the read-back (the NaN then propagates)
      expect(Number.isNaN(discreteNll(tf.tensor2d([[0, NaN]]), [1], [0], { checkFinite: false }).dataSync()[0])).toBe(true);
    });
  });

  it('20 optimisation steps: numTensors flat, loss decreases, no tensor left behind', () => {
    const start = tf.memory().numTensors;
    const rng = new SeededRandom(12);
    const layer = new Dense({ inDim: 5, outDim: 4, random: rng.fork('head'), explicitTranspose: explicitTransposeFor(backendName) });
    const x = tf.tidy(() => tf.tensor2d(Float32Array.from({ length: 48 * 5 }, () => rng.normal()), [48, 5]));
    const y = Array.from({ length: 48 }, () => rng.int(4));
    const c = Array.from({ length: 48 }, () => (rng.uniform() < 0.3 ? 1 : 0));
    const optimizer = tf.train.adam(0.05);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 20; step++) {
      tf.tidy(() => {
        const loss = optimizer.minimize(() => discreteNll(layer.apply(x), y, c, { alpha: 0.5 }), true, layer.variables)!;
        losses.push(loss.dataSync()[0]!);
      });
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[19]!).toBeLessThan(losses[0]!);
    optimizer.dispose();
    layer.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
