/**
 * Survival curves and risks: discrete-time S against the golden toy file (pycox/SurvPath `cumprod(1 - sigmoid)`),
 * the Breslow/Efron baseline and S(t | x) against R survival (`basehaz(fit, centered = FALSE)`, `survfit(fit,
 * newdata)`) from the reference files in tests/reference and from Rscript when R is installed; all to 1e-6.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../core/services/random.js';
import {
  breslowBaseline,
  coxSurvival,
  cumHazardAt,
  riskFromSurvival,
  binSurvivalAt,
  survivalFromHazards,
} from '../../../core/survival/predict.js';

const golden = JSON.parse(readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8')) as {
  discrete: { logits: number[][]; S: number[][]; risk: number[] };
};

/** The fields of tests/reference/<cohort>.json used here (written by tests/reference/R/reference-lib.R). */
interface SurvReference {
  time: number[];
  event: number[];
  /** The centred linear predictor of coxph(..., ties = "breslow"): predict(fit, type = "lp"). */
  lp: number[];
  /** sum(coef * means): lp + lp_center is the uncentred linear predictor x beta. */
  lp_center: number;
  /** basehaz(fit, centered = FALSE): H0 at x = 0, pairs with lp + lp_center. */
  breslow_cumhaz: { time: number[]; hazard: number[] };
  /** basehaz(fit, centered = TRUE): pairs with lp. */
  breslow_cumhaz_centered: { time: number[]; hazard: number[] };
  times: number[];
  /** [n][times]: summary(survfit(fit, newdata = d), times)$surv, transposed. */
  surv: number[][];
}
const COHORTS = ['lung', 'veteran', 'gbsg', 'myeloma', 'toy'] as const;
const refPath = (name: string) => new URL(`../../reference/${name}.json`, import.meta.url);

function rAvailable(): boolean {
  try {
    execFileSync('Rscript', ['-e', 'suppressMessages(library(survival))'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
const hasR = rAvailable();

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('discrete-time survival', () => {
  it('S = cumprod(1 - sigmoid(h)) and risk = -sum(S) equal the golden toy values (1e-12)', () => {
    const { logits, S, risk } = golden.discrete;
    logits.forEach((h, i) => {
      const s = survivalFromHazards(h.map(sigmoid));
      expect(maxAbsDiff(s, S[i]!)).toBeLessThan(1e-12);
      expect(Math.abs(riskFromSurvival(s) - risk[i]!)).toBeLessThan(1e-12);
    });
    expect(Array.from(survivalFromHazards([0.1, 0.2, 0.3, 0.4]))).toEqual([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7, 0.9 * 0.8 * 0.7 * 0.6]);
  });

  it('property: S is in [0, 1] and non-increasing; larger hazards give lower S and a higher risk', () => {
    const hazard = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(hazard, hazard), { minLength: 1, maxLength: 10 }), (pairs) => {
        const low = pairs.map(([a, b]) => Math.min(a, b));
        const high = pairs.map(([a, b]) => Math.max(a, b));
        const sLow = survivalFromHazards(low);
        const sHigh = survivalFromHazards(high);
        for (let k = 0; k < sLow.length; k++) {
          expect(sLow[k]).toBeGreaterThanOrEqual(0);
          expect(sLow[k]).toBeLessThanOrEqual(1);
          if (k > 0) expect(sLow[k]).toBeLessThanOrEqual(sLow[k - 1]!);
          expect(sHigh[k]).toBeLessThanOrEqual(sLow[k]!);
        }
        expect(riskFromSurvival(sHigh)).toBeGreaterThanOrEqual(riskFromSurvival(sLow));
      }),
    );
  });

  it('rejects hazards outside [0, 1] and non-finite S with the index', () => {
    expect(() => survivalFromHazards([0.1, 1.2])).toThrow(/hazards\[1\] must be a probability in \[0, 1\], found 1.2/);
    expect(() => survivalFromHazards([NaN])).toThrow(/hazards\[0\]/);
    expect(() => riskFromSurvival([0.5, NaN])).toThrow(/survival\[1\] must be finite, found NaN/);
  });

  it('binSurvivalAt: S(t) = S_{k-1} inside bin k (S_{-1} = 1), S_k from the end of bin k on, S_{K-1} past the last edge', () => {
    const edges = [0, 10, 20, 30];
    const S = [0.9, 0.6, 0.3];
    expect(binSurvivalAt(edges, S, 0)).toBe(1);
    expect(binSurvivalAt(edges, S, 9.99)).toBe(1);
    expect(binSurvivalAt(edges, S, 10)).toBe(0.9); // the end of bin 0 = the start of bin 1
    expect(binSurvivalAt(edges, S, 19)).toBe(0.9);
    expect(binSurvivalAt(edges, S, 20)).toBe(0.6);
    expect(binSurvivalAt(edges, S, 29.9)).toBe(0.6);
    expect(binSurvivalAt(edges, S, 30)).toBe(0.3);
    expect(binSurvivalAt(edges, S, 1e6)).toBe(0.3);
    expect(() => binSurvivalAt(edges, S, -1)).toThrow(/found -1/);
    expect(() => binSurvivalAt([0, 10], S, 5)).toThrow(/3 survival values need 4 bin edges, found 2/);
  });
});

describe('Cox baseline and S(t | x)', () => {
  for (const name of COHORTS) {
    it.skipIf(!existsSync(refPath(name)))(`${name}: baseline = R basehaz(centered = FALSE), S = R survfit, 1e-6`, () => {
      const ref = JSON.parse(readFileSync(refPath(name), 'utf8')) as SurvReference;
      // uncentred: risk = x beta = lp + lp_center -> basehaz(centered = FALSE)
      const base = breslowBaseline(ref.time, ref.event, ref.lp.map((v) => v + ref.lp_center));
      expect(base.ties).toBe('breslow');
      expect(base.time).toEqual(ref.breslow_cumhaz.time); // every distinct time, as basehaz
      expect(maxAbsDiff(base.cumHazard, ref.breslow_cumhaz.hazard)).toBeLessThan(1e-6);
      expect(maxAbsDiff(ref.breslow_cumhaz.time.map((t) => cumHazardAt(base, t)), ref.breslow_cumhaz.hazard)).toBeLessThan(1e-6);
      // centred: risk = lp -> basehaz(centered = TRUE), and S(t | x_i) = survfit(fit, newdata)
      const centred = breslowBaseline(ref.time, ref.event, ref.lp);
      expect(centred.time).toEqual(ref.breslow_cumhaz_centered.time);
      expect(maxAbsDiff(centred.cumHazard, ref.breslow_cumhaz_centered.hazard)).toBeLessThan(1e-6);
      expect(ref.surv).toHaveLength(ref.lp.length);
      let worst = 0;
      ref.lp.forEach((r, i) => {
        worst = Math.max(worst, maxAbsDiff(coxSurvival(centred, r, ref.times), ref.surv[i]!));
        worst = Math.max(worst, maxAbsDiff(coxSurvival(base, r + ref.lp_center, ref.times), ref.surv[i]!));
      });
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it.skipIf(!hasR)('breslow and efron baselines and S(t | x) equal R on a random cohort with heavy ties (needs Rscript)', () => {
    const rng = new SeededRandom(41).fork('baseline-r');
    const n = 120;
    const x = Array.from({ length: n }, () => rng.normal());
    const time = x.map((xi) => 1 + Math.floor((20 * -Math.log(rng.uniform() + 1e-12)) / Math.exp(0.8 * xi)));
    const event = x.map(() => (rng.uniform() < 0.7 ? 1 : 0));
    const times = [2, 5, 10, 17.5, 30];
    const fmt = (a: number[]) => a.map((v) => v.toPrecision(17)).join(',');
    for (const ties of ['breslow', 'efron'] as const) {
      const script =
        'suppressMessages(library(survival)); ' +
        `d <- data.frame(t = c(${fmt(time)}), e = c(${fmt(event)}), x = c(${fmt(x)})); ` +
        `fit <- coxph(Surv(t, e) ~ x, data = d, ties = '${ties}'); lp <- d$x * coef(fit); ` +
        'bh <- basehaz(fit, centered = FALSE); ' +
        `s <- summary(survfit(fit, newdata = d[1:5, ]), times = c(${times.join(',')}))$surv; ` +
        "cat(sprintf('%.17g', lp), '\\n', sprintf('%.17g', bh$time), '\\n', sprintf('%.17g', bh$hazard), '\\n', sprintf('%.17g', s))"; // s: [times, cases], column-major
      const lines = execFileSync('Rscript', ['-e', script], { encoding: 'utf8' }).trim().split('\n');
      const [lp, bhTime, bhHaz, surv] = lines.map((l) => l.trim().split(/\s+/).map(Number)) as [number[], number[], number[], number[]];
      const base = breslowBaseline(time, event, lp, { ties });
      expect(base.time).toEqual(bhTime);
      expect(maxAbsDiff(base.cumHazard, bhHaz)).toBeLessThan(1e-6);
      for (let i = 0; i < 5; i++) {
        expect(maxAbsDiff(coxSurvival(base, lp[i]!, times), surv.slice(i * times.length, (i + 1) * times.length))).toBeLessThan(1e-6);
      }
    }
  });

  it('hand-computed breslow and efron increments; step function before, between and after the times', () => {
    // times 1 (event), 2 (two tied events), 2 (censored), 3 (censored); risks 0: at-risk sums 4, 3, 1
    const time = [1, 2, 2, 2, 3];
    const event = [1, 1, 1, 0, 0];
    const risk = [0, 0, 0, 0, 0];
    const b = breslowBaseline(time, event, risk);
    expect(b.time).toEqual([1, 2, 3]);
    expect(b.cumHazard[0]).toBeCloseTo(1 / 5, 14);
    expect(b.cumHazard[1]).toBeCloseTo(1 / 5 + 2 / 4, 14);
    expect(b.cumHazard[2]).toBe(b.cumHazard[1]);
    const e = breslowBaseline(time, event, risk, { ties: 'efron' });
    expect(e.cumHazard[1]).toBeCloseTo(1 / 5 + 1 / 4 + 1 / (4 - 0.5 * 2), 14);
    expect(cumHazardAt(b, 0.5)).toBe(0);
    expect(cumHazardAt(b, 1.5)).toBe(b.cumHazard[0]);
    expect(cumHazardAt(b, 100)).toBe(b.cumHazard[2]);
    expect(Array.from(coxSurvival(b, Math.log(2), [0.5, 1, 2.5]))).toEqual([1, Math.exp(-2 / 5), Math.exp(-2 * (1 / 5 + 2 / 4))]);
    // shifting every risk by c divides the baseline by e^c (computed in log space: no overflow for large risks)
    const shifted = breslowBaseline(time, event, risk.map(() => 600));
    expect(shifted.cumHazard[1]! / Math.exp(-600)).toBeCloseTo(0.7, 10);
    expect(Array.from(coxSurvival(shifted, 600, [2]))[0]).toBeCloseTo(Math.exp(-0.7), 12);
    expect(Array.from(coxSurvival(b, 1e6, [0.5, 2]))).toEqual([1, 0]); // no Infinity * 0 = NaN
  });

  it('property: S(t | r) is in [0, 1], non-increasing in t and in r; the baseline survives JSON', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.double({ min: -5, max: 5, noNaN: true }), (seed, delta) => {
        const rng = new SeededRandom(seed);
        const n = 30;
        const time = Array.from({ length: n }, () => 1 + rng.int(12));
        const event = Array.from({ length: n }, (_, i) => (i === 0 || rng.uniform() < 0.5 ? 1 : 0));
        const risk = Array.from({ length: n }, () => rng.normal());
        const base = JSON.parse(JSON.stringify(breslowBaseline(time, event, risk))) as ReturnType<typeof breslowBaseline>;
        const grid = [0.5, 1, 2, 3.5, 5, 8, 12, 20];
        const s = coxSurvival(base, 0.3, grid);
        const s2 = coxSurvival(base, 0.3 + Math.abs(delta), grid);
        for (let k = 0; k < grid.length; k++) {
          expect(s[k]).toBeGreaterThanOrEqual(0);
          expect(s[k]).toBeLessThanOrEqual(1);
          if (k > 0) expect(s[k]).toBeLessThanOrEqual(s[k - 1]!);
          expect(s2[k]).toBeLessThanOrEqual(s[k]!);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('rejects bad input with the index and explains a fit without events', () => {
    expect(() => breslowBaseline([1, 2], [1, 1], [0, NaN])).toThrow(/breslowBaseline: risk\[1\] must be a finite number, found NaN/);
    expect(() => breslowBaseline([1, NaN], [1, 1], [0, 0])).toThrow(/time\[1\]/);
    expect(() => breslowBaseline([1, 2], [1, 5], [0, 0])).toThrow(/event\[1\] must be a boolean or 0\/1/);
    expect(() => breslowBaseline([1, 2], [0, 0], [0, 0])).toThrow(/no event among 2 cases/);
    expect(() => breslowBaseline([1, 2], [1], [0, 0])).toThrow(/same length/);
    const base = breslowBaseline([1, 2], [1, 1], [0, 0]);
    expect(() => coxSurvival(base, NaN, [1])).toThrow(/risk must be a finite number, found NaN/);
  });
});
