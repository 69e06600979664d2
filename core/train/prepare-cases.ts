/**
 * Cases ready for training: patch bags loaded into memory and knowledge texts attached from the configured
 * KnowledgeSources (config `knowledge`: name -> { "type": id, ... }, applied in name order).
 *
 * Memory: every bag of the cohort is held in memory for the whole run (CHIMERA Task 3 at 4096 x 1024 float32
 * patches per slide is ~2.9 GB for 176 cases); fine for the cohorts mmsurv targets, noted for larger ones. With
 * `shared`, the features live in SharedArrayBuffers, which fold worker threads receive without a copy: one copy of
 * the cohort in memory however many workers train, and no worker reads a file again (see fold-pool.ts).
 */
import type { DependencyContainer } from 'tsyringe';
import type { Case, PatchBag } from '../contracts/case.js';
import type { KnowledgeSource, KnowledgeText } from '../contracts/knowledge-source.js';
import type { ProgressReporter } from '../contracts/progress.js';
import { buildContext } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import { loadPatchBag } from '../data/patch-bag.js';
import type { Registries } from '../registry/registry.js';
import { hashKey, stableJson, TextShard } from '../llm/knowledge-cache.js';

export interface LoadCaseBagsOptions {
  /** Hold features and coordinates in SharedArrayBuffers (to hand them to worker threads without a copy). */
  shared?: boolean;
}

export async function loadCaseBags(cases: readonly Case[], progress: ProgressReporter, opts: LoadCaseBagsOptions = {}): Promise<Case[]> {
  const withBags = cases.filter((c) => c.wsi?.some((b) => !b.features));
  if (withBags.length === 0) return cases.slice();
  const task = progress.start('loading patch features', withBags.length);
  const out: Case[] = [];
  for (const c of cases) {
    if (c.wsi?.some((b) => !b.features)) {
      try {
        const bags = await Promise.all(c.wsi.map((b) => loadPatchBag(b)));
        out.push({ ...c, wsi: opts.shared ? bags.map(sharedBag) : bags });
      } catch (err) {
        throw new Error(`case ${c.id}: ${(err as Error).message}`);
      }
      task.tick();
    } else {
      out.push(c);
    }
  }
  task.done();
  return out;
}

function sharedCopy(a: Float32Array): Float32Array {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/** The bag with its arrays copied into SharedArrayBuffers. */
function sharedBag(b: PatchBag): PatchBag {
  return { ...b, ...(b.features ? { features: sharedCopy(b.features) } : {}), ...(b.coords ? { coords: sharedCopy(b.coords) } : {}) };
}

/** The loaded bags of each case, by case id (what a fold worker receives). */
export function bagsByCase(cases: readonly Case[]): Record<string, PatchBag[]> {
  const out: Record<string, PatchBag[]> = {};
  for (const c of cases) if (c.wsi?.length && c.wsi.every((b) => b.features)) out[c.id] = c.wsi;
  return out;
}

/**
 * The cases with the bags another thread loaded (bagsByCase) in place of their unloaded ones. Each bag must be the
 * slide the case lists, with its [n, dim]; a case without preloaded bags is left as it is (loadCaseBags reads it).
 */
export function withPreloadedBags(cases: readonly Case[], bags: Record<string, PatchBag[]>): Case[] {
  return cases.map((c) => {
    const pre = bags[c.id];
    if (!pre || !c.wsi) return c;
    const same = pre.length === c.wsi.length && c.wsi.every((b, i) => pre[i]!.slideId === b.slideId && pre[i]!.n === b.n && pre[i]!.dim === b.dim);
    if (!same) {
      throw new Error(`case ${c.id}: the bags loaded by the parent thread (${pre.map((b) => `${b.slideId} [${b.n}, ${b.dim}]`).join(', ')}) ` +
        `are not the slides the cohort lists now (${c.wsi.map((b) => `${b.slideId} [${b.n}, ${b.dim}]`).join(', ')}); did the data change during the run?`);
    }
    return { ...c, wsi: pre };
  });
}

/** The config's knowledge sources in name order; `forPrediction` leaves out training-only ones (teachers). */
export function buildKnowledgeSources(registries: Registries, config: Record<string, unknown>, container: DependencyContainer, opts: { forPrediction?: boolean } = {}): KnowledgeSource[] {
  const section = (config['knowledge'] ?? {}) as Record<string, Record<string, unknown>>;
  return Object.keys(section)
    .sort()
    .map((name) => {
      const source = registries.knowledge.build(section[name]!, buildContext(container, `knowledge.${name}`));
      sourceNames.set(source, name);
      return source;
    })
    .filter((s) => !(opts.forPrediction && s.trainingOnly));
}

/** What attaching knowledge did, per source: texts computed now (LLM sources: cache misses) and read from the cache. */
export interface KnowledgeStats {
  sources: { name: string; id: string; llm: boolean; computed: number; cached: number; cacheFile?: string }[];
}

export interface AttachKnowledgeOptions {
  /** Knowledge cache folder; default: TOKENS.KnowledgeCacheDir when registered, else no cache (LLM sources run). */
  cacheDir?: string | null;
  /** Filled with what was computed and what was read from the cache. */
  stats?: KnowledgeStats;
}

/**
 * Attach every source's texts to every case (in source-name order). LLM sources go through the knowledge cache:
 * a hit is read, a miss is computed and added (flushed every 10 new entries, so an interrupted build keeps its work).
 */
export async function attachKnowledge(
  cases: readonly Case[],
  sources: readonly KnowledgeSource[],
  container: DependencyContainer,
  opts: AttachKnowledgeOptions = {},
): Promise<Case[]> {
  if (sources.length === 0) return cases.slice();
  const cacheDir = opts.cacheDir !== undefined
    ? opts.cacheDir
    : container.isRegistered(TOKENS.KnowledgeCacheDir, true) ? container.resolve<string>(TOKENS.KnowledgeCacheDir) : null;
  const progress = container.resolve<ProgressReporter>(TOKENS.Progress);
  // Sources never see the label (knowledge must exist at test time).
  const unlabelled = cases.map((c) => {
    const { label: _label, binary: _binary, knowledge: _knowledge, ...rest } = c;
    return rest as Case;
  });
  const perCase: KnowledgeText[][] = cases.map(() => []);
  for (const s of sources) {
    const name = sourceNames.get(s) ?? s.id;
    const entry: KnowledgeStats['sources'][number] = { name, id: s.id, llm: s.needsLanguageModel, computed: 0, cached: 0 };
    opts.stats?.sources.push(entry);
    const shard = s.needsLanguageModel && cacheDir ? await openShard(s, name, cacheDir) : null;
    if (shard) entry.cacheFile = shard.file;
    const task = progress.start(`knowledge: ${name}${s.needsLanguageModel ? ' (LLM)' : ''}`, cases.length);
    try {
      for (let i = 0; i < cases.length; i++) {
        const c = unlabelled[i]!;
        const key = shard ? hashKey(stableJson(s.caseContent ? s.caseContent(c) : defaultCaseContent(c))) : '';
        let texts = shard?.get(key);
        if (texts) {
          entry.cached++;
        } else {
          try {
            texts = await s.textsFor(c);
          } catch (err) {
            throw new Error(`knowledge.${name} (${s.id}), case ${c.id}: ${(err as Error).message}`);
          }
          entry.computed++;
          if (shard) {
            shard.set(key, c.id, texts);
            await shard.flushEvery(10);
          }
        }
        perCase[i]!.push(...texts);
        task.tick();
      }
    } finally {
      await shard?.flush();
      task.done();
    }
  }
  return cases.map((c, i) => ({ ...c, knowledge: perCase[i]! }));
}

/** What an LLM source reads by default: the case's texts, clinical record and meta (never labels or patches). */
export function defaultCaseContent(c: Case): unknown {
  return { texts: c.texts ?? null, clinical: c.clinical ?? null, meta: c.meta ?? null };
}

async function openShard(s: KnowledgeSource, name: string, cacheDir: string): Promise<TextShard> {
  if (!s.cacheIdentity) {
    throw new Error(`knowledge.${name} (${s.id}): needs a language model but does not say what its texts depend on (cacheIdentity); the plugin must implement it`);
  }
  const { model, prompt } = await s.cacheIdentity();
  return TextShard.open(cacheDir, s.id, model, prompt);
}

/** Config names of built sources, for messages. */
const sourceNames = new WeakMap<KnowledgeSource, string>();
