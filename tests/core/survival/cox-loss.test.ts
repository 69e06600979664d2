/**
 * Cox partial likelihood: against R survival (`coxph(Surv(time, event) ~ offset(risk), ties)$loglik`, from the
 * reference files in tests/reference and from Rscript on a random tied cohort when R is installed), against a naive
 * O(n^2) float64 reimplementation written here from the formula, and gradients against central finite differences.
 *
 * Tolerances: float64 code vs R 1e-6 absolute; the float32 tfjs loss vs R 1e-5 relative. Gradients: tf.grad
 * (float32) vs central differences (step 1e-6) of the float64 naive reference, |tf - fd| < 1e-5 + 1e-4 |fd|; and vs
 * central differences of the float32 tfjs loss itself (step 1e-2: truncation ~1e-4, rounding ~1e-5), 2e-3 + 2e-3 |fd|.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { Dense, explicitTransposeFor } from '../../../core/model/dense.js';
import { SeededRandom } from '../../../core/services/random.js';
import { coxNegLogLikFloat64, coxPartialLikelihoodLoss, type CoxTies } from '../../../core/survival/cox-loss.js';

interface CoxReference {
  time: number[];
  event: number[];
  risk: number[];
  cox_loglik_breslow: number | number[];
  cox_loglik_efron: number | number[];
  /** 0-based indices of a small subset with tied times (`index` in tests/reference/R/reference-lib.R). */
  cox_subset: { index?: number[]; indices?: number[]; loglik_breslow: number | number[]; loglik_efron: number | number[] };
}
/** The real cohorts, and the 12-case golden toy cohort (its `risk` is the toy's given risk). */
const COHORTS = ['lung', 'veteran', 'gbsg', 'myeloma', 'toy'] as const;
const subsetIndex = (ref: CoxReference) => ref.cox_subset.index ?? ref.cox_subset.indices!;
const refPath = (name: string) => new URL(`../../reference/${name}.json`, import.meta.url);
const loadRef = (name: string) => JSON.parse(readFileSync(refPath(name), 'utf8')) as CoxReference;
/** R writes a null model's loglik as one number; a vector's last element is the value at the fit. */
const num = (v: number | number[]) => (Array.isArray(v) ? v[v.length - 1]! : v);

function rAvailable(): boolean {
  try {
    execFileSync('Rscript', ['-e', 'suppressMessages(library(survival))'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
const hasR = rAvailable();

/** The partial likelihood, naively from its definition: O(n^2), float64, no sorting, no log-sum-exp. */
function naiveNegLogLik(r: number[], t: number[], e: number[], ties: CoxTies): number {
  const eventTimes = [...new Set(t.filter((_, i) => e[i] === 1))];
  let ll = 0;
  for (const tg of eventTimes) {
    const D = t.map((_, i) => i).filter((i) => t[i] === tg && e[i] === 1);
    const A = t.reduce((s, tj, j) => (tj >= tg ? s + Math.exp(r[j]!) : s), 0);
    const B = D.reduce((s, i) => s + Math.exp(r[i]!), 0);
    for (const i of D) ll += r[i]!;
    for (let l = 0; l < D.length; l++) ll -= Math.log(A - (ties === 'efron' ? (l / D.length) * B : 0));
  }
  return -ll;
}

function tiedCohort(seed: number, n: number, riskScale = 1) {
  const rng = new SeededRandom(seed);
  const time = Array.from({ length: n }, () => 1 + rng.int(Math.max(2, Math.floor(n / 3)))); // many ties
  const event = Array.from({ length: n }, () => (rng.uniform() < 0.6 ? 1 : 0));
  const risk = Array.from({ length: n }, () => rng.normal(0, riskScale));
  return { time, event, risk };
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

describe('coxNegLogLikFloat64 (no tfjs)', () => {
  for (const name of COHORTS) {
    it.skipIf(!existsSync(refPath(name)))(`equals -coxph(offset)$loglik on ${name} (full cohort and tied subset), 1e-6`, () => {
      const ref = loadRef(name);
      for (const ties of ['breslow', 'efron'] as const) {
        const r = num(ties === 'breslow' ? ref.cox_loglik_breslow : ref.cox_loglik_efron);
        expect(Math.abs(coxNegLogLikFloat64(ref.risk, ref.time, ref.event, ties) + r)).toBeLessThan(1e-6);
        const idx = subsetIndex(ref);
        const sub = num(ties === 'breslow' ? ref.cox_subset.loglik_breslow : ref.cox_subset.loglik_efron);
        const pick = <T>(a: T[]) => idx.map((i) => a[i]!);
        expect(Math.abs(coxNegLogLikFloat64(pick(ref.risk), pick(ref.time), pick(ref.event), ties) + sub)).toBeLessThan(1e-6);
      }
      // the subset really has tied times
      const subTimes = subsetIndex(ref).map((i) => ref.time[i]!);
      expect(new Set(subTimes).size).toBeLessThan(subTimes.length);
    });
  }

  it.skipIf(!hasR)('equals R coxph on a random cohort with heavy ties, both tie methods (needs Rscript)', () => {
    const { time, event, risk } = tiedCohort(31, 150, 1.5);
    const script =
      'suppressMessages(library(survival)); ' +
      `t <- c(${time.join(',')}); e <- c(${event.join(',')}); r <- c(${risk.map((v) => v.toPrecision(17)).join(',')}); ` +
      "for (ty in c('breslow', 'efron')) cat(sprintf('%.17g', coxph(Surv(t, e) ~ offset(r), ties = ty)$loglik), '')";
    const [breslow, efron] = execFileSync('Rscript', ['-e', script], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    expect(Math.abs(coxNegLogLikFloat64(risk, time, event, 'breslow') + breslow!)).toBeLessThan(1e-6);
    expect(Math.abs(coxNegLogLikFloat64(risk, time, event, 'efron') + efron!)).toBeLessThan(1e-6);
    expect(Math.abs(breslow! - efron!)).toBeGreaterThan(0.1); // the ties matter
  });

  it('equals the naive reference on random tied cohorts, also for risks up to +-300 (no overflow)', () => {
    for (const [seed, n, scale] of [[1, 30, 1], [2, 200, 2], [3, 60, 100]] as const) {
      const { time, event, risk } = tiedCohort(seed, n, scale);
      for (const ties of ['breslow', 'efron'] as const) {
        const ref = naiveNegLogLik(risk, time, event, ties);
        expect(Math.abs(coxNegLogLikFloat64(risk, time, event, ties) - ref)).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref)));
      }
    }
    expect(coxNegLogLikFloat64([1, 2, 3], [1, 2, 3], [0, 0, 0])).toBe(0);
    expect(coxNegLogLikFloat64([1e4, -1e4], [1, 2], [1, 1], 'breslow')).toBeCloseTo(0, 9); // e^{1e4} would overflow
  });

  it('property: invariant to adding a constant to every risk and to the order of the cases', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.double({ min: -50, max: 50, noNaN: true }), (seed, shift) => {
        const { time, event, risk } = tiedCohort(seed, 25);
        const base = coxNegLogLikFloat64(risk, time, event, 'efron');
        expect(coxNegLogLikFloat64(risk.map((r) => r + shift), time, event, 'efron')).toBeCloseTo(base, 8);
        const rev = (a: number[]) => [...a].reverse();
        expect(coxNegLogLikFloat64(rev(risk), rev(time), rev(event), 'efron')).toBeCloseTo(base, 10);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects non-finite values and bad events with their index', () => {
    expect(() => coxNegLogLikFloat64([0, NaN], [1, 2], [1, 1])).toThrow(/risk\[1\] must be a finite number, found NaN/);
    expect(() => coxNegLogLikFloat64([0, 1], [NaN, 2], [1, 1])).toThrow(/time\[0\] must be a finite number, found NaN/);
    expect(() => coxNegLogLikFloat64([0, 1], [1, 2], [1, 3])).toThrow(/event\[1\] must be a boolean or 0\/1, found 3/);
    expect(() => coxNegLogLikFloat64([0, 1], [1, 2], [1])).toThrow(/same length/);
    expect(() => coxNegLogLikFloat64([0], [1], [1], 'exact' as CoxTies)).toThrow(/ties must be 'breslow' or 'efron'/);
  });
});

describe.each<BackendName>(['cpu', 'wasm'])('coxPartialLikelihoodLoss on the %s backend', (backendName) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backendName });
    expect(tf.getBackend()).toBe(backendName);
  });

  const loss = (risk: number[], time: number[], event: number[], ties: CoxTies, reduction: 'sum' | 'mean' = 'sum') =>
    tf.tidy(() => coxPartialLikelihoodLoss(tf.tensor1d(risk), time, event, { ties, reduction }).dataSync()[0]!);

  for (const name of COHORTS) {
    it.skipIf(!existsSync(refPath(name)))(`equals -coxph(offset)$loglik on ${name} to 1e-5 relative (float32)`, () => {
      const ref = loadRef(name);
      const pick = <T>(a: T[]) => subsetIndex(ref).map((i) => a[i]!);
      for (const ties of ['breslow', 'efron'] as const) {
        const r = num(ties === 'breslow' ? ref.cox_loglik_breslow : ref.cox_loglik_efron);
        expectClose([loss(ref.risk, ref.time, ref.event, ties)], [-r], 0, 1e-5);
        const sub = num(ties === 'breslow' ? ref.cox_subset.loglik_breslow : ref.cox_subset.loglik_efron);
        expectClose([loss(pick(ref.risk), pick(ref.time), pick(ref.event), ties)], [-sub], 0, 1e-5);
      }
    });
  }

  it('equals the naive float64 reference on random tied batches, also for risks far beyond float32 exp range', () => {
    for (const [seed, n, scale] of [[4, 8, 1], [5, 64, 2], [6, 40, 150]] as const) {
      const { time, event, risk } = tiedCohort(seed, n, scale);
      const r32 = Array.from(Float32Array.from(risk)); // the reference sees the same float32 risks
      for (const ties of ['breslow', 'efron'] as const) {
        const ref = naiveNegLogLik(r32, time, event, ties);
        expectClose([loss(r32, time, event, ties)], [ref], 1e-4, 1e-5);
        const nEvents = event.filter((e) => e === 1).length;
        expectClose([loss(r32, time, event, ties, 'mean')], [ref / nEvents], 1e-5, 1e-5);
      }
    }
  });

  it('takes risk as [b] or [b, 1] alike, and checks its shape', () => {
    const { time, event, risk } = tiedCohort(9, 10);
    tf.tidy(() => {
      const a = coxPartialLikelihoodLoss(tf.tensor1d(risk), time, event).dataSync()[0];
      const b = coxPartialLikelihoodLoss(tf.tensor2d(risk, [10, 1]), time, event).dataSync()[0];
      expect(b).toBe(a);
      expect(() => coxPartialLikelihoodLoss(tf.tensor2d(risk, [5, 2]), time, event)).toThrow(/risk must have shape \[10\] or \[10, 1\].*found \[5, 2\]/);
    });
  });

  it('gradients equal central finite differences of the float64 reference (breslow and efron, sum and mean)', () => {
    const { time, event, risk } = tiedCohort(10, 16, 1);
    const r32 = Array.from(Float32Array.from(risk));
    const nEvents = event.filter((e) => e === 1).length;
    for (const ties of ['breslow', 'efron'] as const) {
      for (const reduction of ['sum', 'mean'] as const) {
        const grad = tf.tidy(() =>
          tf.grad((r: tf.Tensor) => coxPartialLikelihoodLoss(r, time, event, { ties, reduction }))(tf.tensor1d(r32)).dataSync(),
        );
        const step = 1e-6;
        const div = reduction === 'mean' ? nEvents : 1;
        const fd = r32.map((_, i) => {
          const plus = [...r32];
          const minus = [...r32];
          plus[i]! += step;
          minus[i]! -= step;
          return (naiveNegLogLik(plus, time, event, ties) - naiveNegLogLik(minus, time, event, ties)) / (2 * step) / div;
        });
        expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(0.2 / div);
        expectClose(grad, fd, 1e-5, 1e-4);
      }
    }
    // the gradient sums to zero (shift invariance), a check independent of any reference
    const g = tf.tidy(() => tf.grad((r: tf.Tensor) => coxPartialLikelihoodLoss(r, time, event))(tf.tensor1d(r32)).dataSync());
    expect(Math.abs(Array.from(g).reduce((s, v) => s + v, 0))).toBeLessThan(1e-5);
  });

  it('gradients equal float32 finite differences of the tfjs loss itself (step 1e-2)', () => {
    const { time, event, risk } = tiedCohort(11, 12, 1);
    for (const ties of ['breslow', 'efron'] as const) {
      const grad = tf.tidy(() =>
        tf.grad((r: tf.Tensor) => coxPartialLikelihoodLoss(r, time, event, { ties, reduction: 'sum' }))(tf.tensor1d(risk)).dataSync(),
      );
      const fd = risk.map((_, i) => {
        const plus = [...risk];
        const minus = [...risk];
        plus[i]! += 1e-2;
        minus[i]! -= 1e-2;
        return (loss(plus, time, event, ties) - loss(minus, time, event, ties)) / 2e-2;
      });
      expectClose(grad, fd, 2e-3, 2e-3);
    }
  });

  it('one case or no event: 0, a warning saying why and what to do, zero gradients', () => {
    for (const [time, event] of [[[5], [1]], [[5, 7, 9], [0, 0, 0]], [[], []]] as [number[], number[]][]) {
      const warnings: string[] = [];
      const risk = time.map((_, i) => 0.3 * i + 0.1);
      const [value, grad] = tf.tidy(() => {
        const f = (r: tf.Tensor) => coxPartialLikelihoodLoss(r, time, event, { onWarning: (m) => warnings.push(m) });
        const { value, grad } = tf.valueAndGrad(f)(tf.tensor1d(risk, 'float32'));
        return [value.dataSync()[0], Array.from(grad.dataSync())];
      });
      expect(value).toBe(0);
      expect(grad).toEqual(risk.map(() => 0));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/batch of \d case\(s\) with \d event\(s\) has no pair to rank.*loss is 0.*class-balanced sampling/);
    }
    // without a callback it is silent
    expect(loss([1, 2], [3, 4], [0, 0], 'efron')).toBe(0);
  });

  it('rejects non-finite risks (with the index), times and bad events', () => {
    tf.tidy(() => {
      expect(() => coxPartialLikelihoodLoss(tf.tensor1d([0, NaN, 1]), [1, 2, 3], [1, 1, 0])).toThrow(
        /coxPartialLikelihoodLoss: risk\[1\] must be a finite number, found NaN/,
      );
      expect(() => coxPartialLikelihoodLoss(tf.tensor1d([0, 1]), [1, Infinity], [1, 1])).toThrow(/time\[1\] must be a finite number, found Infinity/);
      expect(() => coxPartialLikelihoodLoss(tf.tensor1d([0, 1]), [1, 2], [1, -1])).toThrow(/event\[1\] must be a boolean or 0\/1/);
      expect(() => coxPartialLikelihoodLoss(tf.tensor1d([0, 1]), [1, 2], [1])).toThrow(/same length/);
      expect(() => coxPartialLikelihoodLoss(tf.tensor1d([0, 1]), [1, 2], [1, 1], { reduction: 'none' as 'sum' })).toThrow(/reduction/);
    });
  });

  it('20 optimisation steps with each tie method: numTensors flat, loss decreases, nothing left behind', () => {
    for (const ties of ['breslow', 'efron'] as const) {
      const start = tf.memory().numTensors;
      const rng = new SeededRandom(13);
      const layer = new Dense({ inDim: 3, outDim: 1, random: rng.fork('cox'), explicitTranspose: explicitTransposeFor(backendName) });
      const xs = Float32Array.from({ length: 64 * 3 }, () => rng.normal());
      const x = tf.tensor2d(xs, [64, 3]);
      // times from a known hazard exp(x0 - x1), rounded so that they tie
      const time = Array.from({ length: 64 }, (_, i) => Math.ceil(10 * -Math.log(rng.uniform() + 1e-9) / Math.exp(xs[i * 3]! - xs[i * 3 + 1]!)));
      const event = time.map(() => (rng.uniform() < 0.7 ? 1 : 0));
      const optimizer = tf.train.adam(0.05);
      const losses: number[] = [];
      const counts: number[] = [];
      for (let step = 0; step < 20; step++) {
        tf.tidy(() => {
          const l = optimizer.minimize(() => coxPartialLikelihoodLoss(layer.apply(x), time, event, { ties }), true, layer.variables)!;
          losses.push(l.dataSync()[0]!);
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
    }
  });
});
