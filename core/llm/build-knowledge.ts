/**
 * `mmsurv knowledge build`: run every knowledge source of a config over every case of its cohort once, before
 * training, and fill the knowledge cache (texts of LLM sources; LLM embeddings of the texts that the config's text
 * encoders read). Training, `predict` and a packaged container then read the cache; a second build makes no LLM
 * call, and a changed prompt, model file or case recomputes only what changed.
 *
 * @example
 * const r = await buildKnowledge({ registries, container }, { configFile: 'exp.json' });
 * // r.llmCalls: { generate: 120, embed: 8 } the first time, { generate: 0, embed: 0 } the second
 */
import { dirname, join, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { Logger } from '../contracts/logger.js';
import { resolveDataRoot } from '../config/data-root.js';
import { resolveAndValidate } from '../config/validate.js';
import { buildContext, createRunContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import { readCohort, type DataSection } from '../data/read-cohort.js';
import { SurvivalModel, type ModelConfig } from '../model/survival-model.js';
import type { Registries } from '../registry/registry.js';
import { attachKnowledge, buildKnowledgeSources, type KnowledgeStats } from '../train/prepare-cases.js';
import { KNOWLEDGE_CACHE_DIR } from './knowledge-cache.js';
import { withLlmServices, type LlmCallCounts } from './language-models.js';

export interface KnowledgeBuildOptions {
  configFile: string;
  /** Cohort folder; default: the config's data.root. */
  dataRoot?: string;
  /** Cache folder; default: <cohort folder>/knowledge-cache (where training looks). */
  cacheDir?: string;
}

export interface KnowledgeBuildResult {
  cases: number;
  cacheDir: string;
  sources: KnowledgeStats['sources'];
  /** Text encoders whose LLM embeddings were prepared. */
  embedders: string[];
  llmCalls: LlmCallCounts;
  seconds: number;
}

export async function buildKnowledge(ctx: { registries: Registries; container: DependencyContainer }, o: KnowledgeBuildOptions): Promise<KnowledgeBuildResult> {
  const started = Date.now();
  const { config } = await resolveAndValidate(o.configFile, ctx.registries, { require: ['data'] });
  const root = o.dataRoot ? resolve(o.dataRoot) : resolveDataRoot(config, o.configFile);
  const cacheDir = resolve(o.cacheDir ?? join(root, KNOWLEDGE_CACHE_DIR));
  const seed = ((config['train'] ?? {}) as { seed?: number }).seed ?? 0;
  const llm = withLlmServices(ctx.container, config, dirname(resolve(o.configFile)), cacheDir);
  try {
    const container = createRunContainer(llm.container, { seed });
    const logger = container.resolve<Logger>(TOKENS.Logger);
    const cohort = await readCohort(ctx.registries, { ...(config['data'] as DataSection), root }, buildContext(container, 'data'));
    for (const w of cohort.warnings) logger.warn(w);
    const sources = buildKnowledgeSources(ctx.registries, config, container);
    const stats: KnowledgeStats = { sources: [] };
    const cases = await attachKnowledge(cohort.cases, sources, container, { cacheDir, stats });

    const embedders: string[] = [];
    const encoders = (config['encoders'] ?? {}) as Record<string, { embedder?: { type?: string } }>;
    const llmEncoders = Object.keys(encoders).filter((k) => encoders[k]?.embedder?.type === 'llm');
    if (llmEncoders.length > 0 && config['fusion'] && config['head']) {
      const model = SurvivalModel.create(ctx.registries, config as unknown as ModelConfig, container);
      try {
        await model.prepare(cases); // each LLM text encoder shows its own progress over the texts it must embed
        embedders.push(...llmEncoders.map((k) => `encoders.${k}`));
      } finally {
        model.dispose();
      }
    }
    return { cases: cases.length, cacheDir, sources: stats.sources, embedders, llmCalls: { ...llm.models.calls }, seconds: (Date.now() - started) / 1000 };
  } finally {
    await llm.models.dispose();
  }
}

/** The build as a short table for the terminal. */
export function formatKnowledgeBuild(r: KnowledgeBuildResult): string {
  const rows = r.sources.map((s) => `  ${s.name.padEnd(16)} ${s.id.padEnd(28)} ${(s.llm ? 'LLM' : '-').padEnd(4)} ${String(s.computed).padStart(8)} ${String(s.cached).padStart(8)}`);
  return [
    `knowledge for ${r.cases} cases -> ${r.cacheDir}`,
    `  ${'source'.padEnd(16)} ${'type'.padEnd(28)} ${'LLM'.padEnd(4)} ${'computed'.padStart(8)} ${'cached'.padStart(8)}`,
    ...(rows.length ? rows : ['  (the config has no knowledge sources)']),
    ...(r.embedders.length ? [`  LLM embeddings prepared for ${r.embedders.join(', ')}`] : []),
    `LLM calls: ${r.llmCalls.generate} generate, ${r.llmCalls.embed} embed; ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}
