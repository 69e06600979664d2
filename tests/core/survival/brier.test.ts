import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brierScore, integratedBrierScore } from '../../../core/survival/brier.js';
import { censoringAt, censoringBefore, reverseKaplanMeier } from '../../../core/survival/kaplan-meier.js';
import { SeededRandom } from '../../../core/services/random.js';
import { rAvailable, referenceCohorts } from '../../support/r-reference.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as {
  data: { time: number[]; event: number[]; risk: number[] };
  sksurv_brier_same_as_pycox: { grid: number[]; bs: number[]; ibs_trapezoid: number };
};

const hasR = rAvailable('riskRegression', 60_000);

interface Ref {
  time: number[];
  event: number[];
  times: number[];
  surv: number[][];
  brier: number[];
  ibs?: number;
}
const refs = referenceCohorts<Ref>();

describe.each(refs)('R reference cohort $name', ({ ref }) => {
  it.skipIf(!ref)('brierScore = riskRegression::Score Brier (cens.model = "km") to 1e-6', () => {
    const r = ref!;
    const bs = brierScore(r.time, r.event, r.surv, r.times);
    bs.forEach((b, k) => expect(Math.abs(b - r.brier[k]!), `brier[${k}]`).toBeLessThan(1e-6));
  });
  it.skipIf(!ref || ref.ibs === undefined)('integratedBrierScore = trapezoid / span of the reference Brier curve', () => {
    const r = ref!;
    expect(Math.abs(integratedBrierScore(r.brier, r.times) - r.ibs!)).toBeLessThan(1e-6);
    const mine = integratedBrierScore(brierScore(r.time, r.event, r.surv, r.times), r.times);
    expect(Math.abs(mine - r.ibs!)).toBeLessThan(1e-6);
  });
});

describe('brierScore', () => {
  const { time, event, risk } = golden.data;
  const times = [3, 5, 9, 12];
  const S = risk.map((r) => times.map((t) => 1 - Math.min(1, r * (1 + t / 20))));

  it('matches riskRegression::Score on the toy cohort (printed by Rscript)', () => {
    // Score(list(m = 1 - S), Hist(time, status) ~ 1, times = c(3, 5, 9, 12), metrics = "brier", cens.model = "km")
    const expected = [0.221868402777778, 0.0989824459876543, 0.092756712962963, 0.180148148148148];
    brierScore(time, event, S, times).forEach((b, k) => expect(Math.abs(b - expected[k]!)).toBeLessThan(1e-13));
  });

  it('equals the written-out residual formula (fast-check): events 1 / G(T_i-), survivors 1 / G(t), censored 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: 1, max: 12 }), e: fc.boolean(), s: fc.double({ min: 0, max: 1, noNaN: true }) }), {
          minLength: 3,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 11 }),
        (rows, t) => {
          const T = rows.map((x) => x.t);
          const E = rows.map((x) => (x.e ? 1 : 0));
          if (t < Math.min(...T) || t >= Math.max(...T)) return;
          const g = reverseKaplanMeier(T, E);
          let sum = 0;
          rows.forEach((x) => {
            const F = 1 - x.s;
            if (x.t <= t && x.e) sum += (1 - F) ** 2 / censoringBefore(g, x.t);
            else if (x.t > t) sum += F ** 2 / censoringAt(g, t);
          });
          const [b] = brierScore(T, E, rows.map((x) => [x.s]), [t]);
          expect(Math.abs(b! - sum / rows.length)).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('teaches on bad input', () => {
    expect(() => brierScore(time, event, S, [3, 5, 9, 20])).toThrow(/times\[3\] = 20 is outside the follow-up range \[2, 20\)/);
    expect(() => brierScore(time, event, S, [1, 5, 9, 12])).toThrow(/times\[0\] = 1 is outside/);
    const bad = S.map((row) => [...row]);
    bad[4]![2] = 1.2;
    expect(() => brierScore(time, event, bad, times)).toThrow(/survAtTimes\[4\]\[2\] must be a probability in \[0, 1\], found 1.2/);
    bad[4]![2] = Number.NaN;
    expect(() => brierScore(time, event, bad, times)).toThrow(/survAtTimes\[4\]\[2\] must be a finite number/);
    expect(() => brierScore(time, event, S.slice(1), times)).toThrow(/one row per case \(12 rows of 4 values\), found 11 rows/);
  });
});

describe('integratedBrierScore', () => {
  it('is the trapezoid over the grid / its span: the golden sksurv ibs_trapezoid', () => {
    const { grid, bs, ibs_trapezoid } = golden.sksurv_brier_same_as_pycox;
    expect(integratedBrierScore(bs, grid)).toBeCloseTo(ibs_trapezoid, 14);
    expect(integratedBrierScore([0.2, 0.2], [1, 5])).toBeCloseTo(0.2, 15);
    expect(() => integratedBrierScore([0.2], [1])).toThrow(/at least 2 evaluation times/);
    expect(() => integratedBrierScore([0.2, 0.1], [5, 1])).toThrow(/strictly increasing/);
  });
});

describe.skipIf(!hasR)('brierScore against riskRegression::Score on a random tied cohort (needs Rscript)', () => {
  it('Brier to 1e-9', () => {
    const rng = new SeededRandom(123).fork('score-brier');
    const n = 140;
    const time = Array.from({ length: n }, () => 1 + rng.int(25));
    const event = Array.from({ length: n }, () => (rng.uniform() < 0.55 ? 1 : 0));
    const times = [4, 8, 13, 20];
    const S = Array.from({ length: n }, () => {
      const h = 0.01 + 0.1 * rng.uniform();
      return times.map((t) => Math.exp(-h * t));
    });
    const dir = mkdtempSync(join(tmpdir(), 'mmsurv-brier-'));
    try {
      const json = join(dir, 'c.json');
      writeFileSync(json, JSON.stringify({ time, event, times, S }));
      const script = [
        'suppressMessages({library(survival); library(riskRegression); library(prodlim); library(jsonlite)})',
        `c <- fromJSON(${JSON.stringify(json)})`,
        'd <- data.frame(time = c$time, status = c$event)',
        'b <- Score(list(m = 1 - c$S), Hist(time, status) ~ 1, data = d, times = c$times, metrics = "brier", cens.model = "km", null.model = FALSE, se.fit = FALSE)$Brier$score$Brier',
        'cat(format(b, digits = 17))',
      ].join('; ');
      const out = execFileSync('Rscript', ['-e', script], { encoding: 'utf8', timeout: 120_000 });
      const r = out.trim().split(/\s+/).map(Number);
      expect(r).toHaveLength(4);
      brierScore(time, event, S, times).forEach((b, k) => expect(Math.abs(b - r[k]!)).toBeLessThan(1e-9));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
