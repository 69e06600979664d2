/**
 * The teacher source against the REAL tiny GGUF model (tests/support/tiny-gguf.ts, run by node-llama-cpp): answers
 * parse as survival answers, and the knowledge cache keys (cacheIdentity, caseContent) change exactly when they must.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import type { BuildContext } from '../../../core/contracts/component.js';
import type { MemoryLogger } from '../../../core/services/logger.js';
import { attachKnowledge, type KnowledgeStats } from '../../../core/train/prepare-cases.js';
import { AnswerSource, covariateLines, horizonsPhrase, type AnswerSourceOptions } from '../../../plugins/llm-distill/answer-source.js';
import { readAnswerText } from '../../../plugins/llm-distill/teacher-answer.js';
import { DEFAULT_ANSWER_PROMPT, teacherSourceSpec } from '../../../plugins/llm-distill/teacher-source.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { tinyLlm, type TinyLlm } from '../../support/tiny-llm.js';

let llm: TinyLlm;
let ctx: BuildContext & { memory: MemoryLogger };

beforeAll(async () => {
  llm = await tinyLlm({ seed: 1, name: 'tiny' });
  ctx = llm.context('knowledge.teacher');
});

afterAll(async () => {
  await llm?.close();
});

const teacher = (o: Partial<AnswerSourceOptions> = {}) =>
  teacherSourceSpec.create(optionsWithDefaults(teacherSourceSpec, { llm: 'tiny', ...o }), ctx) as AnswerSource;

const patient: Case = {
  id: '3A_001',
  label: { time: 14, event: true },
  texts: { report: 'High-grade papillary urothelial carcinoma, invasive into lamina propria (pT1). Lymphovascular invasion present.', notes: 'follow-up' },
  clinical: { sex: 'Male', age: 71, LVI: 'Yes', BRS: null },
  rna: { genes: ['TP53'], values: Float32Array.from([1.5]) },
};

describe('llm-distill.teacher', () => {
  it('has a conforming options schema; defaults: llm teacher, report key "report", all covariates, 12/24/36/60 months, 160 tokens', () => {
    expect(schemaProblems(teacherSourceSpec)).toEqual([]);
    expect(optionsWithDefaults(teacherSourceSpec)).toEqual({
      llm: 'teacher', report: 'report', covariates: null, prompt: DEFAULT_ANSWER_PROMPT, horizons: [12, 24, 36, 60],
      maxTokens: 160, temperature: 0, seed: 0, onInvalid: 'skip',
    });
    const s = teacher();
    expect(s.id).toBe('llm-distill.teacher');
    expect(s.needsLanguageModel).toBe(true);
  });

  it('the real tiny model answers with one teacher text: horizons.length probabilities in [0, 1] and a short explanation', async () => {
    const s = teacher();
    const texts = await s.textsFor(patient);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.role).toBe('teacher');
    expect(texts[0]!.field).toBe('teacher');
    const answer = readAnswerText(texts[0]!.text, 'teacher text');
    expect(answer.horizons).toEqual([12, 24, 36, 60]);
    expect(answer.survival).toHaveLength(4);
    for (const p of answer.survival) expect(p >= 0 && p <= 1, `probability ${p}`).toBe(true);
    expect(answer.explanation.length).toBeLessThanOrEqual(300);
    // canonical: key order horizons, survival, explanation
    expect(Object.keys(JSON.parse(texts[0]!.text))).toEqual(['horizons', 'survival', 'explanation']);
    // greedy decoding: the same case gives the same text
    expect(await s.textsFor(patient)).toEqual(texts);
    const two = await teacher({ horizons: [6, 18] }).textsFor(patient);
    expect(readAnswerText(two[0]!.text, 'two horizons').survival).toHaveLength(2);
  });

  it('cacheIdentity: the GGUF id without loading, and a prompt identity that changes with the prompt and settings', async () => {
    const base = await teacher().cacheIdentity();
    expect(base.model).toBe(await llm.models.identify('tiny'));
    expect(base.model).toMatch(/^gguf:[0-9a-f]{16}$/);
    expect(await teacher().cacheIdentity()).toEqual(base);
    const changed = [
      await teacher({ prompt: `${DEFAULT_ANSWER_PROMPT} Be brief.` }).cacheIdentity(),
      await teacher({ horizons: [12, 24] }).cacheIdentity(),
      await teacher({ maxTokens: 100 }).cacheIdentity(),
      await teacher({ seed: 3 }).cacheIdentity(),
      await teacher({ covariates: ['age'] }).cacheIdentity(),
    ];
    for (const c of changed) {
      expect(c.model).toBe(base.model);
      expect(c.prompt).not.toBe(base.prompt);
    }
    expect(new Set(changed.map((c) => c.prompt)).size).toBe(changed.length);
  });

  it('caseContent is the report and the covariates used, never the label or other modalities', () => {
    expect(teacher().caseContent(patient)).toEqual({ report: patient.texts!['report'], covariates: { BRS: null, LVI: 'Yes', age: 71, sex: 'Male' } });
    expect(Object.keys(teacher().caseContent(patient).covariates)).toEqual(['BRS', 'LVI', 'age', 'sex']);
    expect(teacher({ covariates: ['age', 'grade'], report: 'notes' }).caseContent(patient)).toEqual({ report: 'follow-up', covariates: { age: 71, grade: null } });
    const unlabelled: Case = { ...patient, label: { time: 99, event: false }, rna: undefined };
    expect(teacher().caseContent(unlabelled)).toEqual(teacher().caseContent(patient));
  });

  it('fills the prompt: {report}, {covariates} as "- key: value" lines, {horizons}', () => {
    const s = teacher({ prompt: 'R: {report}\nC:\n{covariates}\nH: {horizons}' });
    expect(s.promptFor(s.caseContent(patient))).toBe(
      `R: ${patient.texts!['report']}\nC:\n- BRS: unknown\n- LVI: Yes\n- age: 71\n- sex: Male\nH: at 12, 24, 36 and 60 months`);
    expect(s.promptFor({ report: null, covariates: {} })).toBe('R: (no report)\nC:\n(none recorded)\nH: at 12, 24, 36 and 60 months');
    expect(horizonsPhrase([12])).toBe('at 12 months');
    expect(covariateLines({ a: 1, b: 'x' })).toBe('- a: 1\n- b: x');
  });

  it('gives no text (and makes no LLM call) for a case with neither a report nor a known covariate', async () => {
    const before = llm.models.calls.generate;
    expect(await teacher().textsFor({ id: 'empty', clinical: { age: null } })).toEqual([]);
    expect(llm.models.calls.generate).toBe(before);
  });

  it('skips (with a warning) or fails on an answer that never conforms, by onInvalid', async () => {
    // 16 tokens cannot hold four probabilities and an explanation: every attempt is truncated JSON.
    const before = ctx.memory.lines.length;
    expect(await teacher({ maxTokens: 16 }).textsFor(patient)).toEqual([]);
    const warnings = ctx.memory.lines.slice(before).filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/^knowledge.teacher, case 3A_001: the language model 'gguf:[0-9a-f]+' gave no answer that conforms .*onInvalid: 'skip'\)$/s);
    await expect(teacher({ maxTokens: 16, onInvalid: 'error' }).textsFor(patient)).rejects.toThrow(/knowledge.teacher, case 3A_001: .*no answer that conforms to the JSON schema in 3 attempts/);
  });

  it('explains bad templates', () => {
    expect(() => teacher({ prompt: 'Report: {report} {stage}' })).toThrow(/knowledge.teacher.prompt: unknown placeholder \{stage\}; expected only \{report\}, \{covariates\}, \{horizons\}/);
    expect(() => teacher({ prompt: 'Give a prognosis {horizons}.' })).toThrow(/uses neither \{report\} nor \{covariates\}/);
    expect(() => teacher({ prompt: 'R {report} {examples}' })).toThrow(/unknown placeholder \{examples\}/);
  });

  it('goes through the knowledge cache: a second build reads every answer and calls the model no more', async () => {
    const cacheDir = join(llm.dir, 'cache');
    const cases: Case[] = [patient, { ...patient, id: '3A_002', texts: { report: 'Low-grade papillary tumour, pTa.' } }];
    const first: KnowledgeStats = { sources: [] };
    const a = await attachKnowledge(cases, [teacher()], ctx.container, { cacheDir, stats: first });
    const calls = llm.models.calls.generate;
    const second: KnowledgeStats = { sources: [] };
    const b = await attachKnowledge(cases, [teacher()], ctx.container, { cacheDir, stats: second });
    expect(first.sources[0]).toMatchObject({ computed: 2, cached: 0 });
    expect(second.sources[0]).toMatchObject({ computed: 0, cached: 2 });
    expect(llm.models.calls.generate).toBe(calls);
    expect(b.map((c) => c.knowledge)).toEqual(a.map((c) => c.knowledge));
    const third: KnowledgeStats = { sources: [] };
    await attachKnowledge(cases, [teacher({ prompt: `${DEFAULT_ANSWER_PROMPT} Be brief.` })], ctx.container, { cacheDir, stats: third });
    expect(third.sources[0]).toMatchObject({ computed: 2, cached: 0 });
  });
});
