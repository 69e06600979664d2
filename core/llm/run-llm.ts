/**
 * Where a run's LLM parts live: `llm.json` in the run directory records, for the machine that trained it, the
 * absolute path of each GGUF model of the config's `llm` section and the knowledge cache folder. `predict` reads
 * it to find them again; a packaged container overrides both with the copies bundled in its model directory.
 *
 * @example
 * { "models": { "student": "/data/models/qwen2.5-1.5b-q4.gguf" }, "cacheDir": "/data/task3/knowledge-cache" }
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { llmSectionWithDefaults, type LanguageModelOptions } from './llm-config.js';

export const RUN_LLM_FILE = 'llm.json';

export interface RunLlm {
  /** Model name -> absolute GGUF path (llama-cpp models only). */
  models: Record<string, string>;
  /** The knowledge cache the run's knowledge came from (absolute), or null. */
  cacheDir: string | null;
}

/** The record for a run trained with these resolved LLM options (GGUF paths absolute). */
export function runLlmRecord(section: Record<string, LanguageModelOptions>, cacheDir: string | null): RunLlm {
  const models: Record<string, string> = {};
  for (const [name, o] of Object.entries(section)) if (o.type === 'llama-cpp') models[name] = o.model;
  return { models, cacheDir };
}

export async function readRunLlm(runDir: string): Promise<RunLlm | null> {
  const file = join(runDir, RUN_LLM_FILE);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as RunLlm;
    if (typeof r.models !== 'object' || r.models === null) throw new Error('expected { models, cacheDir }');
    return r;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** The config's `llm` section with each GGUF path replaced by `paths[name]` when given. */
export function llmSectionWithPaths(config: Record<string, unknown>, paths: Record<string, string>): Record<string, LanguageModelOptions> {
  const section = llmSectionWithDefaults(config['llm']);
  for (const [name, o] of Object.entries(section)) {
    if (o.type === 'llama-cpp' && paths[name]) section[name] = { ...o, model: paths[name]! };
  }
  return section;
}
