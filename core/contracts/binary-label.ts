/**
 * BinaryLabel and TargetKind: what a model is trained to predict.
 *
 * A head declares its target (`Head.target`): 'survival' heads (Cox, discrete-time) learn from `Case.label`
 * (a {@link SurvivalLabel}); 'binary' heads learn from `Case.binary`, a yes/no class such as CHIMERA Task 2's
 * BCG response subtype (BRS3 vs BRS1/2). A case may carry both; the head picks the one it needs. Readers set
 * `Case.binary` from a configured class key (e.g. the `chimera-task2` reader: `BRS` = 'BRS3' -> positive).
 *
 * Conventions used everywhere in mmsurv for a binary target:
 * - `positive` is the class whose probability is predicted (CHIMERA Task 2: BRS3).
 * - A binary head's `risk` is the logit of P(positive) (higher = more likely positive), so every ranking metric reads
 *   it with the same orientation as a survival risk; its `probability` is sigmoid(risk).
 * - Validation and summary metrics: ROC AUC (the concordance of a binary outcome, so `earlyStopping.metric:
 *   'c-index'` watches it), weighted F1 at threshold 0.5 (CHIMERA Task 2's score), accuracy, log loss and Brier
 *   score (core/classification/metrics.ts).
 *
 * @example
 * const brs3: BinaryLabel = { positive: true };    // BRS3
 * const other: BinaryLabel = { positive: false };  // BRS1 or BRS2
 */
import type { SurvivalLabel } from './survival-label.js';

export interface BinaryLabel {
  positive: boolean;
}

/** What a head learns from: `Case.label` ('survival') or `Case.binary` ('binary'). */
export type TargetKind = 'survival' | 'binary';

/** A label of either kind, as `Head.loss` receives it (each head reads the kind its `target` names). */
export type TargetLabel = SurvivalLabel | BinaryLabel;
