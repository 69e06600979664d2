import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { NonConformingAnswerError, schemaProblem } from '../../../core/llm/generate-json.js';
import { attachKnowledge, type KnowledgeStats } from '../../../core/train/prepare-cases.js';
import {
  DEFAULT_REPORT_PROMPT, ExpertReportSource, expertReportSpec, statementsSchema, type ExpertReportOptions,
} from '../../../plugins/kemm/expert-report-source.js';
import { testContext } from '../../support/context.js';
import { schemaDefaults } from '../../support/fusion-checks.js';
import { tinyLlm, type TinyLlm } from '../../support/tiny-llm.js';

const REPORT = 'High-grade papillary urothelial carcinoma with lamina propria invasion (pT1).  Lymphovascular invasion is\n' +
  'identified. Concomitant carcinoma in situ. Detrusor muscle is present and free of tumour. Margins cannot be assessed.';

const patient: Case = {
  id: '3A_001',
  label: { time: 12.5, event: true },
  clinical: { age: 71, sex: 'Male', LVI: 'Yes' },
  texts: { report: REPORT, notes: 'Seen in clinic on 2021-03-04.' },
  meta: { cancerType: 'bladder', cohort: '3A' },
};

const source = (options: Partial<ExpertReportOptions> = {}) => new ExpertReportSource(options, testContext('knowledge.report'));

describe('kemm.expert-report without an LLM', () => {
  it('options: {} is valid with the defaults (no model needed)', () => {
    expect(schemaDefaults(expertReportSpec.optionsSchema)).toEqual({
      report: 'report', llm: null, prompt: DEFAULT_REPORT_PROMPT, maxStatements: 4, maxTokens: 192, temperature: 0, seed: 0,
    });
    expect(expertReportSpec.id).toBe('kemm.expert-report');
    const s = source();
    expect(s.id).toBe('kemm.expert-report');
    expect(s.needsLanguageModel).toBe(false);
  });

  it('gives the report\'s sentences, whitespace-normalised, at most maxStatements, as report texts', async () => {
    expect(await source().textsFor(patient)).toEqual([
      { role: 'report', field: 'report', text: 'High-grade papillary urothelial carcinoma with lamina propria invasion (pT1).' },
      { role: 'report', field: 'report', text: 'Lymphovascular invasion is identified.' },
      { role: 'report', field: 'report', text: 'Concomitant carcinoma in situ.' },
      { role: 'report', field: 'report', text: 'Detrusor muscle is present and free of tumour.' },
    ]);
    expect((await source({ maxStatements: 2 }).textsFor(patient)).map((t) => t.text)).toEqual([
      'High-grade papillary urothelial carcinoma with lamina propria invasion (pT1).', 'Lymphovascular invasion is identified.',
    ]);
    expect(await source({ maxStatements: 10 }).textsFor(patient)).toHaveLength(5);
    expect(await source({ report: 'notes' }).textsFor(patient)).toEqual([{ role: 'report', field: 'notes', text: 'Seen in clinic on 2021-03-04.' }]);
  });

  it('a missing or blank report gives no texts', async () => {
    const variants: (Record<string, string> | undefined)[] = [undefined, {}, { report: '' }, { report: ' \n\t ' }, { other: 'High grade.' }];
    for (const texts of variants) {
      expect(await source().textsFor({ id: 'x', ...(texts ? { texts } : {}) })).toEqual([]);
    }
  });

  it('caseContent is the report text only: never the label, clinical record, meta or other texts', () => {
    const s = source();
    expect(s.caseContent(patient)).toEqual({ report: REPORT.trim() });
    const other: Case = { ...patient, id: 'other', label: { time: 99, event: false }, clinical: {}, meta: {}, texts: { report: REPORT } };
    expect(s.caseContent(other)).toEqual(s.caseContent(patient));
    expect(s.caseContent({ id: 'none' })).toEqual({ report: '' });
    expect(source({ report: 'notes' }).caseContent(patient)).toEqual({ report: 'Seen in clinic on 2021-03-04.' });
  });

  it('errors teach: a prompt without {report} or with an unknown placeholder, bad numbers, identity without a model', async () => {
    expect(() => source({ prompt: 'Summarise the case.' })).toThrow('knowledge.report.prompt: expected the placeholder {report} in the prompt template, found none');
    expect(() => source({ prompt: 'Summarise {report} for {patient}.' })).toThrow('knowledge.report.prompt: unknown placeholder {patient}; expected only {report}, {maxStatements}');
    expect(() => source({ maxStatements: 0 })).toThrow('knowledge.report.maxStatements: expected a positive integer, found 0');
    expect(() => source({ llm: '' })).toThrow("knowledge.report.llm: expected the name of a model of the config's `llm` section, or null");
    await expect(source().cacheIdentity()).rejects.toThrow('knowledge.report: cacheIdentity needs a language model, but llm is null');
    // an LLM source in a run without LLM services
    await expect(source({ llm: 'tiny' }).textsFor(patient)).rejects.toThrow('knowledge.report: needs a language model, but this run has no LLM services');
  });

  it('the statements schema: 1..maxStatements strings of 3..200 characters', () => {
    const schema = statementsSchema(2);
    expect(schemaProblem('{"statements": ["High grade.", "LVI present."]}', schema).problem).toBe('');
    expect(schemaProblem('{"statements": []}', schema).problem).not.toBe('');
    expect(schemaProblem('{"statements": ["a", "High grade."]}', schema).problem).not.toBe('');
    expect(schemaProblem('{"statements": ["One.", "Two.", "Three."]}', schema).problem).not.toBe('');
    expect(schemaProblem(`{"statements": ["${'x'.repeat(201)}"]}`, schema).problem).not.toBe('');
    expect(schemaProblem('{"statements": ["High grade."], "extra": 1}', schema).problem).not.toBe('');
  });
});

describe('kemm.expert-report with a local LLM (tiny GGUF, llama.cpp)', () => {
  let llm: TinyLlm;
  const withLlm = (options: Partial<ExpertReportOptions> = {}) => new ExpertReportSource({ llm: 'tiny', ...options }, llm.context('knowledge.report'));

  beforeAll(async () => {
    llm = await tinyLlm();
  }, 30_000);
  afterAll(async () => {
    await llm?.close();
  });

  it('refines a report into schema-valid statements, each one report text; deterministic at temperature 0', async () => {
    const s = withLlm({ maxStatements: 3 });
    expect(s.needsLanguageModel).toBe(true);
    const calls = llm.models.calls.generate;
    const texts = await s.textsFor(patient);
    expect(texts.length).toBeGreaterThanOrEqual(1);
    expect(texts.length).toBeLessThanOrEqual(3);
    for (const t of texts) {
      expect(t.role).toBe('report');
      expect(t.field).toBe('report');
      expect(typeof t.text).toBe('string');
      expect(t.text.length).toBeGreaterThan(0);
      expect(t.text.length).toBeLessThanOrEqual(200);
      expect(t.text).toBe(t.text.replace(/\s+/g, ' ').trim());
    }
    expect(await s.textsFor(patient)).toEqual(texts);
    expect(llm.models.calls.generate - calls).toBeGreaterThanOrEqual(2);
    // a blank report never reaches the model
    const before = llm.models.calls.generate;
    expect(await s.textsFor({ id: 'blank', texts: { report: '   ' } })).toEqual([]);
    expect(llm.models.calls.generate).toBe(before);
  });

  it('the prompt holds the report and the limit', () => {
    const s = withLlm({ prompt: 'At most {maxStatements} statements for: {report}', maxStatements: 5 });
    expect(s.promptFor('High grade.')).toBe('At most 5 statements for: High grade.');
    expect(withLlm().promptFor('LVI present.')).toContain('Report:\nLVI present.');
  });

  it('cacheIdentity: the model id, and a prompt identity that changes with the template, schema and settings', async () => {
    const base = await withLlm().cacheIdentity();
    expect(base.model).toMatch(/^gguf:[0-9a-f]{16}$/);
    expect(base.model).toBe(await llm.models.identify('tiny'));
    expect(await withLlm().cacheIdentity()).toEqual(base);
    expect(await withLlm({ report: 'notes' }).cacheIdentity()).toEqual(base);
    for (const changed of [{ prompt: `${DEFAULT_REPORT_PROMPT}\nBe brief.` }, { maxStatements: 3 }, { maxTokens: 100 }, { temperature: 0.5 }, { seed: 1 }]) {
      const id = await withLlm(changed).cacheIdentity();
      expect(id.model).toBe(base.model);
      expect(id.prompt, JSON.stringify(changed)).not.toBe(base.prompt);
    }
  });

  it('an answer that can never conform (maxTokens 2) is a NonConformingAnswerError; the knowledge step adds the case id', async () => {
    const s = withLlm({ maxTokens: 2 });
    const err = await s.textsFor(patient).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonConformingAnswerError);
    expect((err as Error).message).toMatch(/^refining the expert report: the language model 'gguf:[0-9a-f]{16}' gave no answer that conforms to the JSON schema in 3 attempts/);
    expect((err as NonConformingAnswerError).answers).toHaveLength(3);
    const ctx = llm.context('knowledge.report');
    await expect(attachKnowledge([patient], [s], ctx.container, { cacheDir: null })).rejects.toThrow(
      /^knowledge\.kemm\.expert-report \(kemm\.expert-report\), case 3A_001: refining the expert report: the language model .* raise maxTokens/,
    );
  });

  it('a model name the llm section lacks is named with the section\'s models', async () => {
    await expect(withLlm({ llm: 'teacher' }).textsFor(patient)).rejects.toThrow(
      "knowledge.report.llm: names the language model 'teacher', but the config's `llm` section has only 'tiny'",
    );
  });

  it('through the knowledge cache: computed once per report, then read (no LLM call), label never seen', async () => {
    const cacheDir = join(llm.dir, 'knowledge-cache');
    const s = withLlm({ maxStatements: 2 });
    const cases: Case[] = [patient, { ...patient, id: 'same-report', label: { time: 3, event: false } }, { id: 'no-report' }];
    const run = async () => {
      const stats: KnowledgeStats = { sources: [] };
      const calls = llm.models.calls.generate;
      const out = await attachKnowledge(cases, [s], llm.context('knowledge.report').container, { cacheDir, stats });
      return { out, stats: stats.sources[0]!, calls: llm.models.calls.generate - calls };
    };
    const first = await run();
    // the two cases share a report: the second is a cache hit
    expect([first.stats.computed, first.stats.cached]).toEqual([2, 1]);
    expect(first.calls).toBeGreaterThanOrEqual(1);
    expect(first.out[1]!.knowledge).toEqual(first.out[0]!.knowledge);
    expect(first.out[2]!.knowledge).toEqual([]);
    const second = await run();
    expect([second.stats.computed, second.stats.cached, second.calls]).toEqual([0, 3, 0]);
    expect(second.out.map((c) => c.knowledge)).toEqual(first.out.map((c) => c.knowledge));
  });
});
