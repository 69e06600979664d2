/**
 * A small OpenAI-compatible server (like llama.cpp's `llama-server`) that serves any LanguageModel over HTTP on
 * 127.0.0.1: GET /v1/models, POST /v1/chat/completions (response_format json_schema -> generate's jsonSchema) and
 * POST /v1/embeddings. It records every request and can inject faults: the first `failFirst` requests answer
 * `failStatus`, and `delayMs` delays every answer.
 *
 * @example
 * const server = await startOpenAiServer(lm, { failFirst: 1 });
 * const client = new OpenAiModel({ type: 'openai', baseUrl: server.url, model: 'tiny', ... });
 * await server.close();
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GenerateOptions, LanguageModel } from '../../core/contracts/language-model.js';

export interface OpenAiServerOptions {
  /** The first `failFirst` requests (any path) answer `failStatus`. */
  failFirst?: number;
  /** Default 503. */
  failStatus?: number;
  /** Delay before every answer, in ms. */
  delayMs?: number;
  /** The model name /v1/models lists (default 'mmsurv-test'). */
  modelName?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined for a GET, the raw text for a body that is not JSON. */
  body: unknown;
}

export interface OpenAiServer {
  /** Base URL, ending with /v1. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

class BadRequest extends Error {}

export async function startOpenAiServer(lm: LanguageModel, opts: OpenAiServerOptions = {}): Promise<OpenAiServer> {
  const modelName = opts.modelName ?? 'mmsurv-test';
  const requests: RecordedRequest[] = [];
  let closed = false;
  // One model call at a time, as a single-slot llama.cpp server would.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    let body: unknown;
    let malformed = '';
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch (err) {
        body = raw;
        malformed = `request body is not JSON (${(err as Error).message})`;
      }
    }
    const n = requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (closed || res.destroyed) return;
    if (n <= (opts.failFirst ?? 0)) {
      const status = opts.failStatus ?? 503;
      return send(res, status, { error: { message: `injected failure ${n} of ${opts.failFirst}`, type: 'server_error', code: status } });
    }
    try {
      if (malformed) throw new BadRequest(malformed);
      const route = `${req.method} ${path}`;
      if (route === 'GET /v1/models') {
        return send(res, 200, { object: 'list', data: [{ id: modelName, object: 'model', created: 0, owned_by: 'mmsurv' }] });
      }
      if (route === 'POST /v1/chat/completions') {
        const { prompt, options } = chatRequest(body);
        await lm.load();
        const content = await serial(() => lm.generate(prompt, options));
        return send(res, 200, {
          id: `chatcmpl-${n}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: modelName,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        });
      }
      if (route === 'POST /v1/embeddings') {
        const texts = embeddingInput(body);
        await lm.load();
        const vectors = await serial(() => lm.embed(texts));
        return send(res, 200, {
          object: 'list',
          data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
          model: modelName,
        });
      }
      return send(res, 404, { error: { message: `no route ${route}; this server serves GET /v1/models, POST /v1/chat/completions, POST /v1/embeddings`, type: 'not_found_error' } });
    } catch (err) {
      const bad = err instanceof BadRequest;
      return send(res, bad ? 400 : 500, { error: { message: (err as Error).message, type: bad ? 'invalid_request_error' : 'server_error' } });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: { message: String(err), type: 'server_error' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => {
      closed = true;
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** An OpenAI chat request -> generate's prompt (the last user message) and options. */
function chatRequest(body: unknown): { prompt: string; options: GenerateOptions } {
  if (!isObject(body)) throw new BadRequest(`expected a JSON object body, found ${JSON.stringify(body)}`);
  const { messages, max_tokens, max_completion_tokens, temperature, seed, response_format } = body;
  if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest('expected messages to be a non-empty array');
  let prompt: string | undefined;
  const options: GenerateOptions = {};
  messages.forEach((m: unknown, i) => {
    if (!isObject(m) || typeof m['content'] !== 'string') {
      throw new BadRequest(`expected messages[${i}] to be { role, content: string }, found ${JSON.stringify(m)}`);
    }
    if (m['role'] === 'system') options.system = m['content'];
    else if (m['role'] === 'user') prompt = m['content'];
    else throw new BadRequest(`messages[${i}].role: expected 'system' or 'user', found ${JSON.stringify(m['role'])}`);
  });
  if (prompt === undefined) throw new BadRequest('expected a message with role user');
  const maxTokens = max_tokens ?? max_completion_tokens;
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) throw new BadRequest(`max_tokens: expected a positive integer, found ${JSON.stringify(maxTokens)}`);
    options.maxTokens = maxTokens as number;
  }
  if (temperature !== undefined) {
    if (typeof temperature !== 'number' || temperature < 0) throw new BadRequest(`temperature: expected a number >= 0, found ${JSON.stringify(temperature)}`);
    options.temperature = temperature;
  }
  if (seed !== undefined) {
    if (!Number.isInteger(seed)) throw new BadRequest(`seed: expected an integer, found ${JSON.stringify(seed)}`);
    options.seed = seed as number;
  }
  if (response_format !== undefined) {
    if (!isObject(response_format)) throw new BadRequest(`response_format: expected an object, found ${JSON.stringify(response_format)}`);
    if (response_format['type'] === 'json_schema') {
      const schema = isObject(response_format['json_schema']) ? response_format['json_schema']['schema'] : undefined;
      if (!isObject(schema)) throw new BadRequest('response_format.json_schema.schema: expected a JSON Schema object');
      options.jsonSchema = schema;
    } else if (response_format['type'] !== 'text') {
      throw new BadRequest(`response_format.type: expected 'json_schema' or 'text', found ${JSON.stringify(response_format['type'])}`);
    }
  }
  return { prompt, options };
}

function embeddingInput(body: unknown): string[] {
  const input = isObject(body) ? body['input'] : undefined;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((t) => typeof t === 'string')) return input as string[];
  throw new BadRequest(`input: expected a string or an array of strings, found ${JSON.stringify(input)}`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
