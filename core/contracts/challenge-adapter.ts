/**
 * ChallengeAdapter: one task of one code-execution challenge (e.g. 'chimera-task3').
 *
 * A graded container runs one case per start. Its entrypoint (`mmsurv infer`) picks the adapter whose input
 * sockets match the sockets the platform supplied (`accepts`), lets it read one case from the input folder, runs
 * the packaged model, and lets the adapter write the output file(s).
 *
 * What an adapter reads is raw: slides are image files, not features. `readCase` returns the Case without `wsi` plus
 * the slides (and their tissue masks) to tile and encode; the entrypoint extracts patch features with the extractor
 * the model was trained with (core/contracts/slide-extractor.ts) and fills `wsi` before predicting.
 *
 * Invariants
 * - `sockets` lists every input and output socket of the task (slug, relative path, kind); an adapter is one socket
 *   table plus its case mapping.
 * - `accepts(slugs)` is true exactly when every required input socket is among `slugs` and no slug is unknown to the
 *   task; `mismatch(slugs)` says which are missing and which are unexpected (for the error when none accepts).
 * - `readCase` never returns label keys in `clinical` (they are dropped if a test-time file contains them). A
 *   missing optional modality, an unseen category or a non-finite RNA value yields a Case anyway, with a line in
 *   `warnings` (the entrypoint prints them on stderr); unreadable required input is an error naming the file.
 * - `writeOutput` writes atomically (temp file, then rename) under `outputDir`, in the orientation the task's
 *   scorer expects: CHIMERA tasks 1 and 3 negate the output, so the value is time-like (larger = later event).
 *   It returns the paths written.
 *
 * @example
 * const adapter = registries.challenge.build({ type: 'chimera-task3' }, ctx);
 * const input = await adapter.readCase('/input');          // { case, slides, images, warnings }
 * await adapter.writeOutput('/output', { risk: 1.2, time: 48.1 });   // writes 48.1
 */
import type { Case } from './case.js';
import type { SlideInput } from './slide-extractor.js';
import type { SurvivalPrediction } from './survival-prediction.js';

export interface Socket {
  slug: string;
  /** Path under /input (or /output), as the platform's `interface.relative_path`. */
  relativePath: string;
  /** 'image': a folder holding one .tif/.tiff/.mha file; 'json': a JSON value file; 'file': any other file. */
  kind: 'image' | 'json' | 'file';
  direction: 'input' | 'output';
  optional?: boolean;
}

/** One case as read from the platform's input folder. */
export interface ChallengeInput {
  /** The case without patch features (no `wsi`) and without a label. */
  case: Case;
  /** Slides to tile and encode, in socket order, each with its tissue mask when one was supplied. */
  slides: SlideInput[];
  /** Other image sockets by slug (e.g. MRI series), as file paths; passed to encoders that are configured for them. */
  images: Record<string, string>;
  /** Recoverable problems (missing optional modality, unseen category, NaN values), printed on stderr. */
  warnings: string[];
}

/** What the model gives the adapter to write: a survival prediction, or a probability for classification tasks. */
export interface ChallengePrediction extends SurvivalPrediction {
  /** Class probability in [0, 1] (classification tasks). */
  probability?: number;
}

export interface ChallengeAdapter {
  readonly id: string;
  /** What the model must produce: a time-like survival output or a class probability. */
  readonly output: 'time' | 'probability';
  readonly sockets: readonly Socket[];
  accepts(slugs: readonly string[]): boolean;
  mismatch(slugs: readonly string[]): { missing: string[]; unexpected: string[] };
  readCase(inputDir: string): Promise<ChallengeInput>;
  writeOutput(outputDir: string, prediction: ChallengePrediction): Promise<string[]>;
}
