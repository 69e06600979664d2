import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { NonConformingAnswerError, schemaProblem } from '../../../core/llm/generate-json.js';
import { attachKnowledge, type KnowledgeStats } from '../../../core/train/prepare-cases.js';
import { BUILT_IN_BACKGROUND, cancerTypeKey } from '../../../plugins/kemm/background-facts.js';
import {
  BackgroundSource, backgroundSpec, DEFAULT_BACKGROUND_PROMPT, factsSchema, type BackgroundOptions,
} from '../../../plugins/kemm/background-source.js';
import { testContext } from '../../support/context.js';
import { schemaDefaults } from '../../support/fusion-checks.js';
import { tinyLlm, type TinyLlm } from '../../support/tiny-llm.js';

const bladderFacts = BUILT_IN_BACKGROUND.find((b) => b.cancerType === 'bladder cancer')!.facts;

const make = (options: Partial<BackgroundOptions> = {}) => {
  const ctx = testContext('knowledge.background');
  return { s: new BackgroundSource(options, ctx), memory: ctx.memory };
};
const textsOf = async (s: BackgroundSource, c: Case) => (await s.textsFor(c)).map((t) => t.text);

describe('kemm.background without an LLM', () => {
  it('options: {} is valid with the defaults (no model needed)', () => {
    expect(schemaDefaults(backgroundSpec.optionsSchema)).toEqual({
      cancerType: 'bladder cancer', llm: null, prompt: DEFAULT_BACKGROUND_PROMPT, facts: 4, texts: {}, maxTokens: 256, temperature: 0, seed: 0,
    });
    const { s } = make();
    expect(s.id).toBe('kemm.background');
    expect(s.needsLanguageModel).toBe(false);
  });

  it('gives the built-in bladder-cancer facts as pbk texts, for the aliases of meta.cancerType and the default type', async () => {
    expect(bladderFacts.length).toBeGreaterThanOrEqual(4);
    expect(bladderFacts.length).toBeLessThanOrEqual(6);
    const { s } = make();
    const expected = bladderFacts.map((text) => ({ role: 'pbk', text }));
    expect(await s.textsFor({ id: 'a' })).toEqual(expected);
    for (const type of ['bladder', 'Bladder  Cancer', ' urothelial carcinoma ', 'NMIBC']) {
      expect(await s.textsFor({ id: 'b', meta: { cancerType: type } }), type).toEqual(expected);
    }
    // a blank meta type falls back to the option
    expect(await s.textsFor({ id: 'c', meta: { cancerType: '  ' } })).toEqual(expected);
    for (const fact of bladderFacts) expect(fact).toMatch(/^[A-Z].{20,200}\.$/);
  });

  it('texts override and add cancer types (keys compared in lower case, spaces collapsed)', async () => {
    const { s, memory } = make({
      cancerType: 'Kidney cancer',
      texts: { 'kidney  CANCER': ['Higher nuclear grade predicts worse survival.', '  Sarcomatoid   features are adverse. '], bladder: ['Own bladder fact.'] },
    });
    expect(await textsOf(s, { id: 'k' })).toEqual(['Higher nuclear grade predicts worse survival.', 'Sarcomatoid features are adverse.']);
    expect(await textsOf(s, { id: 'b', meta: { cancerType: 'bladder' } })).toEqual(['Own bladder fact.']);
    // the built-in facts still serve the other bladder aliases
    expect(await textsOf(s, { id: 'u', meta: { cancerType: 'urothelial carcinoma' } })).toEqual([...bladderFacts]);
    expect(await textsOf(make({ texts: { bladder: [] } }).s, { id: 'none', meta: { cancerType: 'bladder' } })).toEqual([]);
    expect(memory.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('an unknown cancer type gives no texts and one warning per type', async () => {
    const { s, memory } = make();
    expect(await s.textsFor({ id: '1', meta: { cancerType: 'Prostate cancer' } })).toEqual([]);
    expect(await s.textsFor({ id: '2', meta: { cancerType: 'prostate cancer' } })).toEqual([]);
    expect(await s.textsFor({ id: '3', meta: { cancerType: 'lung' } })).toEqual([]);
    const warnings = memory.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("knowledge.background: no prognostic background knowledge for cancer type 'prostate cancer' (built in: bladder cancer (bladder,");
    expect(warnings[0]).toContain('Add "texts": { "prostate cancer": ["..."] } or name a model in knowledge.background.llm.');
    expect(warnings[1]).toContain("cancer type 'lung'");
  });

  it('caseContent is the normalised cancer type only: never the label, clinical record or texts', () => {
    const { s } = make();
    const c: Case = { id: 'x', label: { time: 5, event: true }, clinical: { age: 60 }, texts: { report: 'High grade.' }, meta: { cancerType: ' Bladder ', cohort: '3A' } };
    expect(s.caseContent(c)).toEqual({ cancerType: 'bladder' });
    expect(s.caseContent({ id: 'y' })).toEqual({ cancerType: 'bladder cancer' });
    expect(cancerTypeKey('  Urothelial \t Carcinoma ')).toBe('urothelial carcinoma');
  });

  it('errors teach: prompt placeholders, duplicate or blank types, bad counts', async () => {
    expect(() => make({ prompt: 'Facts please.' })).toThrow('knowledge.background.prompt: expected the placeholder {cancerType} in the prompt template, found none');
    expect(() => make({ prompt: 'Facts on {cancerType} for {report}.' })).toThrow('knowledge.background.prompt: unknown placeholder {report}; expected only {cancerType}, {count}');
    expect(() => make({ texts: { Bladder: ['a fact'], ' bladder': ['another'] } })).toThrow(
      'knowledge.background.texts[" bladder"]: the same cancer type as "Bladder" (types compare in lower case, spaces collapsed); merge the two lists',
    );
    expect(() => make({ texts: { bladder: ['  '] } })).toThrow('knowledge.background.texts["bladder"]: expected a list of non-blank sentences');
    expect(() => make({ facts: 0 })).toThrow('knowledge.background.facts: expected a positive integer (facts asked of the LLM), found 0');
    expect(() => make({ cancerType: ' ' })).toThrow('knowledge.background.cancerType: expected the cancer type of cases without meta.cancerType');
    await expect(make().s.cacheIdentity()).rejects.toThrow('knowledge.background: cacheIdentity needs a language model, but llm is null');
  });

  it('the facts schema: 1..facts strings', () => {
    expect(schemaProblem('{"facts": ["High grade predicts progression."]}', factsSchema(2)).problem).toBe('');
    expect(schemaProblem('{"facts": []}', factsSchema(2)).problem).not.toBe('');
    expect(schemaProblem('{"facts": ["One fact.", "Two facts.", "Three facts."]}', factsSchema(2)).problem).not.toBe('');
  });
});

describe('kemm.background with a local LLM (tiny GGUF, llama.cpp)', () => {
  let llm: TinyLlm;
  const withLlm = (options: Partial<BackgroundOptions> = {}) => new BackgroundSource({ llm: 'tiny', ...options }, llm.context('knowledge.background'));

  beforeAll(async () => {
    llm = await tinyLlm();
  }, 30_000);
  afterAll(async () => {
    await llm?.close();
  });

  it('asks once per cancer type for schema-valid facts, each a pbk text', async () => {
    const s = withLlm({ facts: 3 });
    expect(s.needsLanguageModel).toBe(true);
    expect(s.promptFor('bladder')).toContain('Write 3 concise facts of prognostic background knowledge about bladder:');
    const calls = llm.models.calls.generate;
    const a = await s.textsFor({ id: 'a', meta: { cancerType: 'Bladder' } });
    const b = await s.textsFor({ id: 'b', meta: { cancerType: 'bladder' } });
    expect(llm.models.calls.generate - calls).toBeGreaterThanOrEqual(1);
    const afterOne = llm.models.calls.generate;
    expect(b).toEqual(a);
    expect(a.length).toBeGreaterThanOrEqual(1);
    expect(a.length).toBeLessThanOrEqual(3);
    for (const t of a) {
      expect(t.role).toBe('pbk');
      expect(t.text.length).toBeGreaterThan(0);
      expect(t.text.length).toBeLessThanOrEqual(300);
    }
    expect(await s.textsFor({ id: 'c', meta: { cancerType: 'bladder' } })).toEqual(a);
    expect(llm.models.calls.generate).toBe(afterOne);
    // own texts win over the LLM
    const own = withLlm({ texts: { bladder: ['Own fact.'] } });
    expect(await textsOf(own, { id: 'd', meta: { cancerType: 'bladder' } })).toEqual(['Own fact.']);
    expect(llm.models.calls.generate).toBe(afterOne);
  });

  it('cacheIdentity changes with the prompt, the count, the settings and the own texts', async () => {
    const base = await withLlm().cacheIdentity();
    expect(base.model).toBe(await llm.models.identify('tiny'));
    expect(await withLlm({ cancerType: 'kidney cancer' }).cacheIdentity()).toEqual(base);
    for (const changed of [{ prompt: 'Facts about {cancerType}.' }, { facts: 5 }, { maxTokens: 128 }, { seed: 2 }, { texts: { kidney: ['Own fact.'] } }]) {
      expect((await withLlm(changed).cacheIdentity()).prompt, JSON.stringify(changed)).not.toBe(base.prompt);
    }
  });

  it('through the knowledge cache: one answer per cancer type, later builds read it', async () => {
    const cacheDir = join(llm.dir, 'knowledge-cache');
    const cases: Case[] = Array.from({ length: 4 }, (_, i) => ({ id: `c${i}`, label: { time: i + 1, event: i % 2 === 0 }, meta: { cancerType: i < 3 ? 'bladder' : 'Bladder ' } }));
    const run = async () => {
      const stats: KnowledgeStats = { sources: [] };
      const s = withLlm({ maxTokens: 160 });
      const out = await attachKnowledge(cases, [s], llm.context('knowledge.background').container, { cacheDir, stats });
      return { out, stats: stats.sources[0]! };
    };
    const first = await run();
    expect([first.stats.computed, first.stats.cached]).toEqual([1, 3]);
    for (const c of first.out) expect(c.knowledge).toEqual(first.out[0]!.knowledge);
    const calls = llm.models.calls.generate;
    const second = await run();
    expect([second.stats.computed, second.stats.cached]).toEqual([0, 4]);
    expect(llm.models.calls.generate).toBe(calls);
  });

  it('a non-conforming answer is an error naming the cancer type, and is not remembered', async () => {
    const s = withLlm({ maxTokens: 2 });
    const err = await s.textsFor({ id: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonConformingAnswerError);
    expect((err as Error).message).toMatch(/^background knowledge for 'bladder cancer': the language model 'gguf:[0-9a-f]{16}' gave no answer/);
    const calls = llm.models.calls.generate;
    await expect(s.textsFor({ id: 'y' })).rejects.toBeInstanceOf(NonConformingAnswerError);
    expect(llm.models.calls.generate - calls).toBe(3);
  });
});
