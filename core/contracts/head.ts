/**
 * Head: fused vector -> survival.
 *
 * Invariants
 * - `forward(z)` maps [b, inDim] to hazards logits [b, bins] (discrete-time heads) or a risk [b, 1] (Cox heads).
 * - `loss(out, labels)` is a scalar; labels[i] belongs to row i of `out`. It is defined (finite) for any batch,
 *   including one case or no event, where it warns instead of returning NaN.
 * - `predict(out)` returns one SurvivalPrediction per row with risk oriented as "higher = earlier event".
 * - `fit?(train)` learns label-dependent state (time bins from the training fold, a baseline hazard) and `state()`
 *   persists it so inference never refits.
 *
 * @example
 * const out = head.forward(z);                  // [1, 4] logits for a 4-bin discrete-time head
 * const l = head.loss(out, [{ time: 12, event: true }]);
 * const [p] = head.predict(out);                // p.risk, p.times, p.survival
 */
import type * as tf from '@tensorflow/tfjs';
import type { Case } from './case.js';
import type { SurvivalLabel } from './survival-label.js';
import type { SurvivalPrediction } from './survival-prediction.js';

export interface Head {
  readonly variables: tf.Variable[];
  build?(inDim: number): void;
  fit?(train: readonly Case[]): void;
  state?(): unknown;
  restore?(state: unknown): void;
  forward(z: tf.Tensor2D): tf.Tensor2D;
  loss(out: tf.Tensor2D, labels: readonly SurvivalLabel[]): tf.Scalar;
  predict(out: tf.Tensor2D): SurvivalPrediction[];
  /**
   * Optional (Cox heads): fit the Breslow baseline hazard from the final training-fold risks, called by the trainer
   * after training; afterwards `predict` also returns S(t). Persisted by `state()`.
   */
  fitBaseline?(risks: ArrayLike<number>, labels: readonly SurvivalLabel[]): void;
  dispose(): void;
}
