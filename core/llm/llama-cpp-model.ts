/**
 * LlamaCppModel: a GGUF file run in process by node-llama-cpp (llama.cpp), as a LanguageModel
 * (core/contracts/language-model.ts).
 *
 * - One `getLlama` per process and gpu setting, prebuilt binaries only (`build: 'never'`): nothing is compiled or
 *   downloaded at run time (challenge containers have no network).
 * - `id` = 'gguf:' + the first 16 hex digits of the file's sha256. Hashing a multi-GB file takes a while, so the hash
 *   is cached beside the file in `<file>.sha256.json` ({ size, mtimeMs, sha256 }) when the folder is writable, and
 *   reused while size and mtime match.
 * - One chat context (options.contextSize) is created lazily and reused; each `generate` call gets a fresh sequence
 *   and chat session (so calls never see each other's history) and disposes it. The chat wrapper is resolved once per
 *   model (ChatML when the template is ChatML; node-llama-cpp's template matching otherwise).
 * - `jsonSchema` becomes a llama.cpp grammar (cached per schema); a schema node-llama-cpp cannot turn into a grammar
 *   falls back to unconstrained text (callers validate anyway, see core/llm/generate-json.ts).
 * - `embed` uses its own embedding context (created on first use); an empty text gets a zero vector (llama.cpp has
 *   no token to embed).
 * - `identify()` gives the id without loading weights (file check + hash), so caches can skip the model entirely.
 * - Calls are serialised: they share one context and, on small machines, the same cores.
 *
 * @example
 * const lm = new LlamaCppModel({ type: 'llama-cpp', model: '/models/qwen.gguf', contextSize: 4096, threads: 1, gpu: 'auto' });
 * await lm.load();
 * const text = await lm.generate('Summarise: ...', { jsonSchema: { type: 'object', ... }, maxTokens: 128 });
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  ChatMLChatWrapper, LlamaChatSession, getLlama, resolveChatWrapper,
  type ChatWrapper, type Llama, type LlamaContext, type LlamaEmbeddingContext,
  type LlamaGrammar, type LlamaModel,
} from 'node-llama-cpp';
import type { GenerateOptions, LanguageModel } from '../contracts/language-model.js';
import type { LlamaCppOptions } from './llm-config.js';

const DEFAULT_MAX_TOKENS = 256;

// ---------------------------------------------------------------------------------------------------------------
// One llama.cpp runtime per process and gpu setting

const runtimes = new Map<string, Promise<Llama>>();

function runtime(gpu: 'auto' | false, threads: number): Promise<Llama> {
  const key = String(gpu);
  let p = runtimes.get(key);
  if (!p) {
    p = getLlama({
      gpu: gpu === false ? false : 'auto',
      build: 'never',
      ...(threads > 0 ? { maxThreads: threads } : {}),
    }).catch((err: unknown) => {
      runtimes.delete(key);
      throw new Error(
        `llama.cpp could not start: no usable prebuilt node-llama-cpp binary for this platform (gpu: ${String(gpu)}), ` +
        'and mmsurv never builds llama.cpp at run time. Reinstall with `npm ci` on a supported platform ' +
        '(linux-x64, -cuda or -vulkan prebuilt packages under node_modules/@node-llama-cpp), try `gpu: false` in ' +
        `the llm config, or run \`npx --no node-llama-cpp source build\` once yourself. Cause: ${messageOf(err)}`,
        { cause: err },
      );
    });
    runtimes.set(key, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// File identity

interface HashSidecar {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** sha256 of a file (hex), from the `<file>.sha256.json` sidecar when size and mtime still match. */
export async function ggufFileSha256(path: string): Promise<string> {
  const st = await stat(path);
  const sidecar = `${path}.sha256.json`;
  try {
    const cached = JSON.parse(await readFile(sidecar, 'utf8')) as Partial<HashSidecar>;
    if (cached.size === st.size && cached.mtimeMs === st.mtimeMs && typeof cached.sha256 === 'string'
      && /^[0-9a-f]{64}$/.test(cached.sha256)) return cached.sha256;
  } catch {
    // no sidecar or an unreadable one: hash the file
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  const record: HashSidecar = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  try {
    await writeFile(sidecar, `${JSON.stringify(record)}\n`);
  } catch {
    // read-only folder (e.g. a model mounted into a container): just do not cache
  }
  return sha256;
}

async function checkGgufFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`llama-cpp: GGUF model file not found: ${path}`);
    if (code === 'EISDIR') throw new Error(`llama-cpp: the model path is a folder, expected a .gguf file: ${path}`);
    throw new Error(`llama-cpp: cannot open the GGUF model file ${path}: ${messageOf(err)}`);
  }
  try {
    if ((await handle.stat()).isDirectory()) {
      throw new Error(`llama-cpp: the model path is a folder, expected a .gguf file: ${path}`);
    }
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const magic = head.subarray(0, bytesRead).toString('latin1');
    if (magic !== 'GGUF') {
      throw new Error(
        `llama-cpp: ${path} is not a GGUF file (it starts with ${JSON.stringify(magic)}, expected "GGUF"). ` +
        'Convert the model with llama.cpp (convert_hf_to_gguf.py) or download a .gguf build of it.',
      );
    }
  } finally {
    await handle.close();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------------------

export class LlamaCppModel implements LanguageModel {
  private _id = '';
  private _embeddingDim = 0;
  private readonly path: string;
  private llama: Llama | null = null;
  private model: LlamaModel | null = null;
  private loading: Promise<void> | null = null;
  private context: Promise<LlamaContext> | null = null;
  private embeddingContext: Promise<LlamaEmbeddingContext> | null = null;
  private chatWrapper: ChatWrapper | null = null;
  private readonly grammars = new Map<string, Promise<LlamaGrammar | null>>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: LlamaCppOptions) {
    this.path = resolve(options.model);
  }

  get id(): string {
    return this._id;
  }

  get embeddingDim(): number {
    return this._embeddingDim;
  }

  /** The id without loading weights: checks the file is GGUF and hashes it (or reuses the sidecar hash). */
  async identify(): Promise<string> {
    this.assertUsable();
    await checkGgufFile(this.path);
    return `gguf:${(await ggufFileSha256(this.path)).slice(0, 16)}`;
  }

  load(): Promise<void> {
    this.assertUsable();
    if (!this.loading) {
      this.loading = this.doLoad().catch((err: unknown) => {
        this.loading = null;
        throw err;
      });
    }
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    const id = await this.identify();
    const llama = await runtime(this.options.gpu, this.options.threads);
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: this.path });
    } catch (err) {
      throw new Error(`llama-cpp: llama.cpp could not load ${this.path}: ${messageOf(err)}`, { cause: err });
    }
    this.llama = llama;
    this.model = model;
    this._embeddingDim = model.embeddingVectorSize;
    this._id = id;
  }

  async generate(prompt: string, opts: GenerateOptions = {}): Promise<string> {
    await this.load();
    return this.serialised(async () => {
      const context = await this.chatContext();
      const grammar = opts.jsonSchema ? await this.grammarFor(opts.jsonSchema) : null;
      const sequence = context.getSequence();
      const session = new LlamaChatSession({
        contextSequence: sequence,
        chatWrapper: this.resolvedChatWrapper(),
        systemPrompt: opts.system ?? '',
      });
      try {
        const temperature = opts.temperature ?? 0;
        return await session.prompt(prompt, {
          maxTokens: opts.maxTokens ?? DEFAULT_MAX_TOKENS,
          temperature,
          ...(temperature > 0 && opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(grammar ? { grammar } : {}),
        });
      } finally {
        session.dispose({ disposeSequence: false });
        sequence.dispose();
      }
    });
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    await this.load();
    if (texts.length === 0) return [];
    return this.serialised(async () => {
      const context = await this.embeddingCtx();
      const out: Float32Array[] = [];
      for (const [i, text] of texts.entries()) {
        // llama.cpp has nothing to embed for an empty text (node-llama-cpp returns []): give a zero vector.
        if (text.length === 0) {
          out.push(new Float32Array(this._embeddingDim));
          continue;
        }
        let vector: readonly number[];
        try {
          ({ vector } = await context.getEmbeddingFor(text));
        } catch (err) {
          throw new Error(`llama-cpp: embedding text ${i} (${text.length} characters) with ${this.path} failed: ${messageOf(err)}`, { cause: err });
        }
        if (vector.length !== this._embeddingDim) {
          throw new Error(`llama-cpp: embedding text ${i} gave ${vector.length} values, expected ${this._embeddingDim} (${this.path})`);
        }
        out.push(Float32Array.from(vector));
      }
      return out;
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.catch(() => undefined);
    await this.loading?.catch(() => undefined);
    const ctx = await this.context?.catch(() => null);
    const emb = await this.embeddingContext?.catch(() => null);
    await ctx?.dispose();
    await emb?.dispose();
    await this.model?.dispose();
    this.context = null;
    this.embeddingContext = null;
    this.model = null;
    this.grammars.clear();
  }

  // -------------------------------------------------------------------------------------------------------------

  private assertUsable(): void {
    if (this.disposed) throw new Error(`llama-cpp: model ${this.path} was disposed`);
  }

  private loaded(): { llama: Llama; model: LlamaModel } {
    this.assertUsable();
    if (!this.llama || !this.model) throw new Error(`llama-cpp: model ${this.path} is not loaded`);
    return { llama: this.llama, model: this.model };
  }

  /** Run `fn` after every earlier call finished (one context, one set of cores). */
  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.assertUsable();
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private threadsOption(): { threads?: number } {
    return this.options.threads > 0 ? { threads: this.options.threads } : {};
  }

  private chatContext(): Promise<LlamaContext> {
    if (!this.context) {
      const { model } = this.loaded();
      this.context = model.createContext({ contextSize: this.options.contextSize, sequences: 1, ...this.threadsOption() });
      this.context.catch(() => (this.context = null));
    }
    return this.context;
  }

  private embeddingCtx(): Promise<LlamaEmbeddingContext> {
    if (!this.embeddingContext) {
      const { model } = this.loaded();
      this.embeddingContext = model.createEmbeddingContext({ contextSize: this.options.contextSize, ...this.threadsOption() });
      this.embeddingContext.catch(() => (this.embeddingContext = null));
    }
    return this.embeddingContext;
  }

  /** ChatML directly when the model's template is ChatML (template matching costs ~200 ms), else node-llama-cpp's choice. */
  private resolvedChatWrapper(): ChatWrapper {
    if (!this.chatWrapper) {
      const { model } = this.loaded();
      const template = model.fileInfo.metadata.tokenizer?.chat_template;
      const isChatMl = typeof template === 'string' && template.includes('<|im_start|>') && template.includes('<|im_end|>')
        && !/tool|function/i.test(template);
      this.chatWrapper = isChatMl ? new ChatMLChatWrapper() : resolveChatWrapper(model);
    }
    return this.chatWrapper;
  }

  private grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar | null> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      const { llama } = this.loaded();
      g = Promise.resolve()
        .then(() => llama.createGrammarForJsonSchema(schema as never) as Promise<LlamaGrammar>)
        .catch(() => null); // not expressible as a grammar: unconstrained text, validated by the caller
      this.grammars.set(key, g);
    }
    return g;
  }
}
