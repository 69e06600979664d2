/**
 * Task 2 metrics, as scikit-learn defines them: `f1_score(y, yhat, average='weighted')` (per-class F1 weighted by
 * class support) and `roc_auc_score(y, p)` (the Mann-Whitney form: ties between a positive and a negative count 1/2).
 */

export function weightedF1(y: readonly number[], yhat: readonly number[]): number {
  if (y.length !== yhat.length || y.length === 0) throw new Error(`weightedF1: expected equal non-empty label lists, found ${y.length} and ${yhat.length}`);
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

export function rocAuc(y: readonly number[], p: readonly number[]): number {
  const pos = p.filter((_, i) => y[i] === 1);
  const neg = p.filter((_, i) => y[i] !== 1);
  if (pos.length === 0 || neg.length === 0) throw new Error(`rocAuc: needs both classes, found ${pos.length} positive and ${neg.length} negative`);
  let s = 0;
  for (const a of pos) for (const b of neg) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (pos.length * neg.length);
}
