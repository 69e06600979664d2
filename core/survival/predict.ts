/**
 * From model outputs to survival curves and risks, float64, no tfjs.
 *
 * Discrete-time heads (DESIGN.md section 6):
 * - `survivalFromHazards`: S_k = prod_{j<=k} (1 - hazard_j), the probability of surviving past the END of bin k;
 * - `riskFromSurvival`: risk = -sum_k S_k (higher = earlier event), as SurvPath;
 * - `binSurvivalAt(edges, S, t)`: a right-continuous step function on the bin grid. Survival is known to be S_k only at
 *   the end of bin k, so inside bin k = [e_k, e_{k+1}) it is the value at the start of the bin:
 *   S(t) = S_{k-1} (S_{-1} = 1), dropping to S_k at t = e_{k+1}; S(t) = S_{K-1} for t >= e_K (no extrapolation).
 *   This matches the likelihood: an event in bin y contributes S_{y-1} * hazard_y (alive at the start of bin y).
 *
 * Cox heads:
 * - `breslowBaseline(time, event, risk)`: the cumulative baseline hazard at risk 0, at every distinct time (censored
 *   times included, where it does not increase). With d_g events at t_g and the risk set R_g = {j : t_j >= t_g}:
 *   breslow: H0(t) = sum_{t_g <= t} d_g / sum_{j in R_g} e^{r_j};
 *   efron:   H0(t) = sum_{t_g <= t} sum_{l=0}^{d_g-1} 1 / (sum_{R_g} e^r - (l/d_g) sum_{D_g} e^r).
 *   When `risk` is the fitted linear predictor of a coxph fit with the same ties, this equals
 *   `basehaz(fit, centered = FALSE)` (R survival, `agsurv`), time for time;
 * - `coxSurvival(baseline, r, times)`: S(t | r) = exp(-H0(t) e^r), H0 a right-continuous step function (0 before the
 *   first time, the last value after the last one): `summary(survfit(fit, newdata), times)$surv`.
 * The baseline is plain JSON and travels with a trained model. It is stored at risk 0 (uncentered, like
 * `centered = FALSE`), so the fitting risks must stay within float64's exp range (|r| below ~700).
 *
 * @example
 * const S = survivalFromHazards([0.1, 0.2, 0.3, 0.4]);  // [0.9, 0.72, 0.504, 0.3024]
 * const risk = riskFromSurvival(S);                      // -2.4264
 * const base = breslowBaseline(trainTime, trainEvent, trainRisk);
 * coxSurvival(base, newRisk, [12, 24, 60]);
 */
import { coxEventGroups, eventFlags, requireFinite, type CoxTies } from './cox-loss.js';
import { binOf } from './time-bins.js';

/** S on the bin grid from per-bin hazards in [0, 1]: non-increasing, in [0, 1]. */
export function survivalFromHazards(hazards: ArrayLike<number>): Float64Array {
  const out = new Float64Array(hazards.length);
  let s = 1;
  for (let k = 0; k < hazards.length; k++) {
    const h = hazards[k]!;
    if (!(h >= 0 && h <= 1)) throw new Error(`survivalFromHazards: hazards[${k}] must be a probability in [0, 1], found ${h}`);
    s *= 1 - h;
    out[k] = s;
  }
  return out;
}

/** risk = -sum_k S_k (higher = earlier event). */
export function riskFromSurvival(survival: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < survival.length; k++) {
    const v = survival[k]!;
    if (!Number.isFinite(v)) throw new Error(`riskFromSurvival: survival[${k}] must be finite, found ${v}`);
    s += v;
  }
  return -s;
}

/** S(t) from the bin-grid survival S (K values) and the K + 1 bin edges; see the file comment for the step rule. */
export function binSurvivalAt(edges: ArrayLike<number>, survival: ArrayLike<number>, t: number): number {
  const k = survival.length;
  if (edges.length !== k + 1) {
    throw new Error(`binSurvivalAt: ${k} survival values need ${k + 1} bin edges, found ${edges.length}`);
  }
  if (t >= edges[k]!) return survival[k - 1]!;
  const bin = binOf(edges, t); // throws on t < edges[0] or NaN
  return bin === 0 ? 1 : survival[bin - 1]!;
}

/** The Cox baseline a model carries: cumulative hazard at risk 0 at distinct times (plain JSON). */
export interface CoxBaseline {
  ties: CoxTies;
  /** Distinct times, increasing (events and censorings of the fitting data). */
  time: number[];
  /** H0 just after each time, non-decreasing. */
  cumHazard: number[];
}

/** The cumulative baseline hazard of the fitting data (see the file comment); `risk` is its linear predictor. */
export function breslowBaseline(
  time: ArrayLike<number>,
  event: ArrayLike<number | boolean>,
  risk: ArrayLike<number>,
  options: { ties?: CoxTies } = {},
): CoxBaseline {
  const where = 'breslowBaseline';
  const ties = options.ties ?? 'breslow';
  if (ties !== 'breslow' && ties !== 'efron') throw new Error(`${where}: ties must be 'breslow' or 'efron', found '${String(ties)}'`);
  const n = time.length;
  if (event.length !== n || risk.length !== n) {
    throw new Error(`${where}: time, event and risk must have the same length, found ${n}, ${event.length} and ${risk.length}`);
  }
  if (n === 0) throw new Error(`${where}: no cases`);
  requireFinite(time, 'time', where);
  requireFinite(risk, 'risk', where);
  const e = eventFlags(event, where);
  const groups = coxEventGroups(time, e);
  if (groups.nEvents === 0) throw new Error(`${where}: no event among ${n} cases, so the baseline hazard is 0 everywhere; fit on data with events`);

  // exp(r - shift) keeps the sums finite (a >= 1); each increment is rescaled by exp(-shift) in log space.
  let shift = -Infinity;
  for (let i = 0; i < n; i++) shift = Math.max(shift, risk[i]!);
  const w = Float64Array.from({ length: n }, (_, i) => Math.exp(risk[i]! - shift));
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => time[q]! - time[p]!); // descending
  const distinct: number[] = [];
  const atRiskSum: number[] = []; // sum of w over {j : t_j >= time}, per distinct time (descending)
  let acc = 0;
  for (let s = 0; s < n; ) {
    const t = time[order[s]!]!;
    for (; s < n && time[order[s]!] === t; s++) acc += w[order[s]!]!;
    distinct.push(t);
    atRiskSum.push(acc);
  }
  distinct.reverse();
  atRiskSum.reverse();
  const eventsAt = new Map(groups.eventTimes.map((t, g) => [t, groups.events[g]!]));
  const cumHazard: number[] = [];
  let h = 0;
  for (let g = 0; g < distinct.length; g++) {
    const d = eventsAt.get(distinct[g]!);
    if (d) {
      const a = atRiskSum[g]!;
      if (ties === 'breslow' || d.length === 1) h += Math.exp(Math.log(d.length / a) - shift);
      else {
        let b = 0;
        for (const i of d) b += w[i]!;
        for (let l = 0; l < d.length; l++) h += Math.exp(-Math.log(a - (l / d.length) * b) - shift);
      }
    }
    cumHazard.push(h);
  }
  return { ties, time: distinct, cumHazard };
}

/** H0(t): the cumulative hazard at the last baseline time <= t (0 before the first). */
export function cumHazardAt(baseline: CoxBaseline, t: number): number {
  if (Number.isNaN(t)) throw new Error('cumHazardAt: time is NaN');
  const times = baseline.time;
  let lo = 0;
  let hi = times.length; // first index with times[i] > t
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : baseline.cumHazard[lo - 1]!;
}

/** S(t | r) = exp(-H0(t) e^r) at each of `times` (survfit.coxph, stype 2). */
export function coxSurvival(baseline: CoxBaseline, risk: number, times: ArrayLike<number>): Float64Array {
  if (!Number.isFinite(risk)) throw new Error(`coxSurvival: risk must be a finite number, found ${risk}`);
  if (baseline.time.length !== baseline.cumHazard.length) {
    throw new Error(`coxSurvival: baseline has ${baseline.time.length} times but ${baseline.cumHazard.length} cumHazard values`);
  }
  const out = new Float64Array(times.length);
  for (let k = 0; k < times.length; k++) {
    const h0 = cumHazardAt(baseline, times[k]!);
    out[k] = h0 === 0 ? 1 : Math.exp(-Math.exp(Math.log(h0) + risk)); // no Infinity * 0 for large risks
  }
  return out;
}
