/**
 * LLM embeddings of texts through the knowledge cache: `ensure(texts)` embeds the texts not seen before (in batches,
 * with the model loaded only when something is missing, and a progress task over the missing texts) and stores them;
 * `get(text)` is then synchronous, so a text encoder's `encode` never waits. A cached re-run loads no model at all.
 *
 * @example
 * const e = new CachedLlmEmbeddings(models, 'student', cacheDir, 'encoders.report.embedder');
 * await e.ensure(['High-grade papillary urothelial carcinoma.']);
 * const v = e.get('High-grade papillary urothelial carcinoma.');   // Float32Array(e.dim)
 */
import { EmbeddingStore } from './knowledge-cache.js';
import type { ProgressReporter } from '../contracts/progress.js';
import type { LanguageModels } from './language-models.js';

const BATCH = 16;

export class CachedLlmEmbeddings {
  private modelId = '';
  private width = 0;
  private store: EmbeddingStore | null = null;
  private readonly memory = new Map<string, Float32Array>();

  constructor(
    private readonly models: LanguageModels,
    private readonly name: string,
    private readonly cacheDir: string | null,
    private readonly where: string,
    private readonly progress?: ProgressReporter,
  ) {}

  /** 'llm:<model id>', known after the first `ensure`. */
  get id(): string {
    return this.modelId ? `llm:${this.modelId}` : '';
  }

  get dim(): number {
    return this.width;
  }

  async ensure(texts: readonly string[]): Promise<void> {
    if (!this.modelId) {
      this.modelId = await this.models.identify(this.name, this.where);
      if (this.cacheDir) this.store = await EmbeddingStore.open(this.cacheDir, this.modelId);
    }
    const missing: string[] = [];
    for (const t of new Set(texts)) {
      if (this.memory.has(t)) continue;
      const v = this.store?.get(t);
      if (v) this.keep(t, v);
      else missing.push(t);
    }
    if (missing.length === 0) return;
    const lm = await this.models.get(this.name, this.where);
    const task = this.progress?.start(`${this.where}: LLM embeddings`, missing.length);
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const vectors = await lm.embed(batch);
      if (vectors.length !== batch.length) throw new Error(`${this.where}: the model '${lm.id}' returned ${vectors.length} embeddings for ${batch.length} texts`);
      batch.forEach((t, j) => {
        this.keep(t, vectors[j]!);
        this.store?.set(t, vectors[j]!);
      });
      task?.tick(batch.length);
    }
    task?.done();
    await this.store?.flush();
  }

  private keep(text: string, v: Float32Array): void {
    if (this.width === 0) this.width = v.length;
    if (v.length !== this.width) throw new Error(`${this.where}: an embedding of width ${v.length} differs from the earlier width ${this.width} (model '${this.modelId}')`);
    this.memory.set(text, v);
  }

  get(text: string): Float32Array {
    const v = this.memory.get(text);
    if (!v) throw new Error(`${this.where}: no LLM embedding for the text ${JSON.stringify(text.slice(0, 60))}; the model's prepare(cases) must run before encode`);
    return v;
  }
}
