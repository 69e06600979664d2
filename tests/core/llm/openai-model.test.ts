/**
 * OpenAiModel against a real OpenAI-compatible server (tests/support/openai-server.ts) that serves the tiny GGUF
 * model through node-llama-cpp: answers over HTTP must equal the in-process answers, and the client's timeouts,
 * retries and errors must say what happened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JsonSchemaObject } from '../../../core/contracts/language-model.js';
import { LlamaCppModel } from '../../../core/llm/llama-cpp-model.js';
import type { OpenAiOptions } from '../../../core/llm/llm-config.js';
import { OpenAiModel } from '../../../core/llm/openai-model.js';
import { startOpenAiServer } from '../../support/openai-server.js';
import type { OpenAiServer, OpenAiServerOptions } from '../../support/openai-server.js';
import { writeTinyGguf } from '../../support/tiny-gguf.js';

const KEY_ENV = 'MMSURV_TEST_OPENAI_KEY';

const schema: JsonSchemaObject = {
  type: 'object',
  properties: {
    grade: { enum: ['low', 'high'] },
    recurrence: { type: 'boolean' },
  },
  required: ['grade', 'recurrence'],
  additionalProperties: false,
};

let dir: string;
let lm: LlamaCppModel;
let shared: OpenAiServer;
const extraServers: OpenAiServer[] = [];

function client(url: string, extra: Partial<OpenAiOptions> = {}): OpenAiModel {
  return new OpenAiModel({ type: 'openai', baseUrl: url, model: 'tiny', timeoutMs: 20_000, retries: 2, retryDelayMs: 5, ...extra });
}

async function server(opts: OpenAiServerOptions): Promise<OpenAiServer> {
  const s = await startOpenAiServer(lm, { modelName: 'tiny', ...opts });
  extraServers.push(s);
  return s;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsurv-openai-'));
  const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
  lm = new LlamaCppModel({ type: 'llama-cpp', model: gguf.path, contextSize: 2048, threads: 1, gpu: false });
  await lm.load();
  shared = await startOpenAiServer(lm, { modelName: 'tiny' });
});

afterEach(async () => {
  await Promise.all(extraServers.splice(0).map((s) => s.close()));
  delete process.env[KEY_ENV];
});

afterAll(async () => {
  await shared?.close();
  await lm?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('OpenAiModel over HTTP', () => {
  it('returns schema-valid JSON equal to the in-process greedy answer, and sends response_format and seed', async () => {
    const c = client(`${shared.url}/`);
    expect(c.id).toBe('');
    await c.load();
    expect(c.id).toBe(`openai:tiny@${shared.url}`);
    expect(await c.identify()).toBe(c.id);

    const opts = { jsonSchema: schema, maxTokens: 48, temperature: 0, seed: 7, system: 'Answer in JSON.' };
    const prompt = 'Pathology report: high-grade urothelial carcinoma, lymphovascular invasion present.';
    const overHttp = await c.generate(prompt, opts);
    const inProcess = await lm.generate(prompt, opts);

    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    const value: unknown = JSON.parse(overHttp);
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    expect(overHttp).toBe(inProcess);

    const sent = shared.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body;
    expect(sent).toEqual({
      model: 'tiny',
      messages: [{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: prompt }],
      max_tokens: 48,
      temperature: 0,
      seed: 7,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
  });

  it('passes seed and temperature through: a seeded sampled answer equals the in-process one', async () => {
    const c = client(shared.url);
    const prompt = 'Patient summary: stage II, node negative.';
    const opts = { jsonSchema: schema, maxTokens: 48, temperature: 0.9, seed: 11 };
    const overHttp = await c.generate(prompt, opts);
    expect(overHttp).toBe(await lm.generate(prompt, opts));
    expect(JSON.parse(overHttp)).toHaveProperty('grade');
  });

  it('embeds the same vectors as the in-process model, of width embeddingDim; [] makes no request', async () => {
    const c = client(shared.url);
    const texts = ['High-grade urothelial carcinoma.', 'No residual tumour.', 'Recurrence after 14 months.'];
    const overHttp = await c.embed(texts);
    const inProcess = await lm.embed(texts);
    expect(overHttp).toHaveLength(3);
    expect(c.embeddingDim).toBeGreaterThan(0);
    expect(c.embeddingDim).toBe(lm.embeddingDim);
    overHttp.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(c.embeddingDim);
      expect(Array.from(v)).toEqual(Array.from(inProcess[i]!));
    });
    expect(shared.requests.at(-1)!.body).toEqual({ model: 'tiny', input: texts });

    const seen = shared.requests.length;
    expect(await c.embed([])).toEqual([]);
    expect(shared.requests.length).toBe(seen);
  });

  it('sends embeddingModel to /embeddings when it is set', async () => {
    const c = client(shared.url, { embeddingModel: 'tiny-embed' });
    await c.embed(['x']);
    expect(shared.requests.at(-1)!.body).toEqual({ model: 'tiny-embed', input: ['x'] });
  });
});

describe('OpenAiModel retries and errors', () => {
  it('retries 503s: two failures with retries 2 succeed on the third request', async () => {
    const s = await server({ failFirst: 2 });
    const c = client(s.url, { retries: 2 });
    await c.load();
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('GET /v1/models'));
    const text = await c.generate('Say something.', { maxTokens: 4 });
    expect(typeof text).toBe('string');
    expect(s.requests).toHaveLength(4);
  });

  it('gives up after 1 + retries attempts, naming the URL, the attempts and the last status', async () => {
    const s = await server({ failFirst: 3 });
    const c = client(s.url, { retries: 2 });
    const err = await c.load().then(() => null, (e: Error) => e);
    expect(err?.message).toContain(`${s.url}/models`);
    expect(err?.message).toMatch(/after 3 attempts/);
    expect(err?.message).toMatch(/HTTP 503.*injected failure 3 of 3/);
    expect(s.requests).toHaveLength(3);
    expect(c.id).toBe('');
  });

  it('does not retry a 400 and reports the server message', async () => {
    const s = await server({ failFirst: 1, failStatus: 400 });
    const c = client(s.url, { retries: 2 });
    await expect(c.load()).rejects.toThrow(/HTTP 400.*injected failure 1 of 1.*not retried/);
    expect(s.requests).toHaveLength(1);
  });

  it('reports a 404 from a baseUrl without /v1 at once, with the server message', async () => {
    const c = client(shared.url.replace(/\/v1$/, ''), { retries: 2 });
    const seen = shared.requests.length;
    await expect(c.load()).rejects.toThrow(/GET http:\/\/127\.0\.0\.1:\d+\/models failed: HTTP 404.*no route GET \/models/);
    expect(shared.requests.length).toBe(seen + 1);
  });

  it('times out a slow server with a clear error', async () => {
    const s = await server({ delayMs: 500 });
    const c = client(s.url, { timeoutMs: 100, retries: 0 });
    const t0 = performance.now();
    await expect(c.load()).rejects.toThrow(/after 1 attempt \(retries: 0\); last cause: timed out.*timeoutMs = 100 ms/);
    expect(performance.now() - t0).toBeLessThan(450);
  });

  it('says the server must be running when nothing listens at the URL', async () => {
    const s = await startOpenAiServer(lm);
    await s.close();
    const c = client(s.url, { retries: 1 });
    const err = await c.load().then(() => null, (e: Error) => e);
    expect(err?.message).toContain(`${s.url}/models`);
    expect(err?.message).toMatch(/ECONNREFUSED/);
    expect(err?.message).toMatch(/Is the server running\?.*llama-server -m model\.gguf --port 8080/);
  });

  it('fails clearly when apiKeyEnv names an unset variable, and sends the key as a Bearer token when set', async () => {
    const seen = shared.requests.length;
    await expect(client(shared.url, { apiKeyEnv: KEY_ENV }).load())
      .rejects.toThrow(`apiKeyEnv names the environment variable ${KEY_ENV}, but it is not set`);
    expect(shared.requests.length).toBe(seen);

    process.env[KEY_ENV] = 'test-secret-123';
    await client(shared.url, { apiKeyEnv: KEY_ENV }).load();
    expect(shared.requests.at(-1)!.headers['authorization']).toBe('Bearer test-secret-123');

    const s = await server({ failFirst: 1 });
    const err = await client(s.url, { apiKeyEnv: KEY_ENV, retries: 0 }).load().then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/HTTP 503/);
    expect(err?.message).not.toContain('test-secret-123');
  });
});

describe('startOpenAiServer', () => {
  it('answers a malformed body with 400 and an OpenAI error object', async () => {
    const bad = await fetch(`${shared.url}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/not JSON/);

    const noUser = await fetch(`${shared.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tiny', messages: [{ role: 'system', content: 'x' }] }),
    });
    expect(noUser.status).toBe(400);
    expect(((await noUser.json()) as { error: { message: string } }).error.message).toMatch(/role user/);
  });
});
