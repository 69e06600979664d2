/**
 * LanguageModel over an OpenAI-compatible HTTP API that the team runs itself (llama.cpp's `llama-server`, vLLM,
 * Ollama): chat completions with `response_format: json_schema` for `generate`, `/embeddings` for `embed`.
 *
 * Every request has a timeout (`timeoutMs`) and is retried (`retries` extra attempts, back-off `retryDelayMs * 2^k`,
 * or the server's numeric `Retry-After`, at most 30 s) after a network error, a timeout, 429 or 5xx. Any other 4xx
 * fails at once: the request itself is wrong and repeating it cannot help.
 *
 * `embeddingDim` is known after the first `embed` answer: `/models` does not say it, and probing `/embeddings` in
 * `load()` would make a chat-only server unusable.
 *
 * @example
 * const lm = new OpenAiModel({ type: 'openai', baseUrl: 'http://127.0.0.1:8080/v1', model: 'qwen2.5-1.5b',
 *                              timeoutMs: 120_000, retries: 2, retryDelayMs: 500 });
 * const text = await lm.generate('Summarise: ...', { maxTokens: 64 });
 */
import type { GenerateOptions, LanguageModel } from '../contracts/language-model.js';
import type { OpenAiOptions } from './llm-config.js';

const MAX_RETRY_AFTER_MS = 30_000;
const START_HINT = 'Is the server running? Start one, e.g. `llama-server -m model.gguf --port 8080` or `ollama serve`, '
  + 'and check the model\'s baseUrl (it includes /v1).';

/** One failed attempt: why, and whether another attempt may succeed. */
interface AttemptFailure {
  cause: string;
  retry: boolean;
  /** The server asked to wait this long (Retry-After), in ms. */
  retryAfterMs?: number;
  /** No connection could be made (refused, unknown host, ...). */
  unreachable?: boolean;
}

export class OpenAiModel implements LanguageModel {
  private readonly baseUrl: string;
  private loaded = false;
  private loading: Promise<void> | undefined;
  private disposed = false;
  private dim = 0;

  constructor(private readonly options: OpenAiOptions) {
    const where = `llm option baseUrl of an 'openai' model`;
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`${where}: expected an http(s) URL such as http://127.0.0.1:8080/v1, found ${JSON.stringify(options.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`${where}: expected an http(s) URL such as http://127.0.0.1:8080/v1, found protocol ${url.protocol} in ${options.baseUrl}`);
    }
    if (!options.model) throw new Error(`llm option model of an 'openai' model: expected a model name, found ${JSON.stringify(options.model)}`);
    checkNumber('timeoutMs', options.timeoutMs, 1);
    checkNumber('retries', options.retries, 0);
    checkNumber('retryDelayMs', options.retryDelayMs, 0);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  get id(): string {
    return this.loaded ? `openai:${this.options.model}@${this.baseUrl}` : '';
  }

  get embeddingDim(): number {
    return this.dim;
  }

  /** The id needs no request: it names the model and the server, which the options already say. */
  identify(): Promise<string> {
    return Promise.resolve(`openai:${this.options.model}@${this.baseUrl}`);
  }

  load(): Promise<void> {
    this.assertUsable();
    if (this.loaded) return Promise.resolve();
    // A failed check is not cached: the server may be started later.
    this.loading ??= this.request('GET', '/models').then(
      () => {
        this.loaded = true;
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  async generate(prompt: string, opts: GenerateOptions = {}): Promise<string> {
    await this.load();
    const messages: { role: 'system' | 'user'; content: string }[] = [];
    if (opts.system !== undefined) messages.push({ role: 'system', content: opts.system });
    messages.push({ role: 'user', content: prompt });
    const body: Record<string, unknown> = {
      model: this.options.model,
      messages,
      max_tokens: opts.maxTokens ?? 256,
      temperature: opts.temperature ?? 0,
    };
    if (opts.seed !== undefined) body['seed'] = opts.seed;
    if (opts.jsonSchema) {
      body['response_format'] = { type: 'json_schema', json_schema: { name: 'answer', schema: opts.jsonSchema, strict: true } };
    }
    const answer = await this.request('POST', '/chat/completions', body);
    const content = (answer as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') {
      throw new Error(`POST ${this.baseUrl}/chat/completions: expected choices[0].message.content to be a string `
        + `(OpenAI chat completion), found ${preview(answer)}`);
    }
    return content;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    await this.load();
    if (texts.length === 0) return [];
    const url = `${this.baseUrl}/embeddings`;
    const answer = await this.request('POST', '/embeddings', { model: this.options.embeddingModel ?? this.options.model, input: texts });
    const data = (answer as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) {
      throw new Error(`POST ${url}: expected { data: [{ index, embedding: number[] }, ...] }, found ${preview(answer)}`);
    }
    if (data.length !== texts.length) {
      throw new Error(`POST ${url}: expected ${texts.length} embeddings (one per input text), found ${data.length}`);
    }
    const items = data.map((item: unknown, i) => {
      const { index, embedding } = (item ?? {}) as { index?: unknown; embedding?: unknown };
      if (!Number.isInteger(index) || !Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number')) {
        throw new Error(`POST ${url}: expected data[${i}] to be { index: integer, embedding: number[] }, found ${preview(item)}`);
      }
      return { index: index as number, embedding: embedding as number[] };
    });
    items.sort((a, b) => a.index - b.index);
    items.forEach((item, i) => {
      if (item.index !== i) {
        throw new Error(`POST ${url}: expected indices 0..${texts.length - 1}, found ${JSON.stringify(items.map((x) => x.index))}`);
      }
    });
    const width = items[0]!.embedding.length;
    if (width === 0) throw new Error(`POST ${url}: expected non-empty embedding vectors, found width 0`);
    const odd = items.find((x) => x.embedding.length !== width);
    if (odd) {
      throw new Error(`POST ${url}: expected every embedding to have width ${width} (that of text 0), found ${odd.embedding.length} for text ${odd.index}`);
    }
    if (this.dim !== 0 && width !== this.dim) {
      throw new Error(`POST ${url}: expected width ${this.dim} as in earlier answers of this model, found ${width}; did the server's model change?`);
    }
    this.dim = width;
    return items.map((x) => Float32Array.from(x.embedding));
  }

  dispose(): Promise<void> {
    this.disposed = true;
    return Promise.resolve();
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error(`language model openai:${this.options.model}@${this.baseUrl} was disposed; create a new one`);
  }

  private authorization(): string | undefined {
    const name = this.options.apiKeyEnv;
    if (name === undefined) return undefined;
    const key = process.env[name];
    if (!key) {
      throw new Error(`llm option apiKeyEnv names the environment variable ${name}, but it is ${key === undefined ? 'not set' : 'empty'}; `
        + `set it to the server's API key, or remove apiKeyEnv for a server without one`);
    }
    return `Bearer ${key}`;
  }

  /** One API call with timeout and retries; the parsed JSON answer of a 2xx. */
  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const auth = this.authorization();
    if (auth) headers['authorization'] = auth;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const attempts = this.options.retries + 1;
    let last: AttemptFailure | undefined;
    for (let k = 0; k < attempts; k++) {
      if (last) await sleep(last.retryAfterMs ?? this.options.retryDelayMs * 2 ** (k - 1));
      const outcome = await this.attempt(method, url, headers, payload);
      if (!('cause' in outcome)) return outcome.value;
      if (!outcome.retry) throw new Error(`${method} ${url} failed: ${outcome.cause}`);
      last = outcome;
    }
    const tried = `${attempts} attempt${attempts === 1 ? '' : 's'} (retries: ${this.options.retries})`;
    const hint = last!.unreachable ? ` ${START_HINT}` : '';
    throw new Error(`${method} ${url} failed after ${tried}; last cause: ${last!.cause}.${hint}`);
  }

  private async attempt(method: string, url: string, headers: Record<string, string>, payload: string | undefined):
    Promise<{ value: unknown } | AttemptFailure> {
    let status: number;
    let statusText: string;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.options.timeoutMs) });
      ({ status, statusText } = res);
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      return this.networkFailure(err);
    }
    if (status >= 200 && status < 300) {
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { cause: `HTTP ${status}, but the answer is not JSON: ${clip(text)}`, retry: false };
      }
    }
    const cause = `HTTP ${status}${statusText ? ` ${statusText}` : ''}: ${serverMessage(text)}`;
    if (status === 429 || status >= 500) {
      const seconds = retryAfter !== null && /^\s*\d+(\.\d+)?\s*$/.test(retryAfter) ? Number(retryAfter) : undefined;
      return { cause, retry: true, retryAfterMs: seconds === undefined ? undefined : Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) };
    }
    return { cause: `${cause} (a ${status} is not retried: the request itself was refused)`, retry: false };
  }

  private networkFailure(err: unknown): AttemptFailure {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      return { cause: `timed out: no complete answer within timeoutMs = ${this.options.timeoutMs} ms (raise timeoutMs for a slow model)`, retry: true };
    }
    const code = e?.cause?.code;
    const detail = e?.cause?.message ?? e?.message ?? String(err);
    const unreachable = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'EAI_AGAIN';
    return { cause: `cannot reach the server (${code ? `${code}: ` : ''}${detail})`, retry: true, unreachable };
  }
}

function checkNumber(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new Error(`llm option ${name} of an 'openai' model: expected a number >= ${min}, found ${JSON.stringify(value)}`);
  }
}

/** The server's error message: OpenAI's { error: { message } }, { error: '...' }, { message }, or the plain text. */
function serverMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = parsed?.error;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      return (error as { message: string }).message;
    }
    if (typeof error === 'string') return error;
    if (typeof parsed?.message === 'string') return parsed.message;
  } catch {
    // not JSON: the plain text is the message
  }
  return text.trim() ? clip(text.trim()) : '(empty body)';
}

function preview(value: unknown): string {
  return clip(JSON.stringify(value) ?? String(value));
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
