/**
 * Fusion: the tokens of all modalities -> one vector per case.
 *
 * When it runs: after every encoder of the model produced its tokens for a case.
 *
 * Invariants
 * - `tokens` maps modality -> [n_m, d_m]; a modality missing for the case is absent from the map. A fusion must
 *   still return a valid `z` when any subset (but not all) of its modalities is missing.
 * - `z` is [1, outDim]. `attention`, when returned, maps a path name ('clinical->pathology') to per-token scores
 *   aligned with the input tokens of the attended modality (for reports and heatmaps).
 * - `auxLoss` is an extra scalar the trainer adds to the head loss (e.g. SurvPGC's cosine term, already weighted).
 *
 * @example
 * const { z } = fusion.fuse(new Map([['wsi', wsiTokens], ['rna', rnaTokens]]), 'train');
 */
import type * as tf from '@tensorflow/tfjs';
import type { Mode } from './encoder.js';

export interface FusionOutput {
  z: tf.Tensor2D;
  attention?: Record<string, tf.Tensor>;
  auxLoss?: tf.Scalar;
}

export interface Fusion {
  /** Width of the fused vector. */
  readonly outDim: number;
  readonly variables: tf.Variable[];
  /** Called once before training with the output width of each configured encoder. */
  build?(inputDims: ReadonlyMap<string, number>): void;
  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput;
  dispose(): void;
}
