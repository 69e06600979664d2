/**
 * Time bins of the discrete-time survival heads (SurvPath, MCAT, PORPOISE, SurvPGC): edges cut at quantiles of the
 * EVENT (uncensored) times of the training fold.
 *
 * Edges (`timeBinsFromEvents`, K = `bins`, default 4), K + 1 numbers, strictly increasing:
 * - inner edges e_1..e_{K-1}: the quantiles at k/K of the training event times, linear interpolation between order
 *   statistics (numpy's default = R type 7 = pandas `Series.quantile`, which `pd.qcut` uses);
 * - e_0 = 0 (METHODS.md). SurvPath uses min(all times) - 1e-6; every time >= that lands in the same bin either way;
 * - e_K = max(ALL training times, censored included) + 1e-6 (`EDGE_STRETCH`), as SurvPath's `q_bins[-1]`.
 * Errors (each says to use fewer bins): no event at all; fewer than K distinct event times; two of the K + 1
 * quantiles at 0, 1/K, .., 1 equal (many tied event times; `pd.qcut` raises "Bin edges must be unique" in the same
 * case). Distinct quantiles mean bin 0 holds the earliest event; with heavy ties a middle bin can still hold no
 * event, as in SurvPath.
 *
 * Boundary rule (`binOf`): bins are left-closed, bin k = [e_k, e_{k+1}) (SurvPath: `pd.cut(..., right=False)`), so a
 * time exactly on an inner edge goes to the LATER bin. Times at or past e_K (validation cases followed up longer than
 * every training case) go to the last bin K-1, where `pd.cut` would give NaN.
 *
 * The result is plain JSON (`{ edges }`) and travels with a trained model.
 *
 * @example
 * const bins = timeBinsFromEvents(trainTime, trainEvent);   // { edges: [0, 8.5, 17, 30.25, 120.000001] }
 * binOf(bins.edges, 17);                                     // 2  ([17, 30.25))
 */

export interface TimeBins {
  /** K + 1 strictly increasing edges; edges[0] = 0, edges[K] > every training time. */
  edges: number[];
}

export interface TimeBinsOptions {
  /** Number of bins K (>= 1). Default 4. */
  bins?: number;
}

/** How far the last edge lies past the largest training time (SurvPath's eps). */
export const EDGE_STRETCH = 1e-6;

function eventFlag(value: unknown, index: number, where: string): boolean {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  throw new Error(`${where}: event[${index}] must be a boolean or 0/1, found ${String(value)}`);
}

/** Quantile at probability p of sorted values, linear interpolation (numpy default, R type 7). */
function quantileType7(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantileType7: no values');
  const pos = p * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo]! : sorted[lo]! + frac * (sorted[hi]! - sorted[lo]!);
}

/** Bin edges from the training fold (see the file comment for the exact rule). */
export function timeBinsFromEvents(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  options: TimeBinsOptions = {},
): TimeBins {
  const where = 'timeBinsFromEvents';
  const bins = options.bins ?? 4;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`${where}: bins must be an integer >= 1, found ${bins}`);
  const n = time.length;
  if (event.length !== n) {
    throw new Error(`${where}: time and event must have the same length, found ${n} and ${event.length}`);
  }
  const eventTimes: number[] = [];
  let maxTime = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = time[i]!;
    if (!Number.isFinite(t) || t < 0) throw new Error(`${where}: time[${i}] must be a finite number >= 0, found ${t}`);
    if (eventFlag(event[i], i, where)) eventTimes.push(t);
    if (t > maxTime) maxTime = t;
  }
  if (eventTimes.length === 0) {
    throw new Error(
      `${where}: the training fold has no event (all ${n} cases censored), so there are no event-time quantiles to cut ` +
        'bins at; use a fold with events (stratify the split by event) or a Cox head, which needs no bins',
    );
  }
  eventTimes.sort((a, b) => a - b);
  let distinct = 1;
  for (let i = 1; i < eventTimes.length; i++) if (eventTimes[i] !== eventTimes[i - 1]) distinct++;
  if (distinct < bins) {
    throw new Error(
      `${where}: ${bins} bins need at least ${bins} distinct event times in the training fold, found ${distinct} ` +
        `(${eventTimes.length} events); use bins: ${distinct} or fewer, or a larger training fold`,
    );
  }
  const q: number[] = [];
  for (let k = 0; k <= bins; k++) q.push(quantileType7(eventTimes, k / bins));
  for (let k = 1; k <= bins; k++) {
    if (!(q[k]! > q[k - 1]!)) {
      throw new Error(
        `${where}: the event-time quantiles at ${(k - 1) / bins} and ${k / bins} are both ${q[k]} (many tied event ` +
          `times; pandas qcut raises "Bin edges must be unique" here); use fewer bins than ${bins}`,
      );
    }
  }
  let last = maxTime + EDGE_STRETCH;
  if (!(last > maxTime)) last = maxTime * (1 + 1e-12); // times so large that 1e-6 is below their resolution
  return { edges: [0, ...q.slice(1, bins), last] };
}

/** Check that `edges` (e.g. read back from JSON) are usable: >= 2 finite numbers, first 0, strictly increasing. */
export function validateTimeBins(bins: unknown, where = 'time bins'): TimeBins {
  const edges = (bins as { edges?: unknown } | null)?.edges;
  if (!Array.isArray(edges) || edges.length < 2) {
    throw new Error(`${where}: expected { edges: number[] } with at least 2 edges, found ${JSON.stringify(bins)}`);
  }
  for (let k = 0; k < edges.length; k++) {
    const e = edges[k] as unknown;
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new Error(`${where}: edges[${k}] must be a finite number, found ${String(e)}`);
    if (k === 0 && e !== 0) throw new Error(`${where}: edges[0] must be 0, found ${e}`);
    if (k > 0 && !(e > (edges[k - 1] as number))) {
      throw new Error(`${where}: edges must be strictly increasing, found edges[${k - 1}] = ${String(edges[k - 1])} >= edges[${k}] = ${e}`);
    }
  }
  return { edges: edges as number[] };
}

/**
 * The bin of time t: k with edges[k] <= t < edges[k+1] (left-closed); t >= the last edge gives the last bin.
 * Binary search, O(log K). Throws on a negative or non-finite t.
 */
export function binOf(edges: ArrayLike<number>, t: number): number {
  const nBins = edges.length - 1;
  if (nBins < 1) throw new Error(`binOf: expected at least 2 edges, found ${edges.length}`);
  if (!Number.isFinite(t) || t < edges[0]!) {
    throw new Error(`binOf: time must be a finite number >= ${edges[0]} (the first edge), found ${t}`);
  }
  // largest k in [0, nBins - 1] with edges[k] <= t
  let lo = 0;
  let hi = nBins - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** `binOf` for every time; errors name the index. */
export function binsOf(edges: ArrayLike<number>, time: ArrayLike<number>): Int32Array {
  const out = new Int32Array(time.length);
  for (let i = 0; i < time.length; i++) {
    try {
      out[i] = binOf(edges, time[i]!);
    } catch (err) {
      throw new Error(`binsOf: time[${i}]: ${(err as Error).message}`);
    }
  }
  return out;
}
