/**
 * Time-dependent AUC over time, per fold: `cumulativeDynamicAuc` (riskRegression::Score, Kaplan-Meier censoring
 * weights) of each validation fold's risks at a grid of times, and the mean over the folds where it is defined.
 *
 * The grid is the distinct type-7 quantiles of the pooled out-of-fold event times at 10 %, 17.8 %, ..., 80 % (ten
 * levels): late times have few cases at risk in a fold. A fold contributes no value at a time where the AUC is
 * undefined (no case had the event by then, no control is left, or the time is outside its follow-up).
 *
 * @example
 * const fig = tdAucFigure(oofRows);   // { times, folds: [{ fold, auc: (number | null)[] }], mean }
 */
import { cumulativeDynamicAuc } from '../survival/td-auc.js';
import { quantileSorted, type OofCase } from './risk-groups.js';

export interface TdAucFigure {
  times: number[];
  /** Per fold (1-based): AUC(t) at each grid time, null where undefined. */
  folds: { fold: number; auc: (number | null)[] }[];
  /** Mean over the folds with a value, and how many folds that is. */
  mean: { time: number; auc: number | null; folds: number }[];
}

export function aucGrid(rows: readonly OofCase[], levels = 10): number[] {
  const t = rows.filter((r) => r.event).map((r) => r.time).sort((a, b) => a - b);
  if (t.length === 0) return [];
  const ps = Array.from({ length: levels }, (_, k) => 0.1 + (0.7 * k) / (levels - 1));
  return [...new Set(ps.map((p) => quantileSorted(t, p)))];
}

export function tdAucFigure(rows: readonly OofCase[], times: readonly number[] = aucGrid(rows)): TdAucFigure {
  const folds = [...new Set(rows.map((r) => r.fold))].sort((a, b) => a - b).map((fold) => {
    const f = rows.filter((r) => r.fold === fold);
    const auc = times.map((t) => {
      try {
        const v = cumulativeDynamicAuc(f.map((r) => r.time), f.map((r) => r.event), f.map((r) => r.risk), [t])[0]!;
        return Number.isFinite(v) ? v : null;
      } catch {
        return null;
      }
    });
    return { fold: fold + 1, auc };
  });
  const mean = times.map((time, k) => {
    const v = folds.map((f) => f.auc[k]).filter((x): x is number => x !== null);
    return { time, auc: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null, folds: v.length };
  });
  return { times: [...times], folds, mean };
}
