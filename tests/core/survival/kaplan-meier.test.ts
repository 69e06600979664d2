import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  censoringAt,
  censoringBefore,
  kaplanMeier,
  kmMedian,
  kmQuantile,
  normalQuantile,
  reverseKaplanMeier,
  survivalAt,
  survivalAtTimes,
  survivalBefore,
} from '../../../core/survival/kaplan-meier.js';
import { referenceCohorts } from '../../support/r-reference.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as {
  data: { time: number[]; event: number[] };
  km: { times: number[]; surv: number[] };
  censoring_km_reverse: { times: number[]; G: number[] };
  ipcw_weights_at_T_i: number[];
};

/** null in a reference file is R's NA (or Inf written by jsonlite): it must meet NaN or an infinity here. */
function expectClose(actual: ArrayLike<number>, expected: Array<number | null>, tol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    const e = expected[k];
    const a = actual[k]!;
    if (e === null || e === undefined) {
      expect(Number.isFinite(a), `${what}[${k}]: R has NA/Inf, found ${a}`).toBe(false);
    } else {
      expect(Math.abs(a - e), `${what}[${k}]: expected ${e}, found ${a}`).toBeLessThanOrEqual(tol);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// R reference cohorts

interface KmRef {
  time: number[];
  event: number[];
  times: number[];
  km: {
    time: number[];
    n_risk: number[];
    n_event: number[];
    n_censor: number[];
    surv: number[];
    std_err: Array<number | null>;
    lower: Array<number | null>;
    upper: Array<number | null>;
  };
  /** survfit summary at `times`: an object (its `surv` is S(t), right-continuous) or a plain array of S(t). */
  km_at_times: number[] | { time: number[]; surv: number[] };
  km_median: number | null | { median?: number | null; lower?: number | null; upper?: number | null };
  km_median_lower?: number | null;
  km_median_upper?: number | null;
}
const refs = referenceCohorts<KmRef>();

/** The median and its limits from a reference file: flat fields or an object. */
function refMedian(r: KmRef): [number | null, number | null, number | null] {
  const m = r.km_median;
  if (m !== null && typeof m === 'object') return [m.median ?? null, m.lower ?? null, m.upper ?? null];
  return [m ?? null, r.km_median_lower ?? null, r.km_median_upper ?? null];
}

describe.each(refs)('R reference cohort $name', ({ ref }) => {
  it.skipIf(!ref)('kaplanMeier = survfit to 1e-6: times, counts, surv, std.err, 95 % log limits', () => {
    const r = ref!;
    const km = kaplanMeier(r.time, r.event);
    expectClose(km.time, r.km.time, 0, 'time');
    expectClose(km.nRisk, r.km.n_risk, 0, 'n.risk');
    expectClose(km.nEvent, r.km.n_event, 0, 'n.event');
    expectClose(km.nCensor, r.km.n_censor, 0, 'n.censor');
    expectClose(km.surv, r.km.surv, 1e-6, 'surv');
    expectClose(km.stdErr, r.km.std_err, 1e-6, 'std.err');
    expectClose(km.lower, r.km.lower, 1e-6, 'lower');
    expectClose(km.upper, r.km.upper, 1e-6, 'upper');
    const at = Array.isArray(r.km_at_times) ? r.km_at_times : r.km_at_times.surv;
    expectClose(survivalAtTimes(km, r.times), at, 1e-6, 'S(times)');
  });
  it.skipIf(!ref)('kmMedian = quantile(survfit, 0.5) with its limits (null = not reached)', () => {
    const r = ref!;
    const med = kmMedian(kaplanMeier(r.time, r.event));
    const [m, lo, hi] = refMedian(r);
    for (const [a, e] of [[med.median, m], [med.lower, lo], [med.upper, hi]] as const) {
      if (e === null) expect(a).toBeNull();
      else expect(Math.abs(a! - e)).toBeLessThan(1e-6);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// values printed by Rscript (survival 3.5-3), jsonlite digits = NA (15 significant digits)

describe('kaplanMeier against R survfit edge cases', () => {
  it('matches the golden toy cohort (scikit-survival kaplan_meier_estimator = survfit)', () => {
    const km = kaplanMeier(golden.data.time, golden.data.event);
    expectClose(km.time, golden.km.times, 0, 'time');
    expectClose(km.surv, golden.km.surv, 1e-12, 'surv');
    // survfit(Surv(time, event) ~ 1)$std.err and 95 % limits
    expectClose(km.stdErr, [0.08703883, 0.12909944, 0.22002886, 0.22002886, 0.31370798, 0.42631682, 0.82567913, 0.82567913], 1e-8, 'std.err');
    expect(kmMedian(km)).toEqual({ median: 12, lower: 5, upper: null });
  });

  it('everyone at risk dies at the last time: S = 0, std.err = Inf, limits NA', () => {
    const km = kaplanMeier([1, 2, 2, 3, 4, 4], [1, 1, 0, 1, 1, 1]);
    expectClose(km.surv, [0.833333333333333, 0.666666666666667, 0.444444444444444, 0], 1e-14, 'surv');
    expectClose(km.stdErr, [0.182574185835055, 0.288675134594813, 0.5, null], 1e-14, 'std.err');
    expect(km.stdErr[3]).toBe(Infinity);
    expectClose(km.lower, [0.58265479547714, 0.378606460887095, 0.166807936628079, null], 1e-14, 'lower');
    expectClose(km.upper, [1, 1, 1, null], 0, 'upper');
    expect(kmQuantile(km, 0.25)).toEqual({ quantile: 2, lower: 1, upper: null });
    expect(kmMedian(km)).toEqual({ median: 3, lower: 2, upper: null });
  });

  it("conf.type = 'log-log' and 'plain' (conf.int = 0.9) limits", () => {
    const t = [1, 2, 3, 4, 5, 6];
    const e = [1, 0, 1, 1, 0, 1];
    const ll = kaplanMeier(t, e, { confType: 'log-log' });
    expectClose(ll.lower, [0.273122849928356, 0.273122849928356, 0.141853389931655, 0.0559918648520529, 0.0559918648520529, null], 1e-14, 'log-log lower');
    expectClose(ll.upper, [0.974712426690894, 0.974712426690894, 0.893050604498578, 0.76652221955058, 0.76652221955058, null], 1e-14, 'log-log upper');
    const pl = kaplanMeier(t, e, { confType: 'plain', confLevel: 0.9 });
    expectClose(pl.lower, [0.583076823534581, 0.583076823534581, 0.273859705571212, 0.0518582491645651, 0.0518582491645651, null], 1e-14, 'plain lower');
    expectClose(pl.upper, [1, 1, 0.976140294428788, 0.781475084168768, 0.781475084168768, null], 1e-14, 'plain upper');
    expectClose(pl.stdErr, [0.182574185835055, 0.182574185835055, 0.341565025531987, 0.532290647422377, 0.532290647422377, null], 1e-14, 'std.err');
  });

  it('median of a curve sitting exactly at 0.5: the midpoint rule of quantile.survfit', () => {
    // S = 0.75, 0.5, 0.5, 0 at 1..4: flat at 0.5 on [2, 4) -> (2 + 4) / 2 = 3
    expect(kmMedian(kaplanMeier([1, 2, 3, 4], [1, 1, 0, 1]))).toEqual({ median: 3, lower: 1, upper: null });
    // flat at 0.5 to the end of follow-up: midpoint with the last time, (2 + 4) / 2
    expect(kmMedian(kaplanMeier([1, 2, 3, 4], [1, 1, 0, 0]))).toEqual({ median: 3, lower: 1, upper: null });
    // S = .875 .75 .625 .5 .5 .5 .25 0: quantiles 2.5, 5.5, 7.5 (each level held over an interval)
    const km = kaplanMeier([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 0, 0, 1, 1]);
    expect([0.25, 0.5, 0.75].map((p) => kmQuantile(km, p).quantile)).toEqual([2.5, 5.5, 7.5]);
    expect(kmMedian(km)).toEqual({ median: 5.5, lower: 3, upper: null });
    // no flat: R's quantile(probs = c(.25, .5, .75)) gives 3 5 7, lower 1 4 5, upper NA
    const km2 = kaplanMeier([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 0, 1, 1, 0, 1, 0]);
    expect([0.25, 0.5, 0.75].map((p) => kmQuantile(km2, p))).toEqual([
      { quantile: 3, lower: 1, upper: null },
      { quantile: 5, lower: 4, upper: null },
      { quantile: 7, lower: 5, upper: null },
    ]);
  });

  it('median not reached -> nulls', () => {
    expect(kmMedian(kaplanMeier([1, 2, 3, 4, 5], [1, 0, 0, 0, 0]))).toEqual({ median: null, lower: null, upper: null });
  });

  it('normalQuantile = R qnorm', () => {
    const p = [1e-10, 0.001, 0.025, 0.05, 0.3, 0.5, 0.8, 0.95, 0.975, 0.995, 0.999999999999];
    const q = [-6.36134090240406, -3.09023230616781, -1.95996398454005, -1.64485362695147, -0.524400512708041, 0,
      0.841621233572914, 1.64485362695147, 1.95996398454005, 2.5758293035489, 7.03448691004784];
    p.forEach((pk, k) => expect(Math.abs(normalQuantile(pk) - q[k]!)).toBeLessThan(1e-13));
  });
});

describe('step-function lookups', () => {
  const km = kaplanMeier(golden.data.time, golden.data.event);
  it('survivalAt is right-continuous, 1 before the first time, last value after the last', () => {
    expect(survivalAt(km, 0)).toBe(1);
    expect(survivalAt(km, 1.999)).toBe(1);
    expect(survivalAt(km, 2)).toBeCloseTo(11 / 12, 14);
    expect(survivalAt(km, 4.5)).toBeCloseTo(0.8333333333333333, 14);
    expect(survivalAt(km, 100)).toBeCloseTo(0.19444444444444442, 14);
    expect(survivalBefore(km, 2)).toBe(1);
    expect(survivalBefore(km, 5)).toBeCloseTo(0.8333333333333333, 14);
  });
});

describe('reverseKaplanMeier (censoring distribution G)', () => {
  const { time, event } = golden.data;
  const g = reverseKaplanMeier(time, event);
  it('G(t) equals the golden reverse KM (scikit-survival) and prodlim(reverse = TRUE): deaths leave first at ties', () => {
    golden.censoring_km_reverse.times.forEach((t, k) => {
      expect(censoringAt(g, t)).toBeCloseTo(golden.censoring_km_reverse.G[k]!, 12);
    });
  });
  it('G(t-) is the value just before t; scikit-survival weights events by 1 / G(T_i), riskRegression by 1 / G(T_i-)', () => {
    expect(censoringBefore(g, 3)).toBe(1);
    expect(censoringBefore(g, 5)).toBeCloseTo(0.9, 14);
    expect(censoringAt(g, 5)).toBeCloseTo(0.9 * 6 / 7, 14);
    // the golden ipcw_weights_at_T_i are scikit-survival's: event / G(T_i) (right-continuous)
    golden.ipcw_weights_at_T_i.forEach((w, i) => {
      const mine = event[i] === 1 ? 1 / censoringAt(g, time[i]!) : 0;
      expect(mine).toBeCloseTo(w, 12);
    });
  });
});

describe('kaplanMeier properties (fast-check)', () => {
  it('surv is within [0, 1], non-increasing, and lower <= surv <= upper wherever the limits exist', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: 0, max: 30 }), e: fc.boolean() }), { minLength: 1, maxLength: 80 }),
        fc.constantFrom('log', 'log-log', 'plain') as fc.Arbitrary<'log' | 'log-log' | 'plain'>,
        (rows, confType) => {
          const km = kaplanMeier(rows.map((r) => r.t), rows.map((r) => r.e), { confType });
          let prev = 1;
          for (let k = 0; k < km.surv.length; k++) {
            const s = km.surv[k]!;
            expect(s).toBeGreaterThanOrEqual(0);
            expect(s).toBeLessThanOrEqual(prev);
            prev = s;
            if (Number.isFinite(km.lower[k]!)) expect(km.lower[k]!).toBeLessThanOrEqual(s + 1e-15);
            if (Number.isFinite(km.upper[k]!)) expect(km.upper[k]!).toBeGreaterThanOrEqual(s - 1e-15);
            if (k > 0) expect(km.time[k]!).toBeGreaterThan(km.time[k - 1]!);
          }
          expect(km.nRisk[0]).toBe(rows.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('guards', () => {
  it('rejects bad input and names what is wrong', () => {
    expect(() => kaplanMeier([1, Number.NaN], [1, 0])).toThrow(/kaplanMeier: time\[1\] must be a finite number, found NaN/);
    expect(() => kaplanMeier([1, 2], [1, 2])).toThrow(/event\[1\] must be a boolean or 0\/1/);
    expect(() => kaplanMeier([1, 2], [1])).toThrow(/same length, found 2 and 1/);
    expect(() => kaplanMeier([1, -1], [1, 0])).toThrow(/time\[1\] must be >= 0/);
    expect(() => kaplanMeier([1, 2], [1, 0], { confLevel: 95 })).toThrow(/confLevel must be in \(0, 1\)/);
    expect(() => kmQuantile(kaplanMeier([1, 2], [1, 0]), 1.5)).toThrow(/probability/);
  });
});
