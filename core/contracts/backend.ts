/**
 * Backend: the TensorFlow.js engine a run uses. Injected as TOKENS.Backend.
 *
 * Chosen once per process by core/backend (tfjs-node-gpu > tfjs-node > wasm > cpu unless `--backend` says), and
 * printed, with the reason each better candidate was skipped.
 *
 * Invariants
 * - `tf` is the one tfjs namespace of the process; `name` is `tf.getBackend()` after selection.
 * - `explicitTransposeGrad` is true where matmul with a transposed operand is slow (wasm): shared layers then use
 *   explicit transposes in their gradients (core/model/dense).
 *
 * @example
 * const { tf, name } = container.resolve<Backend>(TOKENS.Backend);
 */
import type * as tfNamespace from '@tensorflow/tfjs';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was not used (not installed, failed to initialise), when !ok. */
  reason?: string;
}

export interface Backend {
  readonly name: BackendName;
  readonly tf: typeof tfNamespace;
  readonly attempts: readonly BackendAttempt[];
  readonly explicitTransposeGrad: boolean;
}
