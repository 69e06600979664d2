/**
 * The knowledge cache: texts that KnowledgeSources made with an LLM, and LLM embeddings of texts, stored in a data
 * (or run) folder so that training, re-runs and the container read them instead of calling the model again.
 *
 * Layout (under `<dir>`, by default `<data root>/knowledge-cache`):
 *   texts/<source id>/<model key>-<prompt key>.json   { version, source, model, prompt, entries: { <case key>: { caseId, texts } } }
 *   embeddings/<model key>.json                       { version, model, dim, entries: { <text key>: base64 float32 } }
 * Keys are the first 16 hex digits of a sha256: model key of the model id (a GGUF file's hash), prompt key of the
 * source's prompt identity (template + generation settings), case key of the case content the source reads, text
 * key of the text. A changed model file, prompt or case therefore misses and is recomputed; nothing is ever
 * overwritten with a different meaning. Files are written atomically (temp file, then rename). A read-only cache
 * (a container's model directory) is used as it is: new entries then stay in memory for the process.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { KnowledgeText } from '../contracts/knowledge-source.js';
import { writeFileAtomic } from '../services/run-store.js';

export const KNOWLEDGE_CACHE_DIR = 'knowledge-cache';
const VERSION = 1;

export const hashKey = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** JSON with object keys sorted, so equal content always hashes equally. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (ArrayBuffer.isView(v)) return JSON.stringify(Array.from(v as unknown as ArrayLike<number>));
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
}

const safeName = (id: string): string => id.replace(/[^A-Za-z0-9._-]+/g, '_');

async function readCacheFile<T>(file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file}: the knowledge cache file is not valid JSON (${(err as Error).message}); delete it to recompute`);
  }
}

/** Write atomically; false (nothing written) when the folder is read-only. */
async function writeUnlessReadOnly(file: string, text: string): Promise<boolean> {
  try {
    await writeFileAtomic(file, text);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return false;
    throw err;
  }
}

interface TextShardFile {
  version: number;
  source: string;
  model: string;
  prompt: string;
  entries: Record<string, { caseId: string; texts: KnowledgeText[] }>;
}

/** The cached texts of one source under one model and prompt. */
export class TextShard {
  private dirty = 0;
  /** Set when a write found the folder read-only. */
  readOnly = false;
  private constructor(readonly file: string, private readonly data: TextShardFile) {}

  static async open(dir: string, source: string, model: string, prompt: string): Promise<TextShard> {
    const file = join(dir, 'texts', safeName(source), `${hashKey(model)}-${hashKey(prompt)}.json`);
    if (existsSync(file)) {
      const data = await readCacheFile<TextShardFile>(file);
      if (data.version !== VERSION || data.model !== model || data.source !== source || typeof data.entries !== 'object') {
        throw new Error(`${file}: expected a knowledge cache file of version ${VERSION} for source '${source}' and model '${model}', found version ${data.version}, source '${data.source}', model '${data.model}'; delete it to recompute`);
      }
      return new TextShard(file, data);
    }
    return new TextShard(file, { version: VERSION, source, model, prompt: hashKey(prompt), entries: {} });
  }

  get size(): number {
    return Object.keys(this.data.entries).length;
  }

  get(caseKey: string): KnowledgeText[] | undefined {
    return this.data.entries[caseKey]?.texts;
  }

  set(caseKey: string, caseId: string, texts: KnowledgeText[]): void {
    this.data.entries[caseKey] = { caseId, texts };
    this.dirty++;
  }

  /** Write when anything changed (atomic; skipped for a read-only cache). */
  async flush(): Promise<void> {
    if (this.dirty === 0 || this.readOnly) return;
    this.readOnly = !(await writeUnlessReadOnly(this.file, `${JSON.stringify(this.data, null, 1)}\n`));
    this.dirty = 0;
  }

  /** Flush every `every` new entries, so an interrupted build keeps its work. */
  async flushEvery(every: number): Promise<void> {
    if (this.dirty >= every) await this.flush();
  }
}

interface EmbeddingFile {
  version: number;
  model: string;
  dim: number;
  entries: Record<string, string>;
}

const toBase64 = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
function fromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Cached embeddings of one model. */
export class EmbeddingStore {
  private dirty = 0;
  /** Set when a write found the folder read-only. */
  readOnly = false;
  private constructor(readonly file: string, private readonly data: EmbeddingFile) {}

  static async open(dir: string, model: string): Promise<EmbeddingStore> {
    const file = join(dir, 'embeddings', `${hashKey(model)}.json`);
    if (existsSync(file)) {
      const data = await readCacheFile<EmbeddingFile>(file);
      if (data.version !== VERSION || data.model !== model) {
        throw new Error(`${file}: expected an embedding cache of version ${VERSION} for model '${model}', found version ${data.version}, model '${data.model}'; delete it to recompute`);
      }
      return new EmbeddingStore(file, data);
    }
    return new EmbeddingStore(file, { version: VERSION, model, dim: 0, entries: {} });
  }

  get(text: string): Float32Array | undefined {
    const s = this.data.entries[hashKey(text)];
    return s === undefined ? undefined : fromBase64(s);
  }

  set(text: string, v: Float32Array): void {
    if (this.data.dim === 0) this.data.dim = v.length;
    if (v.length !== this.data.dim) throw new Error(`${this.file}: an embedding of width ${v.length} does not fit the cache's width ${this.data.dim}`);
    this.data.entries[hashKey(text)] = toBase64(v);
    this.dirty++;
  }

  async flush(): Promise<void> {
    if (this.dirty === 0 || this.readOnly) return;
    this.readOnly = !(await writeUnlessReadOnly(this.file, `${JSON.stringify(this.data)}\n`));
    this.dirty = 0;
  }
}
