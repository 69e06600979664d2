/**
 * The model directory a container predicts with: a trained run's files that prediction needs, plus the slide
 * extractor and a metadata file. `mmsurv package` writes it; `mmsurv infer` reads it.
 *
 *   <model>/metadata.json                  challenge id, mmsurv version, plugins, created, extractor id + hash
 *   <model>/config.resolved.json           the run's resolved config
 *   <model>/summary.json                   the run's summary (folds, evaluation times)
 *   <model>/calibration.json               the run-level Kaplan-Meier time calibration
 *   <model>/fold-K/model/                  per fold: state.json, calibration.json, weights.{json,bin}
 *   <model>/extractor/extractor.json       the slide extractor spec (when the model reads slides) + its files
 *   <model>/knowledge-cache/               the run's cached LLM knowledge (per-cancer-type background knowledge,
 *                                          embeddings) when its config has LLM knowledge sources or embedders
 *   <model>/llm/<name>.gguf                GGUF models bundled with --bundle-llm (refine a test case's report in the image)
 *
 * Where the container looks: an explicit --model, else /opt/ml/model when the platform mounted a model tarball
 * that holds a metadata.json, else /opt/app/model (baked into the image).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MODEL_METADATA_FILE = 'metadata.json';
export const EXTRACTOR_DIR = 'extractor';
export const EXTRACTOR_SPEC_FILE = 'extractor.json';
export const LLM_DIR = 'llm';
export const MODEL_DIR_CANDIDATES = ['/opt/ml/model', '/opt/app/model'];

export interface ModelMetadata {
  format: 'mmsurv-model';
  version: 1;
  challenge: string;
  mmsurvVersion: string;
  plugins: string[];
  created: string;
  /** The packaged run; binary runs add their target and mean AUC. */
  run: { name: string; folds: number; seed: number; c_index_mean: number | null; target?: 'binary'; auc_mean?: number | null };
  extractor: { id: string; weightsHash: string; dim: number } | null;
  target: 'cpu' | 'gpu';
}

/** The model directory to use: `explicit`, or the first candidate holding a metadata.json. */
export function findModelDir(explicit?: string, candidates: readonly string[] = MODEL_DIR_CANDIDATES): string {
  if (explicit) return explicit;
  const hit = candidates.find((d) => existsSync(join(d, MODEL_METADATA_FILE)));
  if (!hit) throw new Error(`no model directory: none of ${candidates.join(', ')} holds ${MODEL_METADATA_FILE}; pass --model DIR`);
  return hit;
}

export async function readModelMetadata(dir: string): Promise<ModelMetadata> {
  const file = join(dir, MODEL_METADATA_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read the model metadata (${(err as Error).message}); is ${dir} a model directory written by \`mmsurv package\`?`);
  }
  const m = raw as Partial<ModelMetadata>;
  if (m.format !== 'mmsurv-model' || typeof m.challenge !== 'string') {
    throw new Error(`${file}: expected { "format": "mmsurv-model", "challenge": "<id>", ... }, found ${JSON.stringify(raw).slice(0, 80)}`);
  }
  return m as ModelMetadata;
}
