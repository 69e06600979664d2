/**
 * Brier score with Kaplan-Meier censoring weights, and the integrated Brier score.
 *
 * `brierScore` equals R `riskRegression::Score(list(1 - S), Hist(time, event) ~ 1, times = times,
 * metrics = "brier", cens.model = "km")` (riskRegression 2022.11.28, Brier.survival). With F_i(t) = 1 - S(t | x_i):
 *   residual_i(t) = (1 - F_i(t))^2 / G(T_i-)   when T_i <= t and the event was observed,
 *                 = 0                          when T_i <= t and censored,
 *                 = F_i(t)^2 / G(t)            when T_i > t,
 *   Brier(t) = sum_i residual_i(t) / n.
 * G is the censoring Kaplan-Meier curve of `reverseKaplanMeier` (prodlim reverse = TRUE: deaths leave the risk set
 * before censorings at a tied time); G(T_i-) is its value just before T_i, G(t) its value at t (censorings at t
 * included). scikit-survival differs: it weights events by 1 / G(T_i) (censorings at T_i included), pycox by
 * 1 / G(T_i-) but with its own censoring estimate; this module follows Score.
 *
 * `integratedBrierScore` = the trapezoid rule over the evaluation times divided by their span (last - first), the
 * IBS of scikit-survival's `integrated_brier_score` on the same grid.
 *
 * @example
 * const bs = brierScore(time, event, survAtTimes, [180, 365, 730]);   // survAtTimes[i][k] = S(times[k] | x_i)
 * integratedBrierScore(bs, [180, 365, 730]);
 */
import { caseTimeMatrix, evaluationTimes, finiteArray, survivalLabels } from './guards.js';
import { censoringAt, censoringBefore, reverseKaplanMeier } from './kaplan-meier.js';

/** Brier(t) at each evaluation time (see the file comment); `survAtTimes[i][k]` = S(times[k] | x_i) in [0, 1]. */
export function brierScore(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  survAtTimes: ArrayLike<ArrayLike<number>>,
  times: ArrayLike<number>,
): number[] {
  const fn = 'brierScore';
  const { n, time: T, event: E } = survivalLabels(fn, time, event);
  const ts = evaluationTimes(fn, times, T);
  const m = ts.length;
  const S = caseTimeMatrix(fn, 'survAtTimes', survAtTimes, n, m, true);
  const g = reverseKaplanMeier(T, E);
  const gBefore = new Float64Array(n);
  for (let i = 0; i < n; i++) gBefore[i] = E[i] === 1 ? censoringBefore(g, T[i]!) : NaN;
  const out: number[] = [];
  for (let k = 0; k < m; k++) {
    const t = ts[k]!;
    const gt = censoringAt(g, t);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const F = 1 - S[i * m + k]!;
      if (T[i]! <= t) {
        if (E[i] === 1) sum += ((1 - F) * (1 - F)) / gBefore[i]!;
      } else {
        sum += (F * F) / gt;
      }
    }
    out.push(sum / n);
  }
  return out;
}

/** Trapezoid integral of the Brier curve over `times`, divided by the span times[last] - times[0]. */
export function integratedBrierScore(brier: ArrayLike<number>, times: ArrayLike<number>): number {
  const fn = 'integratedBrierScore';
  const b = finiteArray(fn, 'brier', brier);
  const ts = finiteArray(fn, 'times', times);
  if (b.length !== ts.length) {
    throw new Error(`${fn}: brier and times must have the same length, found ${b.length} and ${ts.length}`);
  }
  if (ts.length < 2) {
    throw new Error(`${fn}: need at least 2 evaluation times to integrate, found ${ts.length}; report brierScore itself`);
  }
  let area = 0;
  for (let k = 1; k < ts.length; k++) {
    const dt = ts[k]! - ts[k - 1]!;
    if (!(dt > 0)) {
      throw new Error(`${fn}: times must be strictly increasing, found times[${k - 1}] = ${ts[k - 1]} and times[${k}] = ${ts[k]}`);
    }
    area += (dt * (b[k]! + b[k - 1]!)) / 2;
  }
  return area / (ts[ts.length - 1]! - ts[0]!);
}
