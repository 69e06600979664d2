/**
 * `mmsurv knowledge build` end to end with the real llama.cpp runtime and a tiny GGUF model the test writes: the
 * first build fills the cache (refined reports per case, background knowledge once per cancer type, LLM embeddings
 * of every text the text encoder reads), a second build makes zero LLM calls (counted where calls reach the
 * runtime), a changed prompt recomputes only that source, and training then reads the cache without adding to it.
 * The CLI prints the same counts.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../core/contracts/backend.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { createRootContainer } from '../../../core/di/container.js';
import { buildKnowledge } from '../../../core/llm/build-knowledge.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { crossValidate } from '../../../core/train/cross-validate.js';
import { mmsurv } from '../../support/cli.js';
import { writeTinyGguf } from '../../support/tiny-gguf.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-kbuild-'));
const CASES = 12;
const registries = await loadRegistries({ builtins: registerCoreComponents });
const backend = { name: 'cpu', explicitTransposeGrad: false } as unknown as Backend;
const ctx = () => ({ registries, backend, container: createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries, backend }) });

function writeConfig(reportPrompt?: string): void {
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    name: 'kemm-tiny',
    data: { format: 'manifest', root: 'cohort' },
    llm: { tiny: { type: 'llama-cpp', model: 'models/tiny.gguf', contextSize: 2048, threads: 1, gpu: false } },
    knowledge: {
      // maxTokens covers the longest answer the schema allows (4 statements of <= 200 characters): how soon a
      // random-weight model closes its strings depends on the CPU's float kernels, so a tighter budget fails on some
      // machines (seen on an AMD EPYC host) with unterminated strings
      report: { type: 'kemm.expert-report', llm: 'tiny', maxTokens: 900, ...(reportPrompt ? { prompt: reportPrompt } : {}) },
      background: { type: 'kemm.background', llm: 'tiny', maxTokens: 160 },
    },
    encoders: {
      knowledge: { type: 'text-embedding', outDim: 8, roles: ['report', 'pbk'], embedder: { type: 'llm', llm: 'tiny' } },
      rna: { type: 'mlp', dims: [8] },
    },
    fusion: { type: 'concat' },
    head: { type: 'cox' },
    train: { folds: 2, epochs: 2, batchSize: 4, lr: 0.01, seed: 1 },
  }));
}

const cacheFiles = (): Record<string, string> => {
  const root = join(dir, 'cohort', 'knowledge-cache');
  const out: Record<string, string> = {};
  for (const f of readdirSync(root, { recursive: true }) as string[]) {
    if (f.endsWith('.json')) out[f] = readFileSync(join(root, f), 'utf8');
  }
  return out;
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  await synthesizeCohort({ out: join(dir, 'cohort'), cases: CASES, seed: 4, layout: 'manifest', featureDim: 8, genes: 20, minPatches: 10, maxPatches: 20 });
  await writeTinyGguf(join(dir, 'models', 'tiny.gguf'), { seed: 7 });
  writeConfig();
}, 60_000);

describe('mmsurv knowledge build', () => {
  it('fills the cache once; a second build makes zero LLM calls; a changed prompt recomputes only its source', async () => {
    const first = await buildKnowledge(ctx(), { configFile: join(dir, 'exp.json') });
    const bySource = (r: typeof first) => Object.fromEntries(r.sources.map((s) => [s.name, [s.computed, s.cached]]));
    // reports: one LLM answer per case; background: one per cancer type (every synthetic case is 'bladder')
    expect(bySource(first)).toEqual({ background: [1, CASES - 1], report: [CASES, 0] });
    // one call per answer, plus generateJson's retries of non-conforming answers (the tiny model's strings may break a length limit)
    expect(first.llmCalls.generate).toBeGreaterThanOrEqual(CASES + 1);
    expect(first.llmCalls.embed).toBeGreaterThan(0);
    expect(first.embedders).toEqual(['encoders.knowledge']);
    const files = cacheFiles();
    expect(Object.keys(files).filter((f) => f.startsWith('texts/')).length).toBe(2);
    expect(Object.keys(files).filter((f) => f.startsWith('embeddings/')).length).toBe(1);
    const reports = JSON.parse(Object.entries(files).find(([f]) => f.startsWith('texts/kemm.expert-report'))![1]) as { entries: Record<string, { texts: { role: string; text: string }[] }> };
    expect(Object.keys(reports.entries)).toHaveLength(CASES);
    for (const e of Object.values(reports.entries)) {
      expect(e.texts.length).toBeGreaterThan(0);
      for (const t of e.texts) expect(t.role).toBe('report');
    }

    const second = await buildKnowledge(ctx(), { configFile: join(dir, 'exp.json') });
    expect(second.llmCalls).toEqual({ generate: 0, embed: 0 });
    expect(bySource(second)).toEqual({ background: [0, CASES], report: [0, CASES] });
    expect(cacheFiles()).toEqual(files);

    writeConfig('Summarise this bladder tumour report in short prognostic statements:\n{report}');
    const third = await buildKnowledge(ctx(), { configFile: join(dir, 'exp.json') });
    expect(bySource(third)).toEqual({ background: [0, CASES], report: [CASES, 0] });
    expect(third.llmCalls.generate).toBeGreaterThanOrEqual(CASES);
    writeConfig();
  }, 180_000);

  it('training reads the cache and adds nothing to it', async () => {
    await buildKnowledge(ctx(), { configFile: join(dir, 'exp.json') });
    const before = cacheFiles();
    const s = await crossValidate(ctx(), { configFile: join(dir, 'exp.json'), runDir: join(dir, 'runs', 'a') });
    expect(s.folds).toHaveLength(2);
    expect(cacheFiles()).toEqual(before);
    const llm = JSON.parse(readFileSync(join(dir, 'runs', 'a', 'llm.json'), 'utf8')) as { models: Record<string, string>; cacheDir: string };
    expect(llm.models['tiny']).toBe(join(dir, 'models', 'tiny.gguf'));
    expect(llm.cacheDir).toBe(join(dir, 'cohort', 'knowledge-cache'));
  }, 180_000);

  it('the CLI prints the counts and an error for a model name the config lacks', async () => {
    const r = await mmsurv(['knowledge', 'build', '--config', join(dir, 'exp.json'), '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/knowledge for 12 cases -> .*knowledge-cache/);
    expect(r.stdout).toMatch(/LLM calls: 0 generate, 0 embed/);
    const cfg = JSON.parse(readFileSync(join(dir, 'exp.json'), 'utf8')) as Record<string, any>;
    cfg.knowledge.report.llm = 'teacher';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(cfg));
    const bad = await mmsurv(['knowledge', 'build', '--config', join(dir, 'bad.json'), '--quiet']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/names the language model 'teacher', but the config's `llm` section has only 'tiny'/);
    expect(existsSync(join(dir, 'cohort', 'knowledge-cache'))).toBe(true);
  }, 120_000);
});
