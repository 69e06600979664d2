/**
 * LlamaCppModel against the real llama.cpp runtime (node-llama-cpp, CPU, one thread) and a tiny GGUF model the test
 * writes itself (tests/support/tiny-gguf.ts): identity and its sidecar hash cache, JSON-schema grammars, greedy and
 * seeded repeatability, embeddings, serialised calls and the errors a user sees for a wrong model path.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonSchemaObject } from '../../../core/contracts/language-model.js';
import { LlamaCppModel } from '../../../core/llm/llama-cpp-model.js';
import type { LlamaCppOptions } from '../../../core/llm/llm-config.js';
import { writeTinyGguf } from '../../support/tiny-gguf.js';

const SCHEMA: JsonSchemaObject = {
  type: 'object',
  properties: {
    summary: { type: 'string', maxLength: 80 },
    probabilities: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 3, maxItems: 3 },
  },
  required: ['summary', 'probabilities'],
  additionalProperties: false,
};

const PROMPTS = [
  'Summarise the pathology report: high grade urothelial carcinoma, invasive, lymph node positive.',
  'What is the survival outlook of the patient? Answer with a summary and three probabilities.',
  'low risk, no recurrence after 60 months',
  'x',
];

let dir: string;
let modelPath: string;
let lm: LlamaCppModel;
let loadMs = 0;

function options(model: string, extra: Partial<LlamaCppOptions> = {}): LlamaCppOptions {
  return { type: 'llama-cpp', model, contextSize: 512, threads: 1, gpu: false, ...extra };
}

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsurv-llama-'));
  modelPath = (await writeTinyGguf(join(dir, 'tiny.gguf'), { seed: 7 })).path;
  lm = new LlamaCppModel(options(modelPath));
  const t0 = performance.now();
  await lm.load();
  loadMs = performance.now() - t0;
}, 120_000);

afterAll(async () => {
  await lm?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('writeTinyGguf', () => {
  it('writes the same bytes for a seed, other bytes for another seed, under 1 MB', async () => {
    const a = await writeTinyGguf(join(dir, 'a.gguf'), { seed: 3 });
    const b = await writeTinyGguf(join(dir, 'b.gguf'), { seed: 3 });
    const c = await writeTinyGguf(join(dir, 'c.gguf'), { seed: 4 });
    expect(a.bytes).toBeLessThan(1 << 20);
    expect(a.embedding).toBe(64);
    expect((await readFile(a.path)).subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(await sha256Of(a.path)).toBe(await sha256Of(b.path));
    expect(await sha256Of(a.path)).not.toBe(await sha256Of(c.path));
  });
});

describe('LlamaCppModel: load and identity', () => {
  it('loads quickly; id is gguf:<first 16 hex of the sha256>; embeddingDim is the model width', async () => {
    console.info(`[llama-cpp] load (incl. getLlama + hashing): ${loadMs.toFixed(0)} ms`);
    expect(loadMs).toBeLessThan(15_000);
    // A second model in the same process reuses the llama.cpp runtime: this is the model load alone.
    const again = new LlamaCppModel(options(modelPath));
    const t1 = performance.now();
    await again.load();
    const modelMs = performance.now() - t1;
    console.info(`[llama-cpp] load of a second model (runtime already started): ${modelMs.toFixed(0)} ms`);
    expect(modelMs).toBeLessThan(2_000);
    expect(again.id).toBe(lm.id);
    await again.dispose();
    expect(lm.id).toBe(`gguf:${(await sha256Of(modelPath)).slice(0, 16)}`);
    expect(lm.embeddingDim).toBe(64);
    expect(await lm.identify()).toBe(lm.id);
    const t0 = performance.now();
    await lm.load(); // idempotent
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('caches the hash in <file>.sha256.json and reuses it while size and mtime match', async () => {
    const path = (await writeTinyGguf(join(dir, 'sidecar.gguf'), { seed: 11 })).path;
    const sidecar = `${path}.sha256.json`;
    const real = await sha256Of(path);
    const st = await stat(path);

    const first = new LlamaCppModel(options(path));
    expect(await first.identify()).toBe(`gguf:${real.slice(0, 16)}`);
    expect(JSON.parse(await readFile(sidecar, 'utf8'))).toEqual({ size: st.size, mtimeMs: st.mtimeMs, sha256: real });

    // Same size and mtime: the sidecar is trusted (a sentinel shows it was read, not recomputed).
    const sentinel = '0123456789abcdef'.repeat(4);
    await writeFile(sidecar, JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, sha256: sentinel }));
    const second = new LlamaCppModel(options(path));
    await second.load();
    expect(second.id).toBe('gguf:0123456789abcdef');
    await second.dispose();

    // A different size (or mtime) means the file changed: recompute and rewrite.
    await writeFile(sidecar, JSON.stringify({ size: st.size + 1, mtimeMs: st.mtimeMs, sha256: sentinel }));
    expect(await new LlamaCppModel(options(path)).identify()).toBe(`gguf:${real.slice(0, 16)}`);
    expect(JSON.parse(await readFile(sidecar, 'utf8')).sha256).toBe(real);
    await writeFile(sidecar, JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, sha256: sentinel }));
    await utimes(path, new Date(), new Date(st.mtimeMs + 5_000));
    expect(await new LlamaCppModel(options(path)).identify()).toBe(`gguf:${real.slice(0, 16)}`);

    // A corrupt sidecar is ignored.
    await writeFile(sidecar, '{not json');
    expect(await new LlamaCppModel(options(path)).identify()).toBe(`gguf:${real.slice(0, 16)}`);
  });

  it('a different seed is a different model id', async () => {
    const other = (await writeTinyGguf(join(dir, 'other.gguf'), { seed: 8 })).path;
    const id = await new LlamaCppModel(options(other)).identify();
    expect(id).toMatch(/^gguf:[0-9a-f]{16}$/);
    expect(id).not.toBe(lm.id);
  });

  it('a missing file and a non-GGUF file give errors naming the path', async () => {
    const missing = join(dir, 'nope', 'model.gguf');
    const e1 = await rejection(new LlamaCppModel(options(missing)).load());
    expect(e1.message).toContain('not found');
    expect(e1.message).toContain(missing);

    const text = join(dir, 'model.safetensors');
    await writeFile(text, 'this is not a gguf model');
    const e2 = await rejection(new LlamaCppModel(options(text)).load());
    expect(e2.message).toContain(text);
    expect(e2.message).toContain('not a GGUF file');
    expect(e2.message).toContain('"this"');

    const e3 = await rejection(new LlamaCppModel(options(dir)).generate('hi'));
    expect(e3.message).toContain('folder');
    expect(e3.message).toContain(dir);
  });
});

describe('LlamaCppModel: generate', () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(SCHEMA);

  it('schema-constrained answers parse and validate for different prompts', async () => {
    const answers: string[] = [];
    for (const [i, prompt] of PROMPTS.entries()) {
      const t0 = performance.now();
      const text = await lm.generate(prompt, { jsonSchema: SCHEMA, maxTokens: 256, ...(i === 1 ? { system: 'Answer in JSON.' } : {}) });
      console.info(`[llama-cpp] schema-constrained generate ${i}${i === 0 ? ' (incl. context + grammar)' : ''}: ${(performance.now() - t0).toFixed(0)} ms`);
      const value: unknown = JSON.parse(text);
      expect(validate(value), `${text}\n${JSON.stringify(validate.errors)}`).toBe(true);
      answers.push(text);
    }
    // The prompt reaches the model: not every prompt gets the same answer.
    expect(new Set(answers).size).toBeGreaterThan(1);
  });

  it('greedy generation is repeatable and calls do not share history', async () => {
    const a1 = await lm.generate(PROMPTS[0]!, { jsonSchema: SCHEMA });
    const b = await lm.generate(PROMPTS[2]!, { jsonSchema: SCHEMA });
    const a2 = await lm.generate(PROMPTS[0]!, { jsonSchema: SCHEMA });
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
    // Unconstrained greedy text too.
    expect(await lm.generate('hello', { maxTokens: 16 })).toBe(await lm.generate('hello', { maxTokens: 16 }));
  });

  it('seeded sampling (temperature 0.8) is repeatable for a seed and varies across seeds', async () => {
    const opts = { jsonSchema: SCHEMA, temperature: 0.8 };
    const s1 = await lm.generate(PROMPTS[1]!, { ...opts, seed: 1 });
    expect(await lm.generate(PROMPTS[1]!, { ...opts, seed: 1 })).toBe(s1);
    const others = await Promise.all([2, 3, 4].map((seed) => lm.generate(PROMPTS[1]!, { ...opts, seed })));
    expect(new Set([s1, ...others]).size).toBeGreaterThan(1);
    for (const t of [s1, ...others]) expect(validate(JSON.parse(t))).toBe(true);
  });

  it('concurrent calls are serialised and give the sequential answers', async () => {
    const sequential = [];
    for (const p of PROMPTS.slice(0, 3)) sequential.push(await lm.generate(p, { jsonSchema: SCHEMA }));
    const concurrent = await Promise.all(PROMPTS.slice(0, 3).map((p) => lm.generate(p, { jsonSchema: SCHEMA })));
    expect(concurrent).toEqual(sequential);
  });

  it('maxTokens bounds unconstrained text', async () => {
    const short = await lm.generate('Tell me a long story about the patient.', { maxTokens: 4 });
    const long = await lm.generate('Tell me a long story about the patient.', { maxTokens: 64 });
    expect(typeof short).toBe('string');
    expect(short.length).toBeLessThanOrEqual(long.length);
    expect(long.startsWith(short.trimEnd())).toBe(true);
  });
});

describe('LlamaCppModel: embed', () => {
  it('one vector of length embeddingDim per text, in order, deterministic; different texts differ', async () => {
    const t0 = performance.now();
    const [a] = await lm.embed(['High-grade urothelial carcinoma.']);
    console.info(`[llama-cpp] embed (first, incl. context): ${(performance.now() - t0).toFixed(0)} ms`);
    const t1 = performance.now();
    const [b, c, a2] = await lm.embed(['Low risk, no recurrence.', 'x', 'High-grade urothelial carcinoma.']);
    console.info(`[llama-cpp] embed (3 texts): ${(performance.now() - t1).toFixed(0)} ms`);
    for (const v of [a, b, c, a2]) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v!.length).toBe(lm.embeddingDim);
      expect(v!.every(Number.isFinite)).toBe(true);
    }
    expect(Array.from(a2!)).toEqual(Array.from(a!));
    expect(Array.from(b!)).not.toEqual(Array.from(a!));
    expect(Array.from(c!)).not.toEqual(Array.from(b!));
  });

  it('an empty input gives an empty array; an empty text a zero vector of the full width', async () => {
    expect(await lm.embed([])).toEqual([]);
    const [z, x] = await lm.embed(['', 'x']);
    expect(Array.from(z!)).toEqual(new Array(lm.embeddingDim).fill(0));
    expect(x!.length).toBe(lm.embeddingDim);
  });
});

describe('LlamaCppModel: dispose', () => {
  it('frees the model; later calls fail clearly', async () => {
    const m = new LlamaCppModel(options(modelPath));
    await m.generate('hi', { maxTokens: 2 });
    await m.embed(['hi']);
    await m.dispose();
    await m.dispose(); // idempotent
    expect((await rejection(m.generate('hi'))).message).toContain('disposed');
    expect((await rejection(m.embed(['hi']))).message).toContain('disposed');
  });
});
