/**
 * Encoder: one modality of a Case -> a set of tokens.
 *
 * When it runs: once per case per step, inside the trainer's `tf.tidy`, after `fit` was called on the training
 * fold (when the encoder has fitted preprocessing). At inference the fitted state is restored, never refitted.
 *
 * Invariants
 * - `encode` returns a [nTokens, outDim] tensor with nTokens >= 1, or null when the case lacks the modality
 *   (the fusion then skips or masks that branch). It never throws for a missing modality.
 * - In 'train' mode an encoder may sample (e.g. at most `maxPatches` patches, dropout) with the injected random
 *   source; in 'eval' mode it is deterministic.
 * - `fit` sees training cases only (no leakage from validation or test); `state()` returns everything `fit`
 *   learned as JSON so it can travel into the container; `restore(state)` is its inverse.
 * - `variables` are the trainable tf.Variables the encoder owns, all created by the end of `fit` or `restore`, in
 *   a fixed order with fixed shapes for a given state: saved weights are these values in this order.
 *   `dispose()` frees them.
 *
 * @example
 * const enc = registries.encoder.build({ type: 'linear', outDim: 256 }, ctx, 'encoders.wsi');
 * const tokens = enc.encode(someCase, 'eval');   // tf.Tensor2D [nPatches, 256] or null
 */
import type * as tf from '@tensorflow/tfjs';
import type { Case } from './case.js';

export type Mode = 'train' | 'eval';

export interface Encoder {
  /** Which modality of a Case it reads: 'wsi' | 'rna' | 'clinical' | 'knowledge' | ... */
  readonly modality: string;
  /** Width of each output token. */
  readonly outDim: number;
  /** Trainable variables owned by this encoder. */
  readonly variables: tf.Variable[];
  /**
   * Optional: slow, frozen, label-free work for these cases before `fit` or `encode` (e.g. embedding case texts with
   * a LanguageModel, through the knowledge cache), so `encode` stays synchronous. Called by the trainer with the
   * fold's training and validation cases, and by prediction with the cases to predict. Must not read labels.
   */
  prepare?(cases: readonly Case[]): Promise<void>;
  fit?(train: readonly Case[]): void;
  state?(): unknown;
  restore?(state: unknown): void;
  encode(c: Case, mode: Mode): tf.Tensor2D | null;
  /**
   * Optional, for reports: per-token scores of this case in eval mode, aligned with the tokens' source rows (e.g.
   * ABMIL's softmax weights over patches, in slide order). Plain arrays, no tensors left behind; null when the
   * case lacks the modality.
   */
  explain?(c: Case): Record<string, Float32Array> | null;
  dispose(): void;
}
