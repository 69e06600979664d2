import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fitKmTimeCalibration,
  kaplanMeierSteps,
  kmTime,
  kmTimes,
  restrictedMeanTime,
} from '../../../core/survival/calibration.js';
import { harrellC } from '../../../core/survival/concordance.js';
import { riskFromSurvival, survivalFromHazards } from '../../../core/survival/predict.js';

/** A random cohort: times with ties, events with a given censoring rate, risks with ties. */
const cohort = (censoring: number) =>
  fc
    .integer({ min: 12, max: 120 })
    .chain((n) =>
      fc.record({
        time: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: n, maxLength: n }),
        event: fc.array(fc.double({ min: 0, max: 1, noNaN: true }).map((u) => u >= censoring), { minLength: n, maxLength: n }),
        trainRisk: fc.array(fc.integer({ min: -20, max: 20 }).map((k) => k / 4), { minLength: n, maxLength: n }),
        // risks on a 1e-3 grid: distinct risks closer than float resolution cannot map to distinct times
        testRisk: fc.array(fc.integer({ min: -40_000, max: 40_000 }).map((k) => k / 1000), { minLength: 5, maxLength: 80 }),
      }),
    )
    .filter((c) => c.event.some(Boolean) && new Set(c.trainRisk).size >= 2);

describe('KM time calibration', () => {
  it('maps risks to times through the risk level and the KM curve (hand-computed knots and tail)', () => {
    const km = { time: [10, 20, 30], surv: [0.8, 0.6, 0.5] };
    const map = fitKmTimeCalibration([1, 2, 3, 4], km);
    expect(map.positions).toEqual([0.125, 0.375, 0.625, 0.875]);
    expect(kmTime(map, 2.5)).toBeCloseTo(30, 10); // u = 0.5 = S(30)
    expect(kmTime(map, 4)).toBeCloseTo(6.25, 10); // u = 0.875 on the segment (0, 1)-(10, 0.8)
    expect(kmTime(map, 3)).toBeCloseTo(10 + ((0.8 - 0.625) / (0.8 - 0.6)) * 10, 10); // u = 0.625 between (10, .8) and (20, .6)
    // u = 0.125 is below the last KM level: exponential tail through the origin and (30, 0.5): 30 + ln(4) / (ln 2 / 30)
    expect(kmTime(map, 1)).toBeCloseTo(90, 10);
  });

  it('is strictly decreasing in risk, so C of the outputs equals C of the risks (property)', () => {
    for (const censoring of [0.3, 0.85]) {
      fc.assert(
        fc.property(cohort(censoring), ({ time, event, trainRisk, testRisk }) => {
          const map = fitKmTimeCalibration(trainRisk, kaplanMeierSteps(time, event));
          const out = kmTimes(map, testRisk);
          for (let i = 0; i < testRisk.length; i++) {
            expect(Number.isFinite(out[i]!) && out[i]! > 0).toBe(true);
            for (let j = 0; j < testRisk.length; j++) {
              if (testRisk[i]! < testRisk[j]!) expect(out[i]!).toBeGreaterThan(out[j]!);
              if (testRisk[i] === testRisk[j]) expect(out[i]).toBe(out[j]);
            }
          }
          // C-index of the outputs read as the scorer does (-output) equals that of the risks on the training cohort
          const trainOut = kmTimes(map, trainRisk);
          const cRisk = harrellC(time, event, trainRisk);
          const cOut = harrellC(time, event, Array.from(trainOut, (t) => -t));
          expect(cOut.cIndex).toBe(cRisk.cIndex);
          expect(cOut.tiedRisk).toBe(cRisk.tiedRisk);
        }),
        { numRuns: 60, seed: 20261123 },
      );
    }
  });

  it('creates no ties under heavy censoring, where the shipped HKKH map tied the lower-risk half', () => {
    // 100 patients, 15 early events, the rest censored late: the KM curve never falls below 0.85.
    const n = 100;
    const time = Array.from({ length: n }, (_, i) => (i < 15 ? 5 + i : 60 + (i % 7)));
    const event = Array.from({ length: n }, (_, i) => i < 15);
    const risk = Array.from({ length: n }, (_, i) => n - i + (i % 3) / 10);
    const km = kaplanMeierSteps(time, event);
    expect(Math.min(...Array.from(km.surv))).toBeGreaterThan(0.84);
    const ours = kmTimes(fitKmTimeCalibration(risk, km), risk);
    expect(new Set(ours).size).toBe(new Set(risk).size);
    // HKKH as shipped (REFERENCE.md C): quantile of the risk among training risks -> KM time whose S is nearest.
    const hkkh = risk.map((r) => {
      const p = risk.filter((x) => x < r).length / n;
      let best = 0;
      for (let k = 1; k < km.time.length; k++) if (Math.abs(km.surv[k]! - p) < Math.abs(km.surv[best]! - p)) best = k;
      return km.time[best]!;
    });
    expect(new Set(hkkh).size).toBeLessThan(n / 2);
  });

  it('extrapolates far outside the training risks without ties or infinities', () => {
    const map = fitKmTimeCalibration([0, 1, 2, 3], { time: [5, 10], surv: [0.9, 0.7] });
    const far = [-500, -100, -10, 10, 100, 500];
    const out = kmTimes(map, far);
    for (let i = 1; i < far.length; i++) expect(out[i]!).toBeLessThan(out[i - 1]!);
    for (const t of out) expect(Number.isFinite(t) && t > 0).toBe(true);
  });

  it('round-trips through JSON (it travels into the container)', () => {
    const map = fitKmTimeCalibration([0.3, 1.2, -0.5, 2.2, 0.3], { time: [3, 8, 13], surv: [0.9, 0.75, 0.6] });
    const copy = JSON.parse(JSON.stringify(map));
    for (const r of [-3, 0.3, 0.9, 5]) expect(kmTime(copy, r)).toBe(kmTime(map, r));
  });

  it('explains bad input', () => {
    expect(() => fitKmTimeCalibration([1], { time: [1], surv: [0.5] })).toThrow(/at least 2 training risks/);
    expect(() => fitKmTimeCalibration([1, 1, 1], { time: [1], surv: [0.5] })).toThrow(/every training risk is the same/);
    expect(() => fitKmTimeCalibration([1, 2], { time: [1, 2], surv: [1, 1] })).toThrow(/never drops/);
    expect(() => fitKmTimeCalibration([1, NaN], { time: [1], surv: [0.5] })).toThrow(/trainRisk\[1\]: expected a finite number/);
    const map = fitKmTimeCalibration([1, 2], { time: [1], surv: [0.5] });
    expect(() => kmTime(map, Infinity)).toThrow(/finite risk/);
  });
});

describe('kaplanMeierSteps and restrictedMeanTime', () => {
  it('KM steps equal the scikit-survival / R values on the golden toy cohort', async () => {
    const golden = (await import('../../fixtures/golden/sksurv_pycox_toy.json', { with: { type: 'json' } })).default as {
      data: { time: number[]; event: number[] };
      km: { times: number[]; surv: number[] };
    };
    const km = kaplanMeierSteps(golden.data.time, golden.data.event);
    expect(Array.from(km.time)).toEqual(golden.km.times);
    Array.from(km.surv).forEach((s, i) => expect(s).toBeCloseTo(golden.km.surv[i]!, 12));
  });

  it('RMST is the area under the piecewise-linear S over the bins', () => {
    expect(restrictedMeanTime([0, 10, 20], [0.8, 0.5])).toBeCloseTo(((1 + 0.8) / 2) * 10 + ((0.8 + 0.5) / 2) * 10, 12);
    expect(() => restrictedMeanTime([0, 1], [0.5, 0.4])).toThrow(/expected 3 bin edges/);
  });

  it('discrete heads: KM calibration of risk = -sum(S) is tie-free and keeps C (property)', () => {
    const head = (n: number) =>
      fc.array(fc.array(fc.integer({ min: 1, max: 60 }).map((k) => k / 100), { minLength: 4, maxLength: 4 }), { minLength: n, maxLength: n });
    fc.assert(
      fc.property(
        fc.integer({ min: 12, max: 80 }).chain((n) =>
          fc.record({
            time: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: n, maxLength: n }),
            event: fc.array(fc.double({ min: 0, max: 1, noNaN: true }).map((u) => u >= 0.8), { minLength: n, maxLength: n }),
            hazards: head(n),
          }),
        ).filter((c) => c.time.some((t, i) => c.event[i] && t < Math.max(...c.time))),
        ({ time, event, hazards }) => {
          const risk = hazards.map((h) => riskFromSurvival(survivalFromHazards(h)));
          fc.pre(new Set(risk).size >= 2);
          const map = fitKmTimeCalibration(risk, kaplanMeierSteps(time, event));
          const out = kmTimes(map, risk);
          const cRisk = harrellC(time, event, risk);
          const cOut = harrellC(time, event, Array.from(out, (t) => -t));
          expect(cOut.cIndex).toBe(cRisk.cIndex);
          expect(new Set(out).size).toBe(new Set(risk).size);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it('RMST grows strictly when any S_k grows (unequal bins)', () => {
    const edges = [0, 3, 10, 11, 40];
    const S = [0.9, 0.7, 0.65, 0.3];
    const base = restrictedMeanTime(edges, S);
    for (let k = 0; k < S.length; k++) {
      const up = S.slice();
      up[k] = up[k]! + 0.01;
      expect(restrictedMeanTime(edges, up)).toBeGreaterThan(base);
    }
  });
});
