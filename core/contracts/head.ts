/**
 * Head: fused vector -> survival (or a binary class).
 *
 * Invariants
 * - `target` says which label the head learns from: 'survival' (the default when absent: `Case.label`, time and
 *   event) or 'binary' (`Case.binary`); the trainer passes `loss` labels of that kind only and chooses the
 *   validation metrics, splits and output files by it (see binary-label.ts).
 * - `forward(z)` maps [b, inDim] to hazards logits [b, bins] (discrete-time heads), a risk [b, 1] (Cox heads) or a
 *   logit [b, 1] (binary heads).
 * - `loss(out, labels, cases)` is a scalar; labels[i] belongs to row i of `out`. It is defined (finite) for any batch,
 *   including one case or no event, where it warns instead of returning NaN.
 * - `predict(out)` returns one SurvivalPrediction per row with risk oriented as "higher = earlier event" (binary
 *   heads: "higher = more likely positive", plus `probability`).
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
import type { TargetKind, TargetLabel } from './binary-label.js';
import type { SurvivalLabel } from './survival-label.js';
import type { SurvivalPrediction } from './survival-prediction.js';

export interface Head {
  /** The label this head learns from; absent means 'survival'. */
  readonly target?: TargetKind;
  readonly variables: tf.Variable[];
  build?(inDim: number): void;
  fit?(train: readonly Case[]): void;
  state?(): unknown;
  restore?(state: unknown): void;
  forward(z: tf.Tensor2D): tf.Tensor2D;
  /**
   * `cases[i]` is the case of row i (with its knowledge texts), for heads whose loss reads more than the label (e.g.
   * a distillation term toward a teacher's curve, `Case.knowledge` role 'teacher').
   */
  loss(out: tf.Tensor2D, labels: readonly TargetLabel[], cases?: readonly Case[]): tf.Scalar;
  /** `cases[i]` is the case of row i, for heads that combine their output with case knowledge (never labels). */
  predict(out: tf.Tensor2D, cases?: readonly Case[]): SurvivalPrediction[];
  /**
   * Optional (Cox heads): fit the Breslow baseline hazard from the final training-fold risks, called by the trainer
   * after training; afterwards `predict` also returns S(t). Persisted by `state()`.
   */
  fitBaseline?(risks: ArrayLike<number>, labels: readonly SurvivalLabel[]): void;
  dispose(): void;
}
