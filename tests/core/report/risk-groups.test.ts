import { describe, expect, it } from 'vitest';
import { kmGroupsFigure, niceTicks, quantileSorted, riskGroups, type OofCase } from '../../../core/report/risk-groups.js';
import { referenceCohorts } from '../../support/r-reference.js';

interface Ref {
  time: number[];
  event: number[];
  risk: number[];
  logrank2: { group: number[]; chisq: number; df: number; p: number; observed: number[] };
  logrank3: { group: number[]; chisq: number; df: number; p: number; observed: number[] };
}

const rows = (time: number[], event: number[], risk: number[], fold: (i: number) => number = () => 0): OofCase[] =>
  time.map((t, i) => ({ id: `c${i}`, fold: fold(i), time: t, event: event[i]!, risk: risk[i]! }));

describe('risk groups of out-of-fold predictions', () => {
  it('quantiles are R type 7 (Hyndman & Fan: x[j] + (h - j)(x[j+1] - x[j]), h = (n - 1) p)', () => {
    // R: quantile(c(1, 2, 3, 4, 10), c(1/3, 0.5, 2/3, 0.9)) = 2.333333 3.000000 3.666667 7.600000
    const q = [1 / 3, 0.5, 2 / 3, 0.9].map((p) => quantileSorted([1, 2, 3, 4, 10], p));
    expect(q[0]).toBeCloseTo(7 / 3, 12);
    expect(q[1]).toBe(3);
    expect(q[2]).toBeCloseTo(11 / 3, 12);
    expect(q[3]).toBeCloseTo(7.6, 12);
  });

  it('cuts within each fold, so folds on different risk scales split evenly; a risk equal to the cut goes low', () => {
    const r = rows([1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1, 1], [1, 2, 3, 4, 100, 200, 300], (i) => (i < 4 ? 0 : 1));
    expect(riskGroups(r, 'median')).toEqual(['low', 'low', 'high', 'high', 'low', 'low', 'high']);
    // a pooled median (4) would put every case of the second fold in the high group
    const t = rows([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], [6, 5, 4, 3, 2, 1]);
    expect(riskGroups(t, 'tertiles')).toEqual(['high', 'high', 'intermediate', 'intermediate', 'low', 'low']);
  });

  it('nice ticks start at 0 and step by 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(153.8)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(60)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(niceTicks(0.9, 4)).toEqual([0, 0.5]);
    expect(niceTicks(0)).toEqual([0]);
  });

  it('numbers at risk are #{time >= t} of each group; every group curve starts at (0, 1)', () => {
    const time = [2, 3, 3, 5, 8, 9, 12, 13, 20, 21];
    const event = [1, 0, 1, 1, 0, 1, 1, 0, 1, 0];
    const risk = [9, 1, 8, 2, 7, 3, 6, 4, 5, 0];
    const fig = kmGroupsFigure(rows(time, event, risk), 'median', { ticks: [0, 3, 5, 10, 20, 25] });
    const groups = riskGroups(rows(time, event, risk), 'median');
    for (const a of fig.atRisk) {
      expect(a.n, `${a.group} at ${a.time}`).toBe(time.filter((t, i) => groups[i] === a.group && t >= a.time).length);
    }
    for (const g of fig.groups) expect(g.steps[0]).toMatchObject({ time: 0, surv: 1 });
    expect(fig.members.map((m) => m.group)).toEqual(groups);
  });
});

describe.each(referenceCohorts<Ref>())('risk groups and log-rank on R reference cohort $name', ({ ref }) => {
  it('median split and tertiles equal R\'s groups (cut = median / type-7 tertiles) and survdiff\'s chi-square and p', () => {
    const r = rows(ref!.time, ref!.event, ref!.risk);
    for (const [scheme, lr] of [['median', ref!.logrank2], ['tertiles', ref!.logrank3]] as const) {
      const names = scheme === 'median' ? ['low', 'high'] : ['low', 'intermediate', 'high'];
      expect(riskGroups(r, scheme)).toEqual(lr.group.map((g) => names[g]));
      const fig = kmGroupsFigure(r, scheme);
      expect(fig.logRank.chisq).toBeCloseTo(lr.chisq, 8);
      expect(Math.abs(fig.logRank.p - lr.p) / lr.p).toBeLessThan(1e-8);
      expect(fig.logRank.df).toBe(lr.df);
      expect(fig.groups.map((g) => g.events)).toEqual(lr.observed);
    }
  });
});
