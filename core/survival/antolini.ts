/**
 * Antolini's time-dependent concordance C^td from predicted survival curves, as pycox
 * `EvalSurv(surv, durations, events).concordance_td('antolini')` (pycox 0.2.x, evaluation/concordance.py).
 *
 * Each case's curve S_i is given on a common, increasing time grid. For a case i the curves are compared at the
 * grid point `idx(T_i)` = the last grid time <= T_i (pycox's steps = 'post'; clipped to the first grid point when
 * T_i precedes the grid). Conventions, exactly pycox's:
 * - a pair (i, j) is comparable when i had the event and T_i < T_j, or T_i == T_j, i had the event and j was
 *   censored (two events at the same time are not comparable);
 * - it is concordant when S_i(idx(T_i)) < S_j(idx(T_i)) strictly: tied survival values count 0 (not 1/2);
 * - C^td = concordant / comparable.
 * With curves that never cross this is Harrell's C of any risk that orders the curves (e.g. -sum S), up to ties.
 * Not R: no R package computes this variant; the golden toy cohort (tests/fixtures/golden) holds pycox's value.
 *
 * Cost: O(n^2) time, O(n) memory beyond the input (n = 5,000 takes ~50 ms).
 *
 * @example
 * antoliniC(time, event, survCurves, gridTimes).cIndex;   // survCurves[i][k] = S(gridTimes[k] | x_i)
 */
import { caseTimeMatrix, finiteArray, NoComparablePairsError, survivalLabels } from './guards.js';

export interface AntoliniResult {
  cIndex: number;
  concordant: number;
  comparable: number;
}

/** Antolini's C^td (see the file comment); `surv[i][k]` = S(gridTimes[k] | x_i). */
export function antoliniC(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  surv: ArrayLike<ArrayLike<number>>,
  gridTimes: ArrayLike<number>,
): AntoliniResult {
  const fn = 'antoliniC';
  const { n, time: T, event: E, events } = survivalLabels(fn, time, event);
  const grid = finiteArray(fn, 'gridTimes', gridTimes);
  const m = grid.length;
  if (m === 0) throw new Error(`${fn}: gridTimes is empty; pass the times at which the curves are given`);
  for (let k = 1; k < m; k++) {
    if (!(grid[k]! > grid[k - 1]!)) {
      throw new Error(`${fn}: gridTimes must be strictly increasing, found gridTimes[${k - 1}] = ${grid[k - 1]} and gridTimes[${k}] = ${grid[k]}`);
    }
  }
  const S = caseTimeMatrix(fn, 'surv', surv, n, m);
  let concordant = 0;
  let comparable = 0;
  for (let i = 0; i < n; i++) {
    if (E[i] === 0) continue;
    const ti = T[i]!;
    // pycox idx_at_times(steps = 'post'): searchsorted(grid, t, 'right') - 1, clipped to [0, m - 1]
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (grid[mid]! <= ti) lo = mid + 1;
      else hi = mid;
    }
    const col = Math.min(Math.max(lo - 1, 0), m - 1);
    const si = S[i * m + col]!;
    for (let j = 0; j < n; j++) {
      const tj = T[j]!;
      if (!(ti < tj || (ti === tj && E[j] === 0))) continue;
      comparable++;
      if (si < S[j * m + col]!) concordant++;
    }
  }
  if (comparable === 0) {
    throw new NoComparablePairsError(
      `${fn}: no comparable pairs among ${n} cases (${events} events): a pair needs an event before another case's ` +
        `time (or at the time of a censored case); C^td is undefined`,
    );
  }
  return { cIndex: concordant / comparable, concordant, comparable };
}
