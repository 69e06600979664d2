/**
 * Packaging a run that uses a local LLM (background knowledge per cancer type + LLM embeddings of the knowledge
 * texts, tiny GGUF written by the test, real llama.cpp runtime): the build context bundles the run's knowledge cache
 * and, with --bundle-llm, the GGUF file; without it, packaging is refused before anything is written. `infer` on
 * the packaged model directory (the image's entrypoint, run on the host) predicts each /input case exactly as the
 * run does, with the training machine's model file gone (the bundled copy is used).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTask3 } from '../../challenges/chimera/task3.js';
import { writeBuildContext } from '../../containers/build-context.js';
import { registerCoreComponents } from '../../core/data/register.js';
import { createRootContainer, createRunContainer } from '../../core/di/container.js';
import { inferCase } from '../../core/infer/infer-case.js';
import { loadRegistries } from '../../core/registry/loader.js';
import { MemoryLogger } from '../../core/services/logger.js';
import { StreamProgress } from '../../core/services/progress.js';
import { loadRun, predictWithRun } from '../../core/train/load-run.js';
import { attachKnowledge, buildKnowledgeSources } from '../../core/train/prepare-cases.js';
import { buildLlmRunFixture, type LlmRunFixture } from '../support/llm-run.js';

const registries = await loadRegistries({ builtins: registerCoreComponents });
const logger = new MemoryLogger();
const root = () => createRootContainer({ logger, progress: new StreamProgress({ quiet: true }), registries });
const INPUTS = 3;
let fx: LlmRunFixture;
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  fx = await buildLlmRunFixture(mkdtempSync(join(tmpdir(), 'mmsurv-llm-pkg-')), { inputCases: INPUTS });
  dir = fx.root;
}, 240_000);

const pkg = (out: string, bundleLlm: boolean) => writeBuildContext({
  registries, logger, runDir: join(dir, 'run'), challenge: 'chimera-task3', adapter: createTask3(), target: 'cpu', tag: 't', out, bundleLlm,
  installModules: async () => {},
});

describe('packaging a run with a local LLM', () => {
  it('refuses without --bundle-llm when the model embeds texts, and writes nothing', async () => {
    await expect(pkg(join(dir, 'ctx-refused'), false)).rejects.toThrow(/encoders\.knowledge embeds texts with the language model 'tiny', which the image needs for new cases; pass --bundle-llm/);
    expect(existsSync(join(dir, 'ctx-refused'))).toBe(false);
    expect(existsSync(join(dir, 'ctx-refused.partial'))).toBe(false);
  });

  it('bundles the knowledge cache and the GGUF; infer on the model directory predicts as the run does', async () => {
    const { dir: ctxDir } = await pkg(join(dir, 'ctx'), true);
    const model = join(ctxDir, 'model');
    expect(readFileSync(join(model, 'llm', 'tiny.gguf')).equals(readFileSync(fx.gguf))).toBe(true);
    expect(readdirSync(join(model, 'knowledge-cache', 'texts')).sort()).toEqual(['kemm.background', 'llm-distill.verbalised']);
    expect(readdirSync(join(model, 'knowledge-cache', 'embeddings'))).toHaveLength(1);

    // what the run itself predicts for the input cases (knowledge from the training cache, the original GGUF)
    const adapter = createTask3();
    const cases = await Promise.all(readdirSync(join(dir, 'input'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
      .map(async (d) => ({ id: d, c: (await adapter.readCase(join(dir, 'input', d))).case })));
    expect(cases).toHaveLength(INPUTS);
    const run = await loadRun(registries, root(), join(dir, 'run'));
    let expected: number[];
    try {
      const withKnowledge = await attachKnowledge(cases.map((x) => x.c), buildKnowledgeSources(registries, run.config, createRunContainer(run.container, { seed: 0 }), { forPrediction: true }), run.container);
      expect(withKnowledge.every((c) => (c.knowledge ?? []).length > 0)).toBe(true);
      await run.prepare(withKnowledge);
      expected = predictWithRun(run, withKnowledge).map((p) => p.risk);
    } finally {
      run.dispose();
    }

    // the image's entrypoint on the model directory, with the training machine's GGUF moved away
    renameSync(fx.gguf, `${fx.gguf}.away`);
    try {
      for (const [i, x] of cases.entries()) {
        const r = await inferCase({ registries, container: root(), inputDir: join(dir, 'input', x.id), outputDir: join(dir, 'out', x.id), modelDir: model });
        expect(r.risk, x.id).toBeCloseTo(expected[i]!, 9);
        expect(r.files).toHaveLength(1);
      }
    } finally {
      renameSync(`${fx.gguf}.away`, fx.gguf);
    }
  }, 240_000);
});
