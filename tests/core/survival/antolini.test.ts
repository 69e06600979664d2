import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { antoliniC } from '../../../core/survival/antolini.js';
import { harrellC } from '../../../core/survival/concordance.js';
import { NoComparablePairsError } from '../../../core/survival/guards.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as {
  data: { time: number[]; event: number[] };
  discrete: { logits: number[][]; S: number[][]; risk: number[] };
  pycox_ctd_antolini: number;
  harrell_on_discrete_risk: number;
};

/** Discrete-time head: hazards h = sigmoid(logit), S(t_k) = prod_{l <= k} (1 - h_l). */
function survFromLogits(logits: number[][]): number[][] {
  return logits.map((row) => {
    let s = 1;
    return row.map((z) => {
      s *= 1 - 1 / (1 + Math.exp(-z));
      return s;
    });
  });
}

/** pycox concordance_td('antolini') written out from its source (evaluation/concordance.py), O(n^2). */
function pycoxAntolini(time: number[], event: number[], surv: number[][], grid: number[]): number {
  const idx = (t: number) => {
    let k = 0;
    while (k < grid.length && grid[k]! <= t) k++; // searchsorted(side = 'right')
    return Math.min(Math.max(k - 1, 0), grid.length - 1);
  };
  let conc = 0;
  let comp = 0;
  for (let i = 0; i < time.length; i++) {
    for (let j = 0; j < time.length; j++) {
      if (i === j) continue;
      const comparable = (time[i]! < time[j]! && event[i] === 1) || (time[i] === time[j] && event[i] === 1 && event[j] === 0);
      if (!comparable) continue;
      comp++;
      const k = idx(time[i]!);
      if (surv[i]![k]! < surv[j]![k]!) conc++;
    }
  }
  return conc / comp;
}

describe('antoliniC', () => {
  const { time, event } = golden.data;
  const S = survFromLogits(golden.discrete.logits);

  it('derives the golden curves from the logits (sigmoid hazards, cumulative product)', () => {
    S.forEach((row, i) => row.forEach((s, k) => expect(s).toBeCloseTo(golden.discrete.S[i]![k]!, 14)));
  });

  it("equals pycox concordance_td('antolini') on the golden toy cohort: 40 / 43 = 0.9302325581395349", () => {
    // the golden file does not record pycox's grid; these curves never cross, so every grid gives the same value
    for (const grid of [[0, 3, 8, 12], [2, 5, 9, 20], [2, 5, 8, 12], [1, 2, 3, 4]]) {
      const res = antoliniC(time, event, S, grid);
      expect(res.cIndex).toBeCloseTo(golden.pycox_ctd_antolini, 14);
      expect(res).toMatchObject({ concordant: 40, comparable: 43 });
    }
    // ... and, with non-crossing curves, it is Harrell's C of -sum(S) (no ties here)
    expect(harrellC(time, event, golden.discrete.risk).cIndex).toBeCloseTo(golden.harrell_on_discrete_risk, 14);
    expect(golden.harrell_on_discrete_risk).toBeCloseTo(golden.pycox_ctd_antolini, 14);
  });

  it('equals the written-out pycox definition on crossing curves with tied times and tied values (fast-check)', () => {
    const grid = [1, 3, 5, 8];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            t: fc.integer({ min: 0, max: 10 }),
            e: fc.boolean(),
            s: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 4, maxLength: 4 }),
          }),
          { minLength: 2, maxLength: 30 },
        ),
        (rows) => {
          const T = rows.map((r) => r.t);
          const E = rows.map((r) => (r.e ? 1 : 0));
          const surv = rows.map((r) => r.s.map((v) => v / 4)); // not monotone, ties: still pycox's rule
          const expected = pycoxAntolini(T, E, surv, grid);
          if (Number.isNaN(expected)) {
            expect(() => antoliniC(T, E, surv, grid)).toThrow(NoComparablePairsError);
            return;
          }
          expect(antoliniC(T, E, surv, grid).cIndex).toBeCloseTo(expected, 14);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tied survival values count 0 (not 1/2), as pycox', () => {
    expect(antoliniC([1, 2], [1, 0], [[0.5], [0.5]], [1]).cIndex).toBe(0);
  });

  it('teaches on bad input', () => {
    expect(() => antoliniC(time, event, S, [3, 1, 5, 9])).toThrow(/gridTimes must be strictly increasing/);
    expect(() => antoliniC(time, event, S, [1, 2, 3])).toThrow(/surv\[0\] must hold 3 values/);
    expect(() => antoliniC(time, event, S, [])).toThrow(/gridTimes is empty/);
    expect(() => antoliniC([1, 2], [0, 0], [[0.5], [0.4]], [1])).toThrow(NoComparablePairsError);
  });
});
