import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareUpperTail, gammaP, gammaQ, logGamma, logRank } from '../../../core/survival/logrank.js';
import { SeededRandom } from '../../../core/services/random.js';
import { rAvailable, referenceCohorts } from '../../support/r-reference.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as {
  data: { time: number[]; event: number[] };
  logrank_sksurv: { group: number[]; chisq: number; p: number };
};

const hasR = rAvailable('survival', 30_000);

interface LogRankRef {
  group: Array<number | string>;
  chisq: number;
  df: number;
  p: number;
  observed: number[];
  expected: number[];
}
interface Ref {
  time: number[];
  event: number[];
  logrank2: LogRankRef;
  logrank3: LogRankRef;
}
const refs = referenceCohorts<Ref>();

describe.each(refs)('R reference cohort $name', ({ ref }) => {
  for (const key of ['logrank2', 'logrank3'] as const) {
    it.skipIf(!ref)(`${key}: logRank = survdiff to 1e-6 (chisq, df, p, observed, expected)`, () => {
      const r = ref![key];
      const lr = logRank(ref!.time, ref!.event, r.group);
      expect(Math.abs(lr.chisq - r.chisq)).toBeLessThan(1e-6);
      expect(lr.df).toBe(r.df);
      expect(Math.abs(lr.p - r.p)).toBeLessThan(1e-6);
      // relative too: small p-values must be right in their own digits
      expect(Math.abs(lr.p - r.p)).toBeLessThanOrEqual(1e-9 * r.p + 1e-300);
      expect(lr.observed).toHaveLength(r.observed.length);
      lr.observed.forEach((o, k) => expect(Math.abs(o - r.observed[k]!)).toBeLessThan(1e-6));
      lr.expected.forEach((e, k) => expect(Math.abs(e - r.expected[k]!)).toBeLessThan(1e-6));
    });
  }
});

describe('logRank', () => {
  it('matches the golden toy cohort (scikit-survival compare_survival = survdiff)', () => {
    const { time, event } = golden.data;
    const lr = logRank(time, event, golden.logrank_sksurv.group);
    expect(lr.chisq).toBeCloseTo(golden.logrank_sksurv.chisq, 12);
    expect(lr.p).toBeCloseTo(golden.logrank_sksurv.p, 14);
    expect(lr.df).toBe(1);
    expect(lr.groups).toEqual([0, 1]);
    expect(lr.observed).toEqual([5, 2]);
    expect(lr.expected.reduce((a, b) => a + b, 0)).toBeCloseTo(7, 12); // sum E = sum O
  });

  it('accepts string labels, sorts groups, and does not depend on the label order', () => {
    const { time, event } = golden.data;
    const g = golden.logrank_sksurv.group.map((v) => (v === 0 ? 'b' : 'a'));
    const lr = logRank(time, event, g);
    expect(lr.groups).toEqual(['a', 'b']);
    expect(lr.observed).toEqual([2, 5]);
    expect(lr.chisq).toBeCloseTo(golden.logrank_sksurv.chisq, 12);
  });

  it('the variance rows sum to 0 and chisq does not depend on which group is dropped (k = 3)', () => {
    const rng = new SeededRandom(5).fork('logrank');
    const n = 90;
    const time = Array.from({ length: n }, () => 1 + rng.int(20));
    const event = Array.from({ length: n }, () => (rng.uniform() < 0.6 ? 1 : 0));
    const group = Array.from({ length: n }, () => rng.int(3));
    const lr = logRank(time, event, group);
    lr.variance.forEach((row) => expect(Math.abs(row.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12));
    const relabelled = logRank(time, event, group.map((g) => (g + 1) % 3));
    expect(relabelled.chisq).toBeCloseTo(lr.chisq, 10);
    expect(lr.df).toBe(2);
  });

  it('rejects one group and bad labels', () => {
    expect(() => logRank([1, 2, 3], [1, 0, 1], [1, 1, 1])).toThrow(/at least 2 groups.*found 1/);
    expect(() => logRank([1, 2, 3], [1, 0, 1], [1, Number.NaN, 1])).toThrow(/group\[1\] must be a finite number or a string/);
    expect(() => logRank([1, 2, 3], [1, 0, 1], [1, 2])).toThrow(/same length/);
  });
});

describe('incomplete gamma and chi-square tail', () => {
  it('chiSquareUpperTail = R pchisq(x, df, lower.tail = FALSE), relative 1e-10, down to 1e-304', () => {
    // Rscript: pchisq(x, df, lower.tail = FALSE), printed by jsonlite with 15 significant digits
    const df = [1, 1, 2, 2, 3, 5, 10, 20, 100, 1, 2, 4, 1, 3];
    const x = [0.02, 6, 1, 80, 4, 14, 10, 60, 90, 600, 1400, 2e-5, 2e-8, 2000];
    const p = [0.887537083981715, 0.0143058784354296, 0.606530659712633, 4.24835425529159e-18, 0.261464129949111,
      0.0156094161002669, 0.440493285065212, 7.12175086281558e-6, 0.75319796559983, 1.67416798469179e-132,
      9.85967654375977e-305, 0.99999999995, 0.999887162083666, 0];
    df.forEach((d, k) => {
      const mine = chiSquareUpperTail(x[k]!, d);
      if (p[k] === 0) expect(mine).toBeLessThan(1e-300);
      else expect(Math.abs(mine - p[k]!) / p[k]!).toBeLessThan(1e-10);
    });
  });

  it('P + Q = 1 and closed forms: Q(1, x) = exp(-x), log Gamma at known points', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 60, noNaN: true }), fc.double({ min: 0, max: 120, noNaN: true }), (a, x) => {
        expect(gammaP(a, x) + gammaQ(a, x)).toBeCloseTo(1, 12);
      }),
      { numRuns: 300 },
    );
    for (const x of [0.1, 1, 2.5, 10, 40]) expect(gammaQ(1, x) / Math.exp(-x)).toBeCloseTo(1, 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(chiSquareUpperTail(3.841458820694124, 1)).toBeCloseTo(0.05, 13);
  });
});

describe.skipIf(!hasR)('logRank against R survdiff on random cohorts (needs Rscript + survival)', () => {
  it('chisq and p to 1e-9 for k = 2..5 groups with ties', () => {
    const rng = new SeededRandom(77).fork('survdiff');
    const cases = [2, 3, 4, 5].map((k) => {
      const n = 60 + 30 * k;
      return {
        time: Array.from({ length: n }, () => 1 + rng.int(30)),
        event: Array.from({ length: n }, () => (rng.uniform() < 0.55 ? 1 : 0)),
        group: Array.from({ length: n }, () => rng.int(k)),
      };
    });
    const rcode = cases
      .map((c) => `tt <- c(${c.time}); ee <- c(${c.event}); gg <- c(${c.group}); s <- survdiff(Surv(tt, ee) ~ gg); cat(format(c(s$chisq, s$pvalue), digits = 17), "\\n")`)
      .join('; ');
    const out = execFileSync('Rscript', ['-e', `suppressMessages(library(survival)); ${rcode}`], { encoding: 'utf8', timeout: 60_000 });
    const lines = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    cases.forEach((c, k) => {
      const lr = logRank(c.time, c.event, c.group);
      expect(Math.abs(lr.chisq - lines[k]![0]!)).toBeLessThan(1e-9);
      expect(Math.abs(lr.p - lines[k]![1]!) / lines[k]![1]!).toBeLessThan(1e-9);
    });
  });
});
