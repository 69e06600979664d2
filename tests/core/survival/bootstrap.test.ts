import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootstrapCI } from '../../../core/survival/bootstrap.js';
import { harrellC, unoC } from '../../../core/survival/concordance.js';
import { SeededRandom } from '../../../core/services/random.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as { data: { time: number[]; event: number[]; risk: number[] } };

function cohort(n: number, seed: number) {
  const rng = new SeededRandom(seed).fork('cohort');
  const risk = Array.from({ length: n }, () => rng.normal());
  const time = risk.map((r) => 1 + Math.round(-Math.log(1 - rng.uniform()) * 50 * Math.exp(-r)));
  const event = time.map(() => (rng.uniform() < 0.7 ? 1 : 0));
  return { time, event, risk };
}

describe('bootstrapCI', () => {
  it('is reproducible: the same seed gives the same interval, another seed a different one', () => {
    const { time, event, risk } = cohort(200, 1);
    const a = bootstrapCI(time, event, risk, { seed: 42, replicates: 200 });
    const b = bootstrapCI(time, event, risk, { seed: 42, replicates: 200 });
    const c = bootstrapCI(time, event, risk, { seed: 43, replicates: 200 });
    expect(a).toEqual(b);
    expect(c.lower === a.lower && c.upper === a.upper).toBe(false);
    expect(a.estimate).toBe(harrellC(time, event, risk).cIndex);
    expect(a.lower).toBeLessThan(a.estimate);
    expect(a.upper).toBeGreaterThan(a.estimate);
    expect(a).toMatchObject({ level: 0.95, replicates: 200, used: 200, skipped: 0 });
  });

  it('a wider level gives a wider interval; the interval narrows with n', () => {
    const small = cohort(100, 2);
    const big = cohort(1600, 2);
    const i90 = bootstrapCI(small.time, small.event, small.risk, { seed: 1, replicates: 300, level: 0.9 });
    const i99 = bootstrapCI(small.time, small.event, small.risk, { seed: 1, replicates: 300, level: 0.99 });
    expect(i99.upper - i99.lower).toBeGreaterThan(i90.upper - i90.lower);
    const iBig = bootstrapCI(big.time, big.event, big.risk, { seed: 1, replicates: 300, level: 0.9 });
    expect(iBig.upper - iBig.lower).toBeLessThan((i90.upper - i90.lower) / 2);
  });

  it('skips and counts replicates without a comparable pair', () => {
    // one event among 4 cases: a resample misses it (or keeps only ties) often
    const res = bootstrapCI([1, 2, 3, 4], [1, 0, 0, 0], [4, 3, 2, 1], { seed: 3, replicates: 200 });
    expect(res.skipped).toBeGreaterThan(0);
    expect(res.used + res.skipped).toBe(200);
    expect(res.lower).toBe(1);
    expect(res.upper).toBe(1);
  });

  it('takes another metric (Uno with tau)', () => {
    const { time, event, risk } = golden.data;
    const res = bootstrapCI(time, event, risk, {
      seed: 9,
      replicates: 100,
      metric: (t, e, r) => unoC(t, e, r, { tau: 12 }).cIndex,
    });
    expect(res.estimate).toBeCloseTo(0.79666890230270515, 12);
    expect(res.lower).toBeLessThanOrEqual(res.upper);
  });

  it('rethrows errors other than "no comparable pairs" and teaches on bad options', () => {
    const { time, event, risk } = golden.data;
    expect(() => bootstrapCI(time, event, risk, { seed: 1, replicates: 5, metric: () => { throw new Error('boom'); } })).toThrow('boom');
    expect(() => bootstrapCI(time, event, risk, { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => bootstrapCI(time, event, risk, { seed: 1, replicates: 0 })).toThrow(/replicates must be a positive integer/);
    expect(() => bootstrapCI(time, event, risk, { seed: 1, level: 95 })).toThrow(/level must be in \(0, 1\)/);
    expect(() => bootstrapCI([1, 2], [0, 0], [1, 2], { seed: 1, replicates: 10 })).toThrow(/no comparable pairs/);
  });
});
