/**
 * One container job: read the case a challenge adapter finds in the input folder, encode its slides with the
 * extractor the model was trained with, predict with every fold's model, map the mean risk to a time with the run's
 * Kaplan-Meier calibration (binary runs: the mean probability), and let the adapter write the output. This is what a graded image's entrypoint runs.
 *
 * Scratch files (extractor temporaries) go to a fresh folder under the OS temp dir (/tmp in the image) and are
 * removed afterwards; nothing is written outside `outputDir` but them.
 *
 * @example
 * const r = await inferCase({ registries, container, inputDir: '/input', outputDir: '/output', modelDir: '/opt/app/model' });
 * // { challenge: 'chimera-task3', risk: 0.41, time: 38.2, files: ['/output/likelihood-of-bladder-cancer-recurrence.json'], warnings: [] }
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { PatchBag } from '../contracts/case.js';
import type { ChallengeAdapter } from '../contracts/challenge-adapter.js';
import type { Logger } from '../contracts/logger.js';
import { buildContext, createRunContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import type { Registries } from '../registry/registry.js';
import { createSlideExtractor } from '../slide/create-extractor.js';
import { loadRun, predictWithRun } from '../train/load-run.js';
import { EXTRACTOR_DIR, EXTRACTOR_SPEC_FILE, LLM_DIR, findModelDir, readModelMetadata } from './model-dir.js';
import { KNOWLEDGE_CACHE_DIR } from '../llm/knowledge-cache.js';
import { attachKnowledge, buildKnowledgeSources } from '../train/prepare-cases.js';

export interface InferOptions {
  registries: Registries;
  container: DependencyContainer;
  inputDir: string;
  outputDir: string;
  /** Model directory; default: /opt/ml/model when mounted, else /opt/app/model. */
  modelDir?: string;
  /** Challenge adapter id; default: the one the model was packaged for. */
  challenge?: string;
}

export interface InferResult {
  challenge: string;
  risk: number;
  time?: number;
  probability?: number;
  files: string[];
  warnings: string[];
  seconds: { read: number; extract: number; predict: number };
}

export async function inferCase(o: InferOptions): Promise<InferResult> {
  const logger = o.container.resolve<Logger>(TOKENS.Logger);
  const modelDir = findModelDir(o.modelDir);
  const meta = await readModelMetadata(modelDir);
  const challenge = o.challenge ?? meta.challenge;
  const runContainer = createRunContainer(o.container, { seed: 0 });
  const adapter = o.registries.challenge.build({ type: challenge }, buildContext(runContainer, `challenge.${challenge}`)) as ChallengeAdapter;

  const t0 = Date.now();
  const input = await adapter.readCase(o.inputDir);
  for (const w of input.warnings) logger.warn(w);
  const t1 = Date.now();

  const run = await loadRun(o.registries, o.container, modelDir, undefined, bundledLlm(modelDir));
  try {
    const encoders = Object.keys((run.config['encoders'] ?? {}) as Record<string, unknown>);
    const c = { ...input.case };
    if (encoders.includes('wsi')) {
      if (input.slides.length === 0) logger.warn(`${challenge}: no slide supplied; predicting without the wsi branch`);
      else c.wsi = await extractSlides(modelDir, input.slides, logger);
    } else if (input.slides.length > 0) {
      logger.debug(`the model has no wsi encoder; ${input.slides.length} slide(s) not read`);
    }
    const sources = buildKnowledgeSources(o.registries, run.config, run.container, { forPrediction: true });
    const [withKnowledge] = await attachKnowledge([c], sources, run.container);
    await run.prepare([withKnowledge!]);
    const t2 = Date.now();
    const [p] = predictWithRun(run, [withKnowledge!]);
    if (!p) throw new Error('the model returned no prediction');
    const value = p.probability !== undefined ? { probability: p.probability } : { time: p.time! };
    const files = await adapter.writeOutput(o.outputDir, { caseId: c.id, risk: p.risk, ...value });
    const t3 = Date.now();
    return {
      challenge, risk: p.risk, ...value, files, warnings: input.warnings,
      seconds: { read: (t1 - t0) / 1000, extract: (t2 - t1) / 1000, predict: (t3 - t2) / 1000 },
    };
  } finally {
    run.dispose();
  }
}

/** The knowledge cache and GGUF models `mmsurv package` bundled into the model directory (what the image may use). */
export function bundledLlm(modelDir: string): { cacheDir: string | null; modelPaths: Record<string, string> } {
  const cacheDir = join(modelDir, KNOWLEDGE_CACHE_DIR);
  const llmDir = join(modelDir, LLM_DIR);
  const modelPaths = existsSync(llmDir)
    ? Object.fromEntries(readdirSync(llmDir).filter((f) => f.endsWith('.gguf')).map((f) => [f.slice(0, -'.gguf'.length), join(llmDir, f)]))
    : {};
  return { cacheDir: existsSync(cacheDir) ? cacheDir : null, modelPaths };
}

async function extractSlides(modelDir: string, slides: { slideId: string; slidePath: string; maskPath?: string }[], logger: Logger): Promise<PatchBag[]> {
  const specDir = join(modelDir, EXTRACTOR_DIR);
  const specFile = join(specDir, EXTRACTOR_SPEC_FILE);
  let spec: unknown;
  try {
    spec = JSON.parse(await readFile(specFile, 'utf8'));
  } catch (err) {
    throw new Error(`${specFile}: cannot read the slide extractor spec (${(err as Error).message}); the model reads slides, so \`mmsurv package\` must include the extractor it was trained with`);
  }
  const extractor = await createSlideExtractor(spec, { baseDir: specDir, logger });
  const scratch = await mkdtemp(join(tmpdir(), 'mmsurv-'));
  try {
    const bags: PatchBag[] = [];
    for (const s of slides) {
      const f = await extractor.extract(s, scratch);
      for (const w of f.warnings) logger.warn(`${s.slidePath}: ${w}`);
      bags.push({ slideId: f.slideId, n: f.n, dim: f.dim, features: f.features, coords: f.coords });
    }
    return bags;
  } finally {
    extractor.dispose();
    await rm(scratch, { recursive: true, force: true });
  }
}
