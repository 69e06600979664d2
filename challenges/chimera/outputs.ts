/** Output values of the CHIMERA tasks, checked before they are written. */
import type { ChallengePrediction } from '../../core/contracts/challenge-adapter.js';

/** Tasks 1 and 3: the calibrated time (the scorer negates it). */
export function timeOutput(p: ChallengePrediction, task: string): number {
  if (p.time === undefined || !Number.isFinite(p.time)) {
    throw new Error(`${task}: the model gave no finite calibrated time (found ${p.time}); the run needs its Kaplan-Meier calibration map (calibration.json)`);
  }
  return p.time;
}

/** Task 2: a probability in [0, 1]. */
export function probabilityOutput(p: ChallengePrediction, task: string): number {
  if (p.probability === undefined || !(p.probability >= 0 && p.probability <= 1)) {
    throw new Error(`${task}: expected a class probability in [0, 1], found ${p.probability}; package a run trained with a binary head`);
  }
  return p.probability;
}
