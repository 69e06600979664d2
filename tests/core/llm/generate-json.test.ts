/**
 * generateJson: parse, validate against the schema, retry a non-conforming answer with new seeds, report (never
 * return) an answer that still does not conform. The retry logic is checked with a scripted model; conforming
 * output end to end with the real llama.cpp runtime and the tiny GGUF model.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateOptions, JsonSchemaObject, LanguageModel } from '../../../core/contracts/language-model.js';
import { generateJson, NonConformingAnswerError, schemaProblem } from '../../../core/llm/generate-json.js';
import { LlamaCppModel } from '../../../core/llm/llama-cpp-model.js';
import { writeTinyGguf } from '../../support/tiny-gguf.js';

const SCHEMA: JsonSchemaObject = {
  type: 'object',
  properties: { statements: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, minItems: 1, maxItems: 3 } },
  required: ['statements'],
  additionalProperties: false,
};

/** Answers from a script, recording the options of each call. */
class ScriptedModel implements LanguageModel {
  readonly id = 'scripted';
  readonly embeddingDim = 0;
  readonly calls: GenerateOptions[] = [];
  constructor(private readonly answers: string[]) {}
  identify() { return Promise.resolve(this.id); }
  load() { return Promise.resolve(); }
  generate(_prompt: string, opts: GenerateOptions = {}) {
    this.calls.push(opts);
    return Promise.resolve(this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)]!);
  }
  embed() { return Promise.resolve([]); }
  dispose() { return Promise.resolve(); }
}

describe('schemaProblem', () => {
  it('accepts a conforming value and names what is wrong otherwise', () => {
    expect(schemaProblem('{"statements":["a"]}', SCHEMA)).toEqual({ value: { statements: ['a'] }, problem: '' });
    expect(schemaProblem('{"statements":', SCHEMA).problem).toMatch(/^not JSON/);
    expect(schemaProblem('{"statements":[]}', SCHEMA).problem).toMatch(/\/statements must NOT have fewer than 1 items/);
    expect(schemaProblem('{"statements":["a"],"x":1}', SCHEMA).problem).toMatch(/additional properties/);
  });
});

describe('generateJson with a scripted model', () => {
  it('returns the first conforming answer and its attempt count', async () => {
    const lm = new ScriptedModel(['{"statements": [', '{"statements": []}', '{"statements": ["Lymphovascular invasion."]}']);
    const r = await generateJson<{ statements: string[] }>(lm, 'p', SCHEMA, { seed: 5, maxTokens: 64 });
    expect(r.value.statements).toEqual(['Lymphovascular invasion.']);
    expect(r.attempts).toBe(3);
    // the first call is as asked; retries change the seed and sample
    expect(lm.calls.map((c) => [c.seed, c.temperature, c.maxTokens, c.jsonSchema === SCHEMA])).toEqual([
      [5, undefined, 64, true], [6, 0.7, 64, true], [7, 0.7, 64, true],
    ]);
  });

  it('never returns a non-conforming answer: after the retries it throws with every answer', async () => {
    const lm = new ScriptedModel(['{"statements": []}']);
    const err = await generateJson(lm, 'p', SCHEMA, { retries: 1 }, 'case 3A_001').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonConformingAnswerError);
    expect((err as Error).message).toMatch(/^case 3A_001: the language model 'scripted' gave no answer that conforms to the JSON schema in 2 attempts/);
    expect((err as NonConformingAnswerError).answers).toHaveLength(2);
    expect(lm.calls).toHaveLength(2);
  });
});

describe('generateJson with the real llama.cpp runtime', () => {
  let dir: string;
  let lm: LlamaCppModel;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmsurv-genjson-'));
    const { path } = await writeTinyGguf(join(dir, 'tiny.gguf'), { seed: 3 });
    lm = new LlamaCppModel({ type: 'llama-cpp', model: path, contextSize: 1024, threads: 1, gpu: false });
    await lm.load();
  }, 60_000);
  afterAll(async () => {
    await lm?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives schema-valid values for several prompts', async () => {
    for (const prompt of ['Refine: high-grade urothelial carcinoma with lamina propria invasion.', 'Refine: small low-grade papillary tumour.']) {
      const r = await generateJson<{ statements: string[] }>(lm, prompt, SCHEMA, { maxTokens: 160 });
      expect(schemaProblem(r.text, SCHEMA).problem).toBe('');
      expect(r.value.statements.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('reports an answer cut short by maxTokens instead of using it', async () => {
    await expect(generateJson(lm, 'Refine: carcinoma.', SCHEMA, { maxTokens: 3, retries: 1 })).rejects.toThrow(/gave no answer that conforms .* in 2 attempts .*not JSON/);
  });
});
