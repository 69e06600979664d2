/**
 * ChallengeAdapter: one task of one code-execution challenge (e.g. 'chimera-task3').
 *
 * The container's entrypoint picks the adapter whose sorted socket slugs equal those in `/input/inputs.json`,
 * reads one Case from `/input`, runs the model, and lets the adapter write `/output`.
 *
 * Invariants
 * - `sockets` lists every input and output socket of the task (slug, relative path, kind).
 * - `readCase` never returns label keys in `clinical` (they are dropped if a test-time file contains them), and a
 *   missing optional modality yields a Case without it (plus a warning), not an error.
 * - `writeOutput` writes atomically (temp file, then rename) under `outputDir`, in the orientation the task's
 *   scorer expects (CHIMERA tasks 1 and 3 negate the output: write a time-like value).
 *
 * @example
 * const c = await adapter.readCase('/input');
 * await adapter.writeOutput('/output', { risk: 1.2, time: 48.1 });
 */
import type { Case } from './case.js';
import type { SurvivalPrediction } from './survival-prediction.js';

export interface Socket {
  slug: string;
  relativePath: string;
  kind: 'image' | 'json' | 'file';
  direction: 'input' | 'output';
  optional?: boolean;
}

export interface ChallengeAdapter {
  readonly sockets: readonly Socket[];
  readCase(inputDir: string): Promise<Case>;
  writeOutput(outputDir: string, prediction: SurvivalPrediction): Promise<void>;
}
