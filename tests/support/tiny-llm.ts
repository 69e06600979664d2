/**
 * A run container with LLM services over the real tiny GGUF model (tests/support/tiny-gguf.ts) for knowledge-source
 * tests: `llm: { <name>: ... }` as a config would name it, CPU only, one thread; every context logs to one memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildContext } from '../../core/contracts/component.js';
import { buildContext, createRootContainer, createRunContainer } from '../../core/di/container.js';
import { withLlmServices, type LanguageModels } from '../../core/llm/language-models.js';
import { MemoryLogger } from '../../core/services/logger.js';
import { StreamProgress } from '../../core/services/progress.js';
import { writeTinyGguf } from './tiny-gguf.js';

export interface TinyLlm {
  dir: string;
  models: LanguageModels;
  memory: MemoryLogger;
  /** A build context at `path` whose container holds the LanguageModels (its logger is `memory`). */
  context(path: string): BuildContext & { memory: MemoryLogger };
  close(): Promise<void>;
}

export async function tinyLlm(o: { seed?: number; name?: string } = {}): Promise<TinyLlm> {
  const { seed = 3, name = 'tiny' } = o;
  const dir = mkdtempSync(join(tmpdir(), 'mmsurv-tiny-llm-'));
  await writeTinyGguf(join(dir, `${name}.gguf`), { seed });
  const memory = new MemoryLogger();
  const run = createRunContainer(createRootContainer({ logger: memory, progress: new StreamProgress({ quiet: true }) }), { seed: 1 });
  const { container, models } = withLlmServices(run, {
    llm: { [name]: { type: 'llama-cpp', model: `${name}.gguf`, contextSize: 2048, threads: 1, gpu: false } },
  }, dir, null);
  return {
    dir,
    models,
    memory,
    context: (path) => ({ ...buildContext(container, path), memory }),
    close: async () => {
      await models.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
