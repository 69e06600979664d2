/**
 * Calibration of predicted survival: at each horizon t, the out-of-fold cases are sorted by their predicted S(t)
 * and cut into equal-size bins; a bin's predicted value is the mean S(t) of its cases and its observed value is the
 * Kaplan-Meier S(t) of those cases (`kaplanMeier`, survfit, with its 95 % log-scale band). A calibrated model puts
 * the points on the diagonal.
 *
 * Bins: min(5, max(2, floor(n / 15))) per horizon, so each holds about 15 cases or more where n allows.
 *
 * @example
 * const fig = calibrationFigure(rows, [12, 36, 60]);   // rows carry surv: S at each horizon, or null
 */
import { kaplanMeier, type KaplanMeierFit } from '../survival/kaplan-meier.js';
import type { OofCase } from './risk-groups.js';

export interface CalibrationBin {
  horizon: number;
  bin: number;
  n: number;
  predicted: number;
  observed: number;
  lower: number | null;
  upper: number | null;
}

export interface CalibrationFigure {
  horizons: number[];
  bins: CalibrationBin[];
  /** Why there is no figure (e.g. the head gives no S(t)); absent when there is one. */
  note?: string;
}

/** S(t) of a KM fit with its band at t (right-continuous; 1 before the first time). */
function kmAt(fit: KaplanMeierFit, t: number): { surv: number; lower: number | null; upper: number | null } {
  let k = -1;
  while (k + 1 < fit.time.length && fit.time[k + 1]! <= t) k++;
  if (k < 0) return { surv: 1, lower: 1, upper: 1 };
  const band = (x: number) => (Number.isFinite(x) ? x : null);
  return { surv: fit.surv[k]!, lower: band(fit.lower[k]!), upper: band(fit.upper[k]!) };
}

export function binCount(n: number): number {
  return Math.min(5, Math.max(2, Math.floor(n / 15)));
}

export function calibrationFigure(rows: readonly (OofCase & { surv: number[] | null })[], horizons: readonly number[]): CalibrationFigure {
  if (horizons.length === 0) return { horizons: [], bins: [], note: 'the run has no evaluation times' };
  const withCurve = rows.filter((r) => r.surv !== null);
  if (withCurve.length < 4) return { horizons: [...horizons], bins: [], note: "the run's head gives no survival curve S(t) (oof.csv has no surv_<t> values)" };
  const bins: CalibrationBin[] = [];
  horizons.forEach((horizon, h) => {
    const sorted = [...withCurve].sort((a, b) => a.surv![h]! - b.surv![h]!);
    const k = binCount(sorted.length);
    for (let b = 0; b < k; b++) {
      const part = sorted.slice(Math.floor((b * sorted.length) / k), Math.floor(((b + 1) * sorted.length) / k));
      const fit = kaplanMeier(part.map((r) => r.time), part.map((r) => r.event));
      const obs = kmAt(fit, horizon);
      bins.push({
        horizon, bin: b + 1, n: part.length,
        predicted: part.reduce((a, r) => a + r.surv![h]!, 0) / part.length,
        observed: obs.surv, lower: obs.lower, upper: obs.upper,
      });
    }
  });
  return { horizons: [...horizons], bins };
}
