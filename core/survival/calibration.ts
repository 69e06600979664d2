/**
 * Kaplan-Meier time calibration: risk -> a time-like output (larger = later event) for challenge scorers that
 * negate their input (CHIMERA tasks 1 and 3 compute Harrell's C on -output).
 *
 * Fitted on the training fold: its risks and its Kaplan-Meier curve. A new risk r is mapped in two steps:
 * 1. its level u(r) in (0, 1): the empirical distribution of training risks, as a piecewise-linear function through
 *    the mid-rank positions (i - 0.5) / m of the distinct sorted training risks (tied training risks share their
 *    average position), extended past both ends by exponential approach to 0 and 1 (scale = the mean gap between
 *    distinct training risks), so u is strictly increasing on the whole real line;
 * 2. the time at which the training Kaplan-Meier curve reaches level u: the KM curve is made strictly decreasing by
 *    joining (0, 1) and the points (t_k, S(t_k)) at each distinct event time with straight lines; below its last
 *    level S_last the curve continues as the exponential tail S_last * exp(-lambda (t - t_last)), with
 *    lambda = -ln(S_last) / t_last (the exponential through the origin and the last KM point).
 * The map is strictly decreasing in risk, so the output order equals the risk order and the C-index of the outputs
 * equals the C-index of the risks. Tails are computed in log space, so outputs stay finite and distinct for risks
 * hundreds of scale units outside the training range (when the training KM curve reaches 0, levels that underflow
 * to 0 saturate at its last time: only for risks ~700 scale units below every training risk).
 *
 * This replaces the calibration the HKKH CHIMERA entry shipped (nearest KM level to the risk quantile), which gave
 * the lower-risk half of all patients the same output whenever the training KM stays above 0.5.
 *
 * @example
 * const km = kaplanMeierSteps(trainTime, trainEvent);
 * const map = fitKmTimeCalibration(trainRisk, km);
 * const output = kmTime(map, newRisk);                // months, larger = later event
 * await store.writeJson('calibration.json', map);      // plain JSON: it travels into the container
 */

export interface KmCurve {
  /** Distinct times, increasing. */
  time: ArrayLike<number>;
  /** S(t) just after each time (right-continuous), non-increasing, in [0, 1]. */
  surv: ArrayLike<number>;
}

export interface KmTimeCalibration {
  kind: 'km-time';
  version: 1;
  /** Distinct training risks, increasing, with their positions in (0, 1). */
  risks: number[];
  positions: number[];
  /** Scale of the exponential extension of u beyond the training risks. */
  riskScale: number;
  /** Strictly decreasing KM knots, starting at (0, 1). */
  knotTimes: number[];
  knotSurv: number[];
  /** Exponential tail rate below the last KM level. */
  tailRate: number;
}

function assertFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${name}[${i}]: expected a finite number, found ${values[i]}`);
  }
}

/** The Kaplan-Meier curve at its distinct times (no confidence intervals): what the calibration needs. */
export function kaplanMeierSteps(time: ArrayLike<number>, event: ArrayLike<number | boolean>): KmCurve {
  if (time.length !== event.length) throw new Error(`kaplanMeierSteps: time has ${time.length} values, event ${event.length}`);
  assertFinite('time', time);
  const order = Array.from({ length: time.length }, (_, i) => i).sort((a, b) => time[a]! - time[b]!);
  const times: number[] = [];
  const surv: number[] = [];
  let atRisk = time.length;
  let s = 1;
  for (let k = 0; k < order.length; ) {
    const t = time[order[k]!]!;
    let d = 0;
    let n = 0;
    while (k < order.length && time[order[k]!] === t) {
      if (event[order[k]!]) d++;
      n++;
      k++;
    }
    s *= 1 - d / atRisk;
    times.push(t);
    surv.push(s);
    atRisk -= n;
  }
  return { time: times, surv };
}

/** Fit the map on training risks and the training Kaplan-Meier curve. */
export function fitKmTimeCalibration(trainRisk: ArrayLike<number>, km: KmCurve): KmTimeCalibration {
  if (trainRisk.length < 2) throw new Error(`km-time calibration: expected at least 2 training risks, found ${trainRisk.length}`);
  assertFinite('trainRisk', trainRisk);
  assertFinite('km.time', km.time);
  assertFinite('km.surv', km.surv);
  const sorted = Array.from(trainRisk).sort((a, b) => a - b);
  const m = sorted.length;
  const risks: number[] = [];
  const positions: number[] = [];
  for (let i = 0; i < m; ) {
    let j = i;
    while (j < m && sorted[j] === sorted[i]) j++;
    risks.push(sorted[i]!);
    positions.push((i + j) / 2 / m); // mean of (k + 0.5) / m over k = i..j-1
    i = j;
  }
  if (risks.length < 2) throw new Error('km-time calibration: every training risk is the same value; the model did not learn an ordering');
  const riskScale = (risks[risks.length - 1]! - risks[0]!) / (risks.length - 1);

  const knotTimes = [0];
  const knotSurv = [1];
  for (let k = 0; k < km.time.length; k++) {
    const t = km.time[k]!;
    const s = km.surv[k]!;
    if (t <= knotTimes[knotTimes.length - 1]!) {
      if (k > 0) throw new Error(`km.time must be strictly increasing: km.time[${k}] = ${t} after ${km.time[k - 1]}`);
      if (t < 0) throw new Error(`km.time[${k}]: expected a time >= 0, found ${t}`);
    }
    if (s < knotSurv[knotSurv.length - 1]! && t > 0) {
      knotTimes.push(t);
      knotSurv.push(s);
    }
  }
  if (knotTimes.length < 2) throw new Error('km-time calibration: the training Kaplan-Meier curve never drops (no events in the training fold)');
  const tLast = knotTimes[knotTimes.length - 1]!;
  const sLast = knotSurv[knotSurv.length - 1]!;
  const tailRate = sLast > 0 ? -Math.log(sLast) / tLast : Infinity;
  return { kind: 'km-time', version: 1, risks, positions, riskScale, knotTimes, knotSurv, tailRate };
}

/**
 * log u(r) and log(1 - u(r)): the level of a risk, kept in log space at both ends so that neither tail underflows.
 */
function level(map: KmTimeCalibration, r: number): { logU: number; log1mU: number } {
  const { risks, positions, riskScale } = map;
  const n = risks.length;
  if (r <= risks[0]!) {
    const logU = Math.log(positions[0]!) + (r - risks[0]!) / riskScale;
    return { logU, log1mU: Math.log1p(-Math.exp(logU)) };
  }
  if (r >= risks[n - 1]!) {
    const log1mU = Math.log1p(-positions[n - 1]!) - (r - risks[n - 1]!) / riskScale;
    return { logU: Math.log1p(-Math.exp(log1mU)), log1mU };
  }
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (risks[mid]! <= r) lo = mid;
    else hi = mid;
  }
  const f = (r - risks[lo]!) / (risks[hi]! - risks[lo]!);
  const u = positions[lo]! + f * (positions[hi]! - positions[lo]!);
  return { logU: Math.log(u), log1mU: Math.log1p(-u) };
}

/** The calibrated time of one risk: strictly decreasing in risk, finite and > 0. */
export function kmTime(map: KmTimeCalibration, risk: number): number {
  if (!Number.isFinite(risk)) throw new Error(`kmTime: expected a finite risk, found ${risk}`);
  if (map.kind !== 'km-time') throw new Error(`kmTime: expected a 'km-time' calibration, found kind ${JSON.stringify(map.kind)}`);
  const { knotTimes, knotSurv, tailRate } = map;
  const { logU, log1mU } = level(map, risk);
  const n = knotTimes.length;
  const sLast = knotSurv[n - 1]!;
  // The first segment, from (0, 1) to (t1, S1), in terms of 1 - u so that u -> 1 keeps resolution.
  if (log1mU <= Math.log1p(-knotSurv[1]!)) {
    return knotTimes[1]! * Math.exp(log1mU - Math.log1p(-knotSurv[1]!));
  }
  const u = Math.exp(logU);
  if (u > sLast) {
    let k = 1;
    while (knotSurv[k + 1]! >= u) k++;
    const f = (knotSurv[k]! - u) / (knotSurv[k]! - knotSurv[k + 1]!);
    return knotTimes[k]! + f * (knotTimes[k + 1]! - knotTimes[k]!);
  }
  // A KM curve that reaches 0 has no tail: levels that underflow to 0 saturate at its last time.
  if (sLast === 0) return knotTimes[n - 1]!;
  return knotTimes[n - 1]! + (Math.log(sLast) - logU) / tailRate;
}

/** kmTime over many risks. */
export function kmTimes(map: KmTimeCalibration, risks: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: risks.length }, (_, i) => kmTime(map, risks[i]!));
}

/**
 * Restricted mean survival time of a discrete-time prediction: the area under S(t) up to the last bin edge, with S
 * linear inside each bin (S(edge_0 = 0) = 1, S(edge_k) = S_k). A time-like summary on the model's own time scale:
 * strictly increasing in every S_k (each has weight (w_k + w_{k+1}) / 2 > 0), so it never ties two predictions that
 * differ in one direction, but it orders cases like the risk -RMST, which is not the head's risk -sum(S) when the
 * bins (quantiles of event times) have unequal widths.
 *
 * For challenge outputs from a discrete head use the Kaplan-Meier calibration of its risk instead, which keeps the
 * guarantee exactly: `fitKmTimeCalibration(trainSurv.map(riskFromSurvival), km)` then `kmTime(map, riskFromSurvival(S))`
 * (tested as a property in tests/core/survival/calibration.test.ts).
 */
export function restrictedMeanTime(edges: ArrayLike<number>, surv: ArrayLike<number>): number {
  if (edges.length !== surv.length + 1) {
    throw new Error(`restrictedMeanTime: expected ${surv.length + 1} bin edges for ${surv.length} survival values, found ${edges.length}`);
  }
  let area = 0;
  let prev = 1;
  for (let k = 0; k < surv.length; k++) {
    const s = surv[k]!;
    area += ((prev + s) / 2) * (edges[k + 1]! - edges[k]!);
    prev = s;
  }
  return area;
}
