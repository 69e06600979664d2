/**
 * Backend: the TensorFlow.js engine a run uses. Injected as TOKENS.Backend.
 *
 * Chosen once per process by core/backend (tfjs-node-gpu > tfjs-node > wasm > cpu unless `--backend` says), and
 * printed, with the reason each better candidate was skipped.
 *
 * Invariants
 * - `tf` is the one tfjs namespace of the process; `name` is `tf.getBackend()` after selection.
 * - `explicitTransposeGrad` is true where matmul with a transposed operand is slow (wasm with its own kernel):
 *   shared layers then use explicit transposes in their gradients (core/model/dense).
 * - `matmul` says which matmul runs: on wasm, the native sgemm of the system's OpenBLAS when koffi and the library
 *   load (core/backend/native-matmul), else the wasm kernel, with the reason.
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
  /** One line, e.g. 'native sgemm: libopenblas.so.0, 1 thread' or 'wasm matmul (native sgemm off: ...)'. */
  readonly matmul: string;
}
