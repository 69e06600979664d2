/**
 * The LanguageModels service: the config's `llm` section (name -> runtime options) made into LanguageModel
 * instances on first use, each loaded once per run and counted, so `mmsurv knowledge build` can say how many LLM
 * calls it made (a cached re-run makes none). Registered in a run's container under TOKENS.LanguageModels.
 *
 * Runtimes are imported lazily: a run that never calls an LLM never loads node-llama-cpp.
 *
 * @example
 * const models = container.resolve<LanguageModels>(TOKENS.LanguageModels);
 * const lm = await models.get('teacher', 'knowledge.teacher.llm');
 * console.log(models.calls);   // { generate: 12, embed: 0 }
 */
import { isAbsolute, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { GenerateOptions, LanguageModel } from '../contracts/language-model.js';
import { TOKENS } from '../di/tokens.js';
import { llmSectionWithDefaults, type LanguageModelOptions } from './llm-config.js';

export interface LlmCallCounts {
  generate: number;
  embed: number;
}

/** Counts calls that reach the runtime (cache hits never get here). */
class CountedModel implements LanguageModel {
  constructor(private readonly inner: LanguageModel, private readonly counts: LlmCallCounts) {}
  get id(): string { return this.inner.id; }
  get embeddingDim(): number { return this.inner.embeddingDim; }
  identify(): Promise<string> { return this.inner.identify(); }
  load(): Promise<void> { return this.inner.load(); }
  generate(prompt: string, opts?: GenerateOptions): Promise<string> {
    this.counts.generate++;
    return this.inner.generate(prompt, opts);
  }
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length > 0) this.counts.embed++;
    return this.inner.embed(texts);
  }
  dispose(): Promise<void> { return this.inner.dispose(); }
}

export async function createLanguageModel(options: LanguageModelOptions): Promise<LanguageModel> {
  switch (options.type) {
    case 'llama-cpp': {
      const { LlamaCppModel } = await import('./llama-cpp-model.js');
      return new LlamaCppModel(options);
    }
    case 'openai': {
      const { OpenAiModel } = await import('./openai-model.js');
      return new OpenAiModel(options);
    }
    default:
      throw new Error(`llm: expected type 'llama-cpp' or 'openai', found ${JSON.stringify((options as { type?: unknown }).type)}`);
  }
}

export class LanguageModels {
  readonly calls: LlmCallCounts = { generate: 0, embed: 0 };
  private readonly loaded = new Map<string, Promise<LanguageModel>>();
  private readonly ids = new Map<string, string>();
  private readonly options: Record<string, LanguageModelOptions>;

  /**
   * @param section the config's `llm` section with defaults applied
   * @param baseDir folder that relative GGUF paths resolve against (the config file's folder)
   * @param create the runtime factory (tests and containers may substitute paths, never the runtime)
   */
  constructor(section: Record<string, LanguageModelOptions>, baseDir: string, private readonly create = createLanguageModel) {
    this.options = Object.fromEntries(Object.entries(section).map(([name, o]) => [
      name,
      o.type === 'llama-cpp' && !isAbsolute(o.model) ? { ...o, model: resolve(baseDir, o.model) } : o,
    ]));
  }

  /** Every model's options (GGUF paths absolute). */
  allOptions(): Record<string, LanguageModelOptions> {
    return { ...this.options };
  }

  names(): string[] {
    return Object.keys(this.options).sort();
  }

  /** The options of a model, with its GGUF path absolute. */
  optionsOf(name: string, where = 'llm'): LanguageModelOptions {
    const o = this.options[name];
    if (!o) {
      const known = this.names();
      throw new Error(`${where}: names the language model '${name}', but the config's \`llm\` section ${known.length ? `has only ${known.map((k) => `'${k}'`).join(', ')}` : 'is empty'}; add e.g. "llm": { "${name}": { "type": "llama-cpp", "model": "models/model.gguf" } }`);
    }
    return o;
  }

  /** The id of model `name` without loading its weights (see LanguageModel.identify). */
  async identify(name: string, where = 'llm'): Promise<string> {
    let id = this.ids.get(name);
    if (!id) {
      const lm = await this.create(this.optionsOf(name, where));
      try {
        id = await lm.identify();
      } catch (err) {
        throw new Error(`llm.${name}: ${(err as Error).message}`);
      } finally {
        await lm.dispose();
      }
      this.ids.set(name, id);
    }
    return id;
  }

  /** The loaded model called `name` (loaded once; later calls share it). */
  get(name: string, where = 'llm'): Promise<LanguageModel> {
    let p = this.loaded.get(name);
    if (!p) {
      const options = this.optionsOf(name, where);
      p = (async () => {
        const lm = await this.create(options);
        try {
          await lm.load();
        } catch (err) {
          throw new Error(`llm.${name}: ${(err as Error).message}`);
        }
        return new CountedModel(lm, this.calls);
      })();
      p.catch(() => this.loaded.delete(name));
      this.loaded.set(name, p);
    }
    return p;
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    for (const p of all) {
      try {
        await (await p).dispose();
      } catch {
        // a model that failed to load has nothing to free
      }
    }
  }
}

/**
 * A child of `parent` that holds the run's LanguageModels (from the config's `llm` section; GGUF paths relative to
 * `baseDir`) and, when given, the knowledge cache folder. Components built in it (or in its children) reach both.
 */
export function withLlmServices(
  parent: DependencyContainer,
  config: Record<string, unknown>,
  baseDir: string,
  cacheDir: string | null,
  section: Record<string, LanguageModelOptions> = llmSectionWithDefaults(config['llm']),
): { container: DependencyContainer; models: LanguageModels } {
  const child = parent.createChildContainer();
  const models = new LanguageModels(section, baseDir);
  child.register(TOKENS.LanguageModels, { useValue: models });
  if (cacheDir) child.register(TOKENS.KnowledgeCacheDir, { useValue: cacheDir });
  return { container: child, models };
}

/** The run's LanguageModels, or an error that says how to configure one. */
export function languageModelsOf(container: DependencyContainer, where: string): LanguageModels {
  if (!container.isRegistered(TOKENS.LanguageModels, true)) {
    throw new Error(`${where}: needs a language model, but this run has no LLM services (the config's \`llm\` section was not read here)`);
  }
  return container.resolve<LanguageModels>(TOKENS.LanguageModels);
}
