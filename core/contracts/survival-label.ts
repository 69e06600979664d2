/**
 * SurvivalLabel: the observed outcome of one case (right-censored).
 *
 * Invariants
 * - `time` is finite and > 0, in the cohort's time unit (CHIMERA: months).
 * - `event` is true when the event (death, recurrence, progression) was observed at `time`, false when the case
 *   was censored (last follow-up without the event) at `time`.
 *
 * Conventions used everywhere in mmsurv (core/survival): a higher risk means an earlier event.
 *
 * @example
 * const observed: SurvivalLabel = { time: 14.2, event: true };   // progression at 14.2 months
 * const censored: SurvivalLabel = { time: 60, event: false };    // event-free at last follow-up, 60 months
 */
export interface SurvivalLabel {
  time: number;
  event: boolean;
}
