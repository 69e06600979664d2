/**
 * Kaplan-Meier estimates: the survival curve with its confidence band and quantiles, and the censoring
 * distribution G used by the IPCW metrics.
 *
 * - `kaplanMeier` equals R `survival::survfit(Surv(time, event) ~ 1, conf.type = ..., conf.int = ...)` (survival
 *   3.5-3): one row per distinct observed time (event or censoring) with n.risk = #{time >= t}, n.event, n.censor,
 *   surv = prod(1 - d / n), `stdErr` = survfit's `std.err`, which is the standard error of the cumulative hazard
 *   -log S (Greenwood on the log scale: sqrt(sum d / (n (n - d))), Infinity once n = d), and the confidence limits of
 *   survfit_confint: "log" (default) S exp(+-z se), upper clipped to 1, NaN where S = 0; "log-log"
 *   exp(-exp(log(-log S) -+ z se / log S)), NaN where S is 0 or 1; "plain" S (1 +- z se) clipped to [0, 1]. NaN
 *   stands where R gives NA.
 * - `kmQuantile` / `kmMedian` equal `quantile.survfit` (its helper findq): the quantile p is the first time the
 *   curve reaches 1 - S >= p (within tolerance sqrt(.Machine$double.eps)); when the curve sits exactly at
 *   1 - p over an interval, R returns the midpoint of that interval (the time it reached the level and the next
 *   time the curve moves), or, when it stays at that level to the end, the midpoint with the last follow-up time.
 *   The lower limit comes from the lower confidence curve, the upper limit from the upper one; null = not reached.
 * - `reverseKaplanMeier` is the censoring distribution G(t) = P(C > t): the Kaplan-Meier estimate with the roles of
 *   event and censoring swapped and deaths removed before censorings at a tied time (at a censoring time c the
 *   factor is 1 - censored(c) / (#{time >= c} - deaths(c))). This is `prodlim(Hist(time, status) ~ 1,
 *   reverse = TRUE)`, which riskRegression::Score uses for cens.model = "km", and the G of R's concordance
 *   (C fastkm1). `censoringAt(g, t)` = G(t) (right-continuous), `censoringBefore(g, t)` = G(t-).
 *
 * @example
 * const km = kaplanMeier(time, event);            // 95 % log-scale band, as survfit
 * survivalAt(km, 365);                            // S(365)
 * kmMedian(km);                                   // { median, lower, upper } or nulls when not reached
 * const g = reverseKaplanMeier(time, event);
 * censoringBefore(g, 12);                         // G(12-)
 */
import { survivalLabels } from './guards.js';

/** A right-continuous step function: value `surv[k]` on [time[k], time[k + 1]); 1 before time[0]. */
export interface StepCurve {
  /** Distinct times, increasing. */
  time: Float64Array;
  surv: Float64Array;
}

export type ConfType = 'log' | 'log-log' | 'plain';

export interface KaplanMeierOptions {
  /** Confidence level of the pointwise band. Default 0.95. */
  confLevel?: number;
  /** Scale of the band (survfit's conf.type). Default 'log'. */
  confType?: ConfType;
}

export interface KaplanMeierFit extends StepCurve {
  nRisk: Float64Array;
  nEvent: Float64Array;
  nCensor: Float64Array;
  /** survfit's std.err: the standard error of -log S (cumulative hazard). */
  stdErr: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  confLevel: number;
  confType: ConfType;
  /** Number of cases. */
  n: number;
}

export interface CensoringCurve extends StepCurve {
  /** Censoring risk set #{time >= t} - deaths(t). */
  nRisk: Float64Array;
  nCensor: Float64Array;
}

interface Grouped {
  time: Float64Array;
  atRisk: Float64Array;
  events: Float64Array;
  censored: Float64Array;
}

/** Distinct times with #{time >= t}, events and censorings at t. */
function groupTimes(time: Float64Array, event: Uint8Array): Grouped {
  const n = time.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => time[a]! - time[b]!);
  const t: number[] = [];
  const ev: number[] = [];
  const ce: number[] = [];
  const risk: number[] = [];
  let k = 0;
  while (k < n) {
    const tk = time[order[k]!]!;
    let d = 0;
    let c = 0;
    const start = k;
    while (k < n && time[order[k]!]! === tk) {
      if (event[order[k]!] === 1) d++;
      else c++;
      k++;
    }
    t.push(tk);
    ev.push(d);
    ce.push(c);
    risk.push(n - start);
  }
  return { time: Float64Array.from(t), atRisk: Float64Array.from(risk), events: Float64Array.from(ev), censored: Float64Array.from(ce) };
}

/**
 * Inverse of the standard normal CDF (Wichura 1988, AS 241, PPND16: relative accuracy about 1e-16), as R qnorm.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new Error(`normalQuantile: p must be in [0, 1], found ${p}`);
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
      45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r +
      3.387132872796366608)) /
      (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1);
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
      1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r + 4.6303378461565452959) * r +
      1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    val = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
      0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r + 5.4637849111641143699) * r +
      6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1);
  }
  return q < 0 ? -val : val;
}

/** The Kaplan-Meier estimate = R survfit (see the file comment). */
export function kaplanMeier(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  options: KaplanMeierOptions = {},
): KaplanMeierFit {
  const labels = survivalLabels('kaplanMeier', time, event);
  const confLevel = options.confLevel ?? 0.95;
  const confType = options.confType ?? 'log';
  if (!(confLevel > 0 && confLevel < 1)) {
    throw new Error(`kaplanMeier: confLevel must be in (0, 1), e.g. 0.95, found ${String(confLevel)}`);
  }
  if (confType !== 'log' && confType !== 'log-log' && confType !== 'plain') {
    throw new Error(`kaplanMeier: confType must be 'log', 'log-log' or 'plain', found ${String(confType)}`);
  }
  const g = groupTimes(labels.time, labels.event);
  const m = g.time.length;
  const surv = new Float64Array(m);
  const stdErr = new Float64Array(m);
  const lower = new Float64Array(m);
  const upper = new Float64Array(m);
  const z = normalQuantile(1 - (1 - confLevel) / 2);
  let s = 1;
  let varH = 0;
  for (let k = 0; k < m; k++) {
    const n = g.atRisk[k]!;
    const d = g.events[k]!;
    if (d > 0) {
      s *= (n - d) / n;
      varH += n > d ? d / (n * (n - d)) : Infinity;
    }
    surv[k] = s;
    const se = Math.sqrt(varH);
    stdErr[k] = se;
    const [lo, hi] = confLimits(s, se, z, confType);
    lower[k] = lo;
    upper[k] = hi;
  }
  return {
    time: g.time, surv, nRisk: g.atRisk, nEvent: g.events, nCensor: g.censored, stdErr, lower, upper,
    confLevel, confType, n: labels.n,
  };
}

/** survfit_confint with logse = TRUE, ulimit = TRUE. */
function confLimits(p: number, se: number, z: number, type: ConfType): [number, number] {
  if (type === 'plain') {
    const se2 = se * p * z;
    return [Math.max(p - se2, 0), Math.min(p + se2, 1)];
  }
  if (type === 'log') {
    if (p === 0) return [NaN, NaN];
    const se2 = z * se;
    return [Math.exp(Math.log(p) - se2), Math.min(Math.exp(Math.log(p) + se2), 1)];
  }
  if (p === 0 || p === 1) return [NaN, NaN];
  const se2 = (z * se) / Math.log(p);
  const ll = Math.log(-Math.log(p));
  return [Math.exp(-Math.exp(ll - se2)), Math.exp(-Math.exp(ll + se2))];
}

/** Index of the last time <= t (right-continuous lookup), -1 when t precedes every time. */
function lastAtOrBefore(times: ArrayLike<number>, t: number, strict: boolean): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = times[mid]!;
    if (strict ? v < t : v <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** S(t) of a step curve: right-continuous, 1 before the first time, the last value after the last time. */
export function survivalAt(curve: StepCurve, t: number): number {
  if (Number.isNaN(t)) throw new Error('survivalAt: t must be a number, found NaN');
  const k = lastAtOrBefore(curve.time, t, false);
  return k < 0 ? 1 : curve.surv[k]!;
}

/** S(t-) of a step curve: the value just before t (1 at or before the first time). */
export function survivalBefore(curve: StepCurve, t: number): number {
  if (Number.isNaN(t)) throw new Error('survivalBefore: t must be a number, found NaN');
  const k = lastAtOrBefore(curve.time, t, true);
  return k < 0 ? 1 : curve.surv[k]!;
}

/** S at each of `times` (right-continuous). */
export function survivalAtTimes(curve: StepCurve, times: ArrayLike<number>): Float64Array {
  const out = new Float64Array(times.length);
  for (let k = 0; k < times.length; k++) out[k] = survivalAt(curve, times[k]!);
  return out;
}

export interface KmQuantile {
  /** Time at which 1 - S first reaches p (survfit's rule), or null when the curve never gets there. */
  quantile: number | null;
  /** From the lower confidence curve. */
  lower: number | null;
  /** From the upper confidence curve. */
  upper: number | null;
}

const QUANTILE_TOL = Math.sqrt(2.220446049250313e-16);

/** survival:::findq for one probability: x = (0, times), y = (0, 1 - curve); NaN entries of y are R's NA. */
function findq(x: number[], y: number[], p: number): number | null {
  let maxY = -Infinity;
  for (const v of y) if (!Number.isNaN(v) && v > maxY) maxY = v;
  if (maxY < p) return null;
  const xmax = x[x.length - 1]!;
  // drop duplicated y values (keep the first: the time the curve reached that level)
  const xs: number[] = [];
  const ys: number[] = [];
  const seen = new Set<number>(); // SameValueZero: NaN matches NaN, as R's duplicated() does for NA
  for (let k = 0; k < y.length; k++) {
    const v = y[k]!;
    if (!seen.has(v)) { seen.add(v); xs.push(x[k]!); ys.push(v); }
  }
  /** approx(y + shift, 1:n, p, method = "constant", f = 1): index of the smallest y + shift >= p, or -1 (NA). */
  const approxIndex = (shift: number): number => {
    let best = -1;
    let bestV = Infinity;
    let minV = Infinity;
    for (let k = 0; k < ys.length; k++) {
      if (Number.isNaN(ys[k]!)) continue;
      const v = ys[k]! + shift;
      if (v < minV) minV = v;
      if (v >= p && v < bestV) { bestV = v; best = k; }
    }
    return p < minV ? -1 : best;
  };
  if (p === 0) return xs[0]!;
  const i1 = approxIndex(QUANTILE_TOL);
  const i2 = approxIndex(-QUANTILE_TOL);
  const last = ys[ys.length - 1]!;
  if (!Number.isNaN(last) && Math.abs(p - last) < QUANTILE_TOL) return i1 < 0 ? null : (xs[i1]! + xmax) / 2;
  if (i1 < 0 || i2 < 0) return null;
  return (xs[i1]! + xs[i2]!) / 2;
}

/** The p-quantile of the event time (1 - S reaches p) with its confidence limits, as R quantile.survfit. */
export function kmQuantile(km: KaplanMeierFit, p: number): KmQuantile {
  if (!(p >= 0 && p <= 1)) throw new Error(`kmQuantile: p must be a probability in [0, 1], found ${String(p)}`);
  const x = [0, ...km.time];
  const curveY = (c: ArrayLike<number>): number[] => [0, ...Array.from(c, (v) => 1 - v)];
  return {
    quantile: findq(x, curveY(km.surv), p),
    lower: findq(x, curveY(km.lower), p),
    upper: findq(x, curveY(km.upper), p),
  };
}

/** Median survival time with its confidence limits (survfit's rule); nulls when not reached. */
export function kmMedian(km: KaplanMeierFit): { median: number | null; lower: number | null; upper: number | null } {
  const q = kmQuantile(km, 0.5);
  return { median: q.quantile, lower: q.lower, upper: q.upper };
}

/** The censoring distribution G (see the file comment): deaths leave the risk set before censorings at a tie. */
export function reverseKaplanMeier(time: ArrayLike<number>, event: ArrayLike<boolean | number>): CensoringCurve {
  const labels = survivalLabels('reverseKaplanMeier', time, event);
  const g = groupTimes(labels.time, labels.event);
  const m = g.time.length;
  const surv = new Float64Array(m);
  const nRisk = new Float64Array(m);
  let s = 1;
  for (let k = 0; k < m; k++) {
    const r = g.atRisk[k]! - g.events[k]!;
    nRisk[k] = r;
    const c = g.censored[k]!;
    if (c > 0) s *= (r - c) / r;
    surv[k] = s;
  }
  return { time: g.time, surv, nRisk, nCensor: g.censored };
}

/** G(t): probability of remaining uncensored beyond t (right-continuous). */
export function censoringAt(g: CensoringCurve, t: number): number {
  return survivalAt(g, t);
}

/** G(t-): the censoring survival just before t (the IPCW weight of an event at t is 1 / G(t-)). */
export function censoringBefore(g: CensoringCurve, t: number): number {
  return survivalBefore(g, t);
}
