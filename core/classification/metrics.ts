/**
 * Binary classification metrics, as scikit-learn defines them (CHIMERA Task 2 is scored with scikit-learn):
 *
 * - `rocAuc(y, p)`: `roc_auc_score(y, p)`, in its Mann-Whitney form (a tie between a positive and a negative counts
 *   1/2). It equals Harrell's C of a binary outcome, so it is the "c-index" of a binary run.
 * - `weightedF1(y, yhat)`: `f1_score(y, yhat, average='weighted')`: per-class F1 weighted by the class's support in
 *   `y` (a class that is never predicted has F1 0, as scikit-learn's `zero_division` default gives, with a warning there).
 * - `accuracy(y, yhat)`: `accuracy_score`.
 * - `logLoss(y, p)`: `log_loss(y, p)` (natural log; p clipped to [eps, 1 - eps] with eps = 2.220446049250313e-16,
 *   the float64 machine epsilon scikit-learn 1.2 uses).
 * - `brierScore(y, p)`: `brier_score_loss(y, p)`, the mean of (p - y)^2.
 * `binaryReport` gathers them for a fold's validation cases at the threshold 0.5 (p >= 0.5 -> positive).
 *
 * y holds 0/1 (1 = positive); p probabilities in [0, 1]. Tested against values written by scikit-learn
 * (tests/reference/classification).
 *
 * @example
 * binaryReport([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6]);
 * // { n: 4, positives: 2, auc: 0.75, f1_weighted: 0.5, accuracy: 0.5, log_loss: 0.6..., brier: 0.2925 }
 */

function checkPair(what: string, y: readonly number[], x: readonly number[]): void {
  if (y.length !== x.length || y.length === 0) throw new Error(`${what}: expected equal non-empty lists, found ${y.length} labels and ${x.length} values`);
  y.forEach((v, i) => {
    if (v !== 0 && v !== 1) throw new Error(`${what}: labels must be 0 or 1, found ${v} at index ${i}`);
  });
}

function checkProbabilities(what: string, p: readonly number[]): void {
  p.forEach((v, i) => {
    if (!(v >= 0 && v <= 1)) throw new Error(`${what}: expected probabilities in [0, 1], found ${v} at index ${i}`);
  });
}

export function weightedF1(y: readonly number[], yhat: readonly number[]): number {
  checkPair('weightedF1', y, yhat);
  let total = 0;
  for (const cls of [...new Set(y)]) {
    let tp = 0, fp = 0, fn = 0;
    y.forEach((t, i) => {
      if (yhat[i] === cls && t === cls) tp++;
      else if (yhat[i] === cls) fp++;
      else if (t === cls) fn++;
    });
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    total += f1 * y.filter((t) => t === cls).length;
  }
  return total / y.length;
}

/** ROC AUC; throws when `y` holds one class only (undefined, as in scikit-learn). O(n log n). */
export function rocAuc(y: readonly number[], p: readonly number[]): number {
  checkPair('rocAuc', y, p);
  const nPos = y.reduce((a, v) => a + v, 0);
  const nNeg = y.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new Error(`rocAuc: needs both classes, found ${nPos} positive and ${nNeg} negative`);
  // Mann-Whitney U from mid-ranks: sum of the positives' ranks among all values, ties sharing their mean rank.
  const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let k = 0; k < order.length;) {
    let j = k;
    while (j + 1 < order.length && order[j + 1]![0] === order[k]![0]) j++;
    const midRank = (k + j) / 2 + 1;
    for (let m = k; m <= j; m++) if (y[order[m]![1]] === 1) rankSum += midRank;
    k = j + 1;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function accuracy(y: readonly number[], yhat: readonly number[]): number {
  checkPair('accuracy', y, yhat);
  return y.reduce((a, t, i) => a + (t === yhat[i] ? 1 : 0), 0) / y.length;
}

const EPS = 2.220446049250313e-16;

export function logLoss(y: readonly number[], p: readonly number[]): number {
  checkPair('logLoss', y, p);
  checkProbabilities('logLoss', p);
  let s = 0;
  y.forEach((t, i) => {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]!));
    s -= t === 1 ? Math.log(q) : Math.log(1 - q);
  });
  return s / y.length;
}

export function brierScore(y: readonly number[], p: readonly number[]): number {
  checkPair('brierScore', y, p);
  checkProbabilities('brierScore', p);
  return y.reduce((a, t, i) => a + (p[i]! - t) ** 2, 0) / y.length;
}

/** What a binary fold (or run) is scored by; `auc` is null when the cases hold one class only. */
export interface BinaryReport {
  n: number;
  positives: number;
  auc: number | null;
  f1_weighted: number;
  accuracy: number;
  log_loss: number;
  brier: number;
}

/** Threshold applied to probabilities for F1 and accuracy (CHIMERA Task 2: 0.5). */
export const DECISION_THRESHOLD = 0.5;

export function binaryReport(y: readonly number[], p: readonly number[]): BinaryReport {
  checkPair('binaryReport', y, p);
  checkProbabilities('binaryReport', p);
  const yhat = p.map((v) => (v >= DECISION_THRESHOLD ? 1 : 0));
  const positives = y.reduce((a, v) => a + v, 0);
  return {
    n: y.length,
    positives,
    auc: positives > 0 && positives < y.length ? rocAuc(y, p) : null,
    f1_weighted: weightedF1(y, yhat),
    accuracy: accuracy(y, yhat),
    log_loss: logLoss(y, p),
    brier: brierScore(y, p),
  };
}
