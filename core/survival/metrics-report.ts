/**
 * The survival report of one set of predictions: what `mmsurv metrics` prints and what cross-validation records per
 * fold. Every field is one of the R-verified functions of this folder, with the conventions of DESIGN.md section 6:
 *
 * - `harrell_c`: `concordance(Surv(time, event) ~ risk, reverse = TRUE)`;
 * - `uno_c`: the same with `timewt = "n/G2", ymax = tau` (null without tau);
 * - `td_auc`: cumulative/dynamic AUC at each time with Kaplan-Meier censoring weights
 *   (`riskRegression::Score(..., metrics = "auc", cens.model = "km")`), scored by 1 - S(t) when survival curves are
 *   given and by the risk otherwise; `iauc` is their Kaplan-Meier-weighted mean (scikit-survival's `mean_auc`);
 * - `brier`: Score's Brier score at each time (needs S(t)); `ibs` its trapezoid over the grid divided by the span;
 * - `km_surv`, `km_median`: `survfit` of the cohort (median null when the curve never reaches 0.5);
 * - `logrank_chisq`, `logrank_p`: `survdiff` between risk > median(risk) and the rest.
 *
 * Problems that do not make a number wrong but may make it meaningless (scores that look like survival
 * probabilities, a risk with a single value) come back as `warnings`, for the caller to show; nothing here logs.
 *
 * @example
 * const { report, warnings } = survivalReport({ time, event, risk, times: [365, 1095], surv, tau: 1825 });
 * report.harrell_c; report.brier; // [Brier(365), Brier(1095)]
 */
import { brierScore, integratedBrierScore } from './brier.js';
import { harrellC, orientationWarning, unoC } from './concordance.js';
import { kaplanMeier, kmMedian, survivalAtTimes } from './kaplan-meier.js';
import { logRank } from './logrank.js';
import { cumulativeDynamicAuc, integratedAuc } from './td-auc.js';

export interface SurvivalReportInput {
  time: ArrayLike<number>;
  event: ArrayLike<number | boolean>;
  /** Higher = earlier event. */
  risk: ArrayLike<number>;
  /** Evaluation times (strictly increasing, within the follow-up). */
  times?: readonly number[];
  /** surv[i][k] = S(times[k] | case i); enables `brier` and `ibs` and scores `td_auc` by 1 - S. */
  surv?: ArrayLike<ArrayLike<number>>;
  /** Truncation time of Uno's C. */
  tau?: number;
}

/** Field names and order are a public format (`mmsurv metrics --json`); do not rename. */
export interface SurvivalReport {
  n: number;
  events: number;
  harrell_c: number;
  uno_c: number | null;
  td_auc: number[];
  iauc: number | null;
  brier: number[] | null;
  ibs: number | null;
  km_surv: number[];
  km_median: number | null;
  logrank_chisq: number | null;
  logrank_p: number | null;
}

export function survivalReport(input: SurvivalReportInput): { report: SurvivalReport; warnings: string[] } {
  const { time, event, risk, surv, tau } = input;
  const times = input.times ?? [];
  const warnings: string[] = [];
  const n = time.length;
  let events = 0;
  for (let i = 0; i < event.length; i++) events += Number(event[i]) === 1 ? 1 : 0;

  const orientation = orientationWarning(risk, time, event);
  if (orientation) warnings.push(orientation);

  const harrell = harrellC(time, event, risk).cIndex;
  const uno = tau === undefined ? null : unoC(time, event, risk, { tau }).cIndex;

  const km = kaplanMeier(time, event);
  const kmSurv = times.length ? Array.from(survivalAtTimes(km, times)) : [];
  const median = kmMedian(km).median;

  let tdAuc: number[] = [];
  let iauc: number | null = null;
  let brier: number[] | null = null;
  let ibs: number | null = null;
  if (times.length) {
    if (surv) {
      const eventProb = Array.from({ length: n }, (_, i) => Array.from(surv[i]!, (s) => 1 - s));
      tdAuc = cumulativeDynamicAuc(time, event, eventProb, times);
      brier = brierScore(time, event, surv, times);
      if (times.length >= 2) ibs = integratedBrierScore(brier, times);
    } else {
      tdAuc = cumulativeDynamicAuc(time, event, risk, times);
    }
    iauc = integratedAuc(tdAuc, times, km);
  }

  let chisq: number | null = null;
  let p: number | null = null;
  const cut = median7(risk);
  const group = Array.from(risk, (r) => (r > cut ? 1 : 0));
  if (group.some((g) => g === 1)) {
    const lr = logRank(time, event, group);
    chisq = lr.chisq;
    p = lr.p;
  } else {
    warnings.push(`log-rank test skipped: no risk lies above the median risk (${cut}), so there is only one group`);
  }

  return {
    report: {
      n,
      events,
      harrell_c: harrell,
      uno_c: uno,
      td_auc: tdAuc,
      iauc,
      brier,
      ibs,
      km_surv: kmSurv,
      km_median: median,
      logrank_chisq: chisq,
      logrank_p: p,
    },
    warnings,
  };
}

/** R's `median` (the mean of the two middle values when n is even). */
function median7(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
