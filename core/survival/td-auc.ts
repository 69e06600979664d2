/**
 * Cumulative/dynamic time-dependent AUC with Kaplan-Meier censoring weights, and its scikit-survival summary.
 *
 * `cumulativeDynamicAuc` equals R `riskRegression::Score(list(F), Hist(time, event) ~ 1, times = times,
 * metrics = "auc", cens.model = "km")` (riskRegression 2022.11.28, AUC.survival): at each evaluation time t
 * - cases are T_i <= t with the event, weighted 1 / G(T_i-); controls are T_i > t, weighted 1 / G(t) (a constant,
 *   so controls count equally); cases censored at or before t are left out;
 * - AUC(t) = sum_{case i, control j} w_i [1(F_i > F_j) + 1/2 1(F_i == F_j)] / (sum_i w_i * #controls), which is the
 *   trapezoid area under Score's weighted ROC curve (scores tied exactly count 1/2);
 * - G is the censoring Kaplan-Meier curve of `reverseKaplanMeier` (prodlim reverse = TRUE: deaths leave the risk
 *   set before censorings at a tied time), G(T_i-) its value just before T_i, G(t) at t.
 * The score is anything where higher means an earlier event: the predicted event probability F(t) = 1 - S(t | x) at
 * each time (a matrix [n][times]) or one risk per case used at every time (a vector, as Score with a numeric
 * vector). Pass 1 - S to reproduce Score bit for bit on tied predictions (Score ranks 1 - S).
 *
 * `integratedAuc` equals scikit-survival's `cumulative_dynamic_auc` mean AUC: the AUCs weighted by the drop of the
 * Kaplan-Meier survival curve over the grid, sum_k AUC(t_k) (S(t_{k-1}) - S(t_k)) / (1 - S(t_last)) with
 * S(t_0) = 1; a single time returns its AUC.
 *
 * @example
 * const F = surv.map((row) => row.map((s) => 1 - s));     // [n][times]
 * const auc = cumulativeDynamicAuc(time, event, F, times);
 * const iauc = integratedAuc(auc, times, kaplanMeier(time, event));
 */
import { caseTimeMatrix, evaluationTimes, finiteArray, survivalLabels } from './guards.js';
import { censoringBefore, reverseKaplanMeier, survivalAt, type StepCurve } from './kaplan-meier.js';

/** Per-case scores: a vector (one risk per case, every time), rows [n][times], or a function of the time index. */
export type AucScores =
  | ArrayLike<number>
  | ArrayLike<ArrayLike<number>>
  | ((timeIndex: number, t: number) => ArrayLike<number>);

/** AUC(t) at each evaluation time (see the file comment). */
export function cumulativeDynamicAuc(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  score: AucScores,
  times: ArrayLike<number>,
): number[] {
  const fn = 'cumulativeDynamicAuc';
  const labels = survivalLabels(fn, time, event);
  const { n, time: T, event: E } = labels;
  const ts = evaluationTimes(fn, times, T);
  const m = ts.length;
  const column = scoreColumns(fn, score, n, ts);
  const g = reverseKaplanMeier(T, E);
  const caseW = new Float64Array(n);
  for (let i = 0; i < n; i++) caseW[i] = E[i] === 1 ? 1 / censoringBefore(g, T[i]!) : 0;
  const out: number[] = [];
  for (let k = 0; k < m; k++) {
    const t = ts[k]!;
    const s = column(k);
    // sort by score descending; walk tied blocks accumulating weighted cases and controls
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => s[b]! - s[a]!);
    let casesAbove = 0;
    let area = 0;
    let caseTotal = 0;
    let controlTotal = 0;
    let q = 0;
    while (q < n) {
      const v = s[idx[q]!]!;
      let a = 0;
      let b = 0;
      while (q < n && s[idx[q]!]! === v) {
        const i = idx[q]!;
        if (T[i]! <= t && E[i] === 1) a += caseW[i]!;
        else if (T[i]! > t) b += 1;
        q++;
      }
      area += b * (casesAbove + a / 2);
      casesAbove += a;
      caseTotal += a;
      controlTotal += b;
    }
    if (caseTotal === 0) {
      throw new Error(
        `${fn}: no case at times[${k}] = ${t}: no event at or before it; choose evaluation times after the first event ` +
          `time`,
      );
    }
    if (controlTotal === 0) {
      throw new Error(`${fn}: no control at times[${k}] = ${t}: no case is followed beyond it; choose an earlier time`);
    }
    // controls share the weight 1 / G(t), which cancels between numerator and denominator
    out.push(area / (caseTotal * controlTotal));
  }
  return out;
}

function scoreColumns(fn: string, score: AucScores, n: number, ts: Float64Array): (k: number) => ArrayLike<number> {
  const m = ts.length;
  if (typeof score === 'function') {
    return (k) => {
      const col = score(k, ts[k]!);
      if (!col || col.length !== n) {
        throw new Error(`${fn}: score(${k}, ${ts[k]}) must return one score per case (${n}), found ${col ? col.length : String(col)}`);
      }
      return finiteArray(fn, `score(${k})`, col);
    };
  }
  if (score.length !== n) throw new Error(`${fn}: score must hold one entry per case (${n}), found ${score.length}`);
  if (n > 0 && typeof score[0] === 'number') {
    const v = finiteArray(fn, 'score', score as ArrayLike<number>);
    return () => v;
  }
  const mat = caseTimeMatrix(fn, 'score', score as ArrayLike<ArrayLike<number>>, n, m);
  return (k) => {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = mat[i * m + k]!;
    return col;
  };
}

/** scikit-survival's mean of a cumulative/dynamic AUC curve, weighted by the Kaplan-Meier drop (file comment). */
export function integratedAuc(auc: ArrayLike<number>, times: ArrayLike<number>, km: StepCurve): number {
  const fn = 'integratedAuc';
  const a = finiteArray(fn, 'auc', auc);
  const ts = finiteArray(fn, 'times', times);
  if (a.length !== ts.length) {
    throw new Error(`${fn}: auc and times must have the same length, found ${a.length} and ${ts.length}`);
  }
  if (a.length === 0) throw new Error(`${fn}: auc is empty`);
  if (a.length === 1) return a[0]!;
  let prev = 1;
  let num = 0;
  let last = 1;
  for (let k = 0; k < ts.length; k++) {
    if (k > 0 && !(ts[k]! > ts[k - 1]!)) {
      throw new Error(`${fn}: times must be strictly increasing, found times[${k - 1}] = ${ts[k - 1]} and times[${k}] = ${ts[k]}`);
    }
    const s = survivalAt(km, ts[k]!);
    num += a[k]! * (prev - s);
    prev = s;
    last = s;
  }
  if (!(last < 1)) {
    throw new Error(`${fn}: the Kaplan-Meier curve does not drop before times[${ts.length - 1}] = ${ts[ts.length - 1]}; the weighted mean is undefined`);
  }
  return num / (1 - last);
}
