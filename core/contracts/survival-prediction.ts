/**
 * SurvivalPrediction: what a model says about one case.
 *
 * Invariants
 * - `risk` is finite; higher means an earlier expected event (the orientation of Harrell's C in core/survival).
 * - When `survival` is present, `times` is present with the same length, `times` is strictly increasing and > 0,
 *   and `survival` is non-increasing with values in [0, 1]: S(times[k]) = P(T > times[k]).
 * - `time`, when present, is a time-like output (larger = later event) produced by a calibration map that is
 *   strictly decreasing in risk; challenge scorers that negate their input read this value.
 * - `probability`, present for binary heads only, is P(positive class) in [0, 1] and equals sigmoid(risk).
 *
 * @example
 * const p: SurvivalPrediction = {
 *   caseId: '3A_001', risk: 1.7,
 *   times: Float64Array.from([6, 12, 24, 60]), survival: Float64Array.from([0.95, 0.81, 0.66, 0.42]),
 * };
 */
export interface SurvivalPrediction {
  caseId?: string;
  risk: number;
  times?: Float64Array;
  survival?: Float64Array;
  time?: number;
  /** Binary heads: P(positive class). */
  probability?: number;
  /** Heads that explain in words (e.g. the LLM-distillation student's verbalised prognosis): a short text. */
  explanation?: string;
  /** Named component curves on `times` that the head combined (e.g. { hidden, verbalised }), for reports. */
  curves?: Record<string, Float64Array>;
}
