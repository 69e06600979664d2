/**
 * A trained run that uses a local LLM, built as a user builds one: a synthetic CHIMERA Task 3 cohort (features, no
 * slides), a tiny GGUF model (tests/support/tiny-gguf.ts) as `llm.tiny`, background knowledge per cancer type from
 * that model (kemm.background) embedded by the same model (text-embedding, embedder 'llm'), `mmsurv knowledge build`,
 * plus a per-case answer of the same model from the covariates (llm-distill.verbalised, so a new case needs the
 * model), a 2-fold run, and synthetic Task 3 /input cases from the same seed (disjoint case indices). Used by the packaging
 * and container tests of LLM runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { synthesizeCohort } from '../../core/data/synth/index.js';
import { mmsurvOk } from './cli.js';
import { writeTinyGguf } from './tiny-gguf.js';

export interface LlmRunFixture {
  root: string;
  runDir: string;
  inputDir: string;
  /** The GGUF file the run was trained with (the "training machine's" copy). */
  gguf: string;
}

export async function buildLlmRunFixture(root: string, o: { trainCases?: number; inputCases?: number } = {}): Promise<LlmRunFixture> {
  const trainCases = o.trainCases ?? 24;
  const small = { seed: 8, genes: 20, featureDim: 8, minPatches: 10, maxPatches: 20 };
  await mkdir(root, { recursive: true });
  await synthesizeCohort({ out: join(root, 'train'), cases: trainCases, layout: 'chimera-task3', ...small });
  await synthesizeCohort({ out: join(root, 'input'), cases: o.inputCases ?? 3, layout: 'chimera-task3-input', firstCase: trainCases, ...small, slidePatchPx: 16 });
  const gguf = join(root, 'models', 'tiny.gguf');
  await writeTinyGguf(gguf, { seed: 31 });
  const config = join(root, 'exp.json');
  await writeFile(config, JSON.stringify({
    name: 'llm-run',
    data: { format: 'chimera-task3', root: 'train' },
    llm: { tiny: { type: 'llama-cpp', model: 'models/tiny.gguf', contextSize: 2048, threads: 1, gpu: false } },
    knowledge: {
      background: { type: 'kemm.background', llm: 'tiny', maxTokens: 160 },
      // a per-case LLM answer from the covariates: a new case needs the model (Task 3 inputs carry no report)
      answer: { type: 'llm-distill.verbalised', llm: 'tiny', maxTokens: 160 },
    },
    encoders: {
      clinical: { type: 'tabular' },
      knowledge: { type: 'text-embedding', outDim: 4, roles: ['pbk', 'verbalised'], embedder: { type: 'llm', llm: 'tiny' } },
    },
    fusion: { type: 'concat' },
    head: { type: 'cox' },
    train: { folds: 2, epochs: 2, batchSize: 4, lr: 0.01, seed: 1 },
  }, null, 2));
  await mmsurvOk(['knowledge', 'build', '--config', config, '--quiet']);
  const runDir = join(root, 'run');
  await mmsurvOk(['train', '--config', config, '--out', runDir, '--quiet']);
  return { root, runDir, inputDir: join(root, 'input'), gguf };
}
