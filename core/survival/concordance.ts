/**
 * Concordance indices for right-censored survival data: Harrell's C and Uno's C, in O(n log n).
 *
 * - `harrellC` equals R `survival::concordance(Surv(time, event) ~ risk, reverse = TRUE)` (survival 3.5-3) and
 *   scikit-survival `concordance_index_censored` (the CHIMERA scorer).
 * - `unoC` equals R `survival::concordance(Surv(time, event) ~ risk, reverse = TRUE, timewt = "n/G2", ymax = tau)`.
 *
 * Conventions (a higher risk means an earlier event):
 * - a pair (i, j) is comparable when case i had the event and `time_i < time_j`, or `time_i == time_j` and j was
 *   censored (a censored case tied in time with an event is taken to have outlived it). Two events at the same time
 *   are not comparable;
 * - a comparable pair is concordant when `risk_i > risk_j`, discordant when `risk_i < risk_j`, and counts 1/2 when
 *   the risks are tied (exactly equal, as R does; scikit-survival's default tolerance is 1e-8, pass
 *   `{ tiedTol: 1e-8 }` to reproduce it on nearly-tied floats);
 * - C = (concordant + tiedRisk / 2) / comparable; for Uno's C every pair is weighted by w(time_i) (below).
 *
 * Uno's weights, as R computes them (survival:::concordancefit -> C fastkm1; verified against R to 1e-12):
 * w(t) = 1 / G(t-)^2 for an event at t <= tau, 0 for an event after tau (pairs whose later member lies beyond tau
 * still count). G is the Kaplan-Meier estimate of the censoring distribution with deaths removed before censorings
 * at a tied time: at a censoring time c, G drops by the factor 1 - (censored at c) / (#{time >= c} - deaths at c)
 * (the same G as `prodlim(..., reverse = TRUE)`, see `reverseKaplanMeier`), and G(t-) is its value just before t.
 * R falls back to unit weights when there are fewer than 2 events, which gives the same C.
 * R also merges times that differ by a relative 1e-8 (`timefix = TRUE`, aeqSurv) before counting; this module
 * compares times exactly.
 *
 * Cost: O(n log n) time (sort + a Fenwick tree over risk ranks, sweeping times from the latest), O(n) memory:
 * about 70 ms for 100,000 cases with heavy ties (bench/harrell-c.mjs, bench/RESULTS.md).
 *
 * @example
 * harrellC([2, 5, 9], [1, 1, 0], [0.9, 0.4, 0.1]).cIndex; // 1
 * unoC(time, event, risk, { tau: 365 }).cIndex;
 */
import { reverseKaplanMeier } from './kaplan-meier.js';
import { finiteArray, NoComparablePairsError, survivalLabels } from './guards.js';

export interface ConcordanceResult {
  /** (concordant + tiedRisk / 2) / comparable, in [0, 1]. */
  cIndex: number;
  concordant: number;
  discordant: number;
  /** Comparable pairs whose risks are tied. */
  tiedRisk: number;
  /** Number of comparable pairs (= concordant + discordant + tiedRisk). */
  comparable: number;
}

export interface ConcordanceOptions {
  /** Risks closer than this (absolute difference) count as tied. Default 0 (exact ties, as in R). */
  tiedTol?: number;
}

export interface UnoOptions extends ConcordanceOptions {
  /** Events after tau get weight 0 (R's `ymax`). Default: no truncation. */
  tau?: number;
}

/** Uno's C: the counts are weighted sums (weights 1 / G(t-)^2); `pairs` counts the comparable pairs with weight > 0. */
export interface UnoConcordanceResult extends ConcordanceResult {
  pairs: number;
  tau: number;
}

interface Prepared {
  n: number;
  time: Float64Array;
  event: Uint8Array;
  risk: Float64Array;
  events: number;
  tol: number;
}

function prepare(fn: string, time: ArrayLike<number>, event: ArrayLike<boolean | number>, risk: ArrayLike<number>,
  options: ConcordanceOptions): Prepared {
  const labels = survivalLabels(fn, time, event, { risk: risk.length });
  const r = finiteArray(fn, 'risk', risk);
  const tol = options.tiedTol ?? 0;
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new Error(`${fn}: tiedTol must be a finite number >= 0, found ${tol}`);
  return { n: labels.n, time: labels.time, event: labels.event, risk: r, events: labels.events, tol };
}

/** Indices sorted by time ascending (ties in input order). */
function orderByTime(time: Float64Array): Uint32Array {
  const idx = new Uint32Array(time.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => time[a]! - time[b]! || a - b);
}

/**
 * The sweep shared by Harrell's and Uno's C. `weightAt(t)` gives the weight of the pairs whose earlier member is an
 * event at t (0 skips them).
 */
function sweep(p: Prepared, weightAt: (t: number) => number): { conc: number; disc: number; tied: number; pairs: number } {
  const { n, time, event, risk, tol } = p;
  // distinct risks, ascending; rank[i] = position of risk[i] among them
  const sortedRisk = Float64Array.from(risk).sort();
  const uniq: number[] = [];
  for (let k = 0; k < n; k++) if (k === 0 || sortedRisk[k] !== sortedRisk[k - 1]) uniq.push(sortedRisk[k]!);
  const u = uniq.length;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) rank[i] = lowerBound(uniq, risk[i]!);
  const tree = new Float64Array(u + 1); // Fenwick tree of counts by risk rank (1-based)
  const add = (r: number): void => {
    for (let k = r + 1; k <= u; k += k & -k) tree[k]! += 1;
  };
  /** number of inserted cases with rank < r */
  const below = (r: number): number => {
    let s = 0;
    for (let k = r; k > 0; k -= k & -k) s += tree[k]!;
    return s;
  };
  const order = orderByTime(time);
  let inserted = 0;
  let conc = 0;
  let disc = 0;
  let tied = 0;
  let pairs = 0;
  let end = n; // block [start, end) of order holds one distinct time, swept from the latest
  while (end > 0) {
    const t = time[order[end - 1]!]!;
    let start = end - 1;
    while (start > 0 && time[order[start - 1]!]! === t) start--;
    // a censored case tied in time with an event counts as outliving it
    for (let k = start; k < end; k++) {
      const i = order[k]!;
      if (event[i] === 0) { add(rank[i]!); inserted++; }
    }
    const w = weightAt(t);
    if (w > 0 && inserted > 0) {
      for (let k = start; k < end; k++) {
        const i = order[k]!;
        if (event[i] === 0) continue;
        let lo: number; // ranks < lo: risk_i - risk_j > tol (concordant)
        let hi: number; // ranks >= hi: risk_i - risk_j < -tol (discordant)
        if (tol === 0) {
          lo = rank[i]!;
          hi = lo + 1;
        } else {
          const ri = risk[i]!;
          lo = partition(uniq, (v) => ri - v > tol);
          hi = partition(uniq, (v) => !(ri - v < -tol));
        }
        const c = below(lo);
        const notDisc = below(hi);
        conc += w * c;
        tied += w * (notDisc - c);
        disc += w * (inserted - notDisc);
        pairs += inserted;
      }
    }
    for (let k = start; k < end; k++) {
      const i = order[k]!;
      if (event[i] === 1) { add(rank[i]!); inserted++; }
    }
    end = start;
  }
  return { conc, disc, tied, pairs };
}

/** First index whose value is >= x in an ascending array. */
function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of leading elements for which `pred` holds (pred true on a prefix, false after). */
function partition(a: number[], pred: (v: number) => boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(a[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function noPairs(fn: string, p: Prepared, extra = ''): NoComparablePairsError {
  return new NoComparablePairsError(
    `${fn}: no comparable pairs among ${p.n} cases (${p.events} events)${extra}: a pair needs an event before ` +
      `another case's time (or at the time of a censored case); the C-index is undefined`,
  );
}

/** Harrell's C (see the file comment for the exact convention). Throws on bad input or no comparable pair. */
export function harrellC(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  risk: ArrayLike<number>,
  options: ConcordanceOptions = {},
): ConcordanceResult {
  const p = prepare('harrellC', time, event, risk, options);
  const { conc, disc, tied, pairs } = sweep(p, () => 1);
  if (pairs === 0) throw noPairs('harrellC', p);
  return { cIndex: (conc + tied / 2) / pairs, concordant: conc, discordant: disc, tiedRisk: tied, comparable: pairs };
}

/**
 * Uno's C = R `concordance(Surv(time, event) ~ risk, reverse = TRUE, timewt = "n/G2", ymax = tau)`: Harrell's
 * pairs weighted by 1 / G(time_i-)^2, events after `tau` dropped (see the file comment).
 */
export function unoC(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  risk: ArrayLike<number>,
  options: UnoOptions = {},
): UnoConcordanceResult {
  const p = prepare('unoC', time, event, risk, options);
  const tau = options.tau ?? Infinity;
  if (typeof tau !== 'number' || Number.isNaN(tau)) throw new Error(`unoC: tau must be a number, found ${String(tau)}`);
  const g = reverseKaplanMeier(p.time, p.event);
  // G(t-) at the distinct times of g (g.time is ascending and holds every observed time)
  const gBefore = new Map<number, number>();
  let prev = 1;
  for (let k = 0; k < g.time.length; k++) {
    gBefore.set(g.time[k]!, prev);
    prev = g.surv[k]!;
  }
  const res = sweep(p, (t) => {
    if (t > tau) return 0;
    const gt = gBefore.get(t)!;
    return 1 / (gt * gt);
  });
  const pairs = res.pairs; // comparable pairs with an event at or before tau (all have weight > 0)
  const w = res.conc + res.disc + res.tied;
  if (pairs === 0 || !(w > 0)) throw noPairs('unoC', p, Number.isFinite(tau) ? ` with an event at or before tau = ${tau}` : '');
  return {
    cIndex: (res.conc + res.tied / 2) / w,
    concordant: res.conc,
    discordant: res.disc,
    tiedRisk: res.tied,
    comparable: w,
    pairs,
    tau,
  };
}

/**
 * A warning when the scores look like survival probabilities (all within [0, 1] and Harrell's C < 0.5, i.e. the
 * score rises with follow-up time), or null. Callers show it to the user; this function never logs.
 */
export function orientationWarning(
  risk: ArrayLike<number>,
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
): string | null {
  for (let i = 0; i < risk.length; i++) {
    const r = risk[i]!;
    if (!(r >= 0 && r <= 1)) return null;
  }
  let c: number;
  try {
    c = harrellC(time, event, risk).cIndex;
  } catch (err) {
    if (err instanceof NoComparablePairsError) return null;
    throw err;
  }
  if (c >= 0.5) return null;
  return (
    `higher risk must mean earlier event; these look like survival probabilities: pass 1 - S or -S ` +
    `(all ${risk.length} scores lie in [0, 1] and Harrell's C is ${c.toFixed(4)} < 0.5, so they rise with follow-up time)`
  );
}
