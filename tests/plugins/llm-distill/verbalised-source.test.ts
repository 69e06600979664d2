/**
 * The student's verbalised source: the teacher's schema and kind of prompt, plus fixed in-context examples; answers
 * from the REAL tiny GGUF model (tests/support/tiny-gguf.ts).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import type { BuildContext } from '../../../core/contracts/component.js';
import type { MemoryLogger } from '../../../core/services/logger.js';
import type { AnswerSource } from '../../../plugins/llm-distill/answer-source.js';
import { readAnswerText } from '../../../plugins/llm-distill/teacher-answer.js';
import { DEFAULT_ANSWER_PROMPT } from '../../../plugins/llm-distill/teacher-source.js';
import { verbalisedSourceSpec, type VerbalisedSourceOptions } from '../../../plugins/llm-distill/verbalised-source.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { tinyLlm, type TinyLlm } from '../../support/tiny-llm.js';

let llm: TinyLlm;
let ctx: BuildContext & { memory: MemoryLogger };

beforeAll(async () => {
  llm = await tinyLlm({ seed: 2, name: 'student' });
  ctx = llm.context('knowledge.verbalised');
});

afterAll(async () => {
  await llm?.close();
});

const verbalised = (o: Partial<VerbalisedSourceOptions> = {}) =>
  verbalisedSourceSpec.create(optionsWithDefaults(verbalisedSourceSpec, o), ctx) as AnswerSource;

const EXAMPLES = [
  { text: 'Report: low-grade papillary tumour, pTa.\n- age: 64', answer: { survival: [0.95, 0.9, 0.85, 0.8], explanation: 'Low grade, non-invasive.' } },
  { text: 'Report: high-grade carcinoma, pT1, LVI.', answer: { survival: [0.7, 0.5, 0.4, 0.3], explanation: 'High grade with LVI.' } },
];
const patient: Case = { id: 'P1', texts: { report: 'High-grade urothelial carcinoma, pT1.' }, clinical: { age: 70 } };

describe('llm-distill.verbalised', () => {
  it('has a conforming options schema: the student model, the teacher prompt after {examples}, zero-shot by default', () => {
    expect(schemaProblems(verbalisedSourceSpec)).toEqual([]);
    const o = optionsWithDefaults(verbalisedSourceSpec);
    expect(o.llm).toBe('student');
    expect(o.prompt).toBe(`{examples}${DEFAULT_ANSWER_PROMPT}`);
    expect(o.examples).toEqual([]);
    expect(verbalised().id).toBe('llm-distill.verbalised');
  });

  it('zero-shot: {examples} is empty, the rest is the teacher prompt', () => {
    const s = verbalised();
    const prompt = s.promptFor(s.caseContent(patient));
    expect(prompt.startsWith('You are an experienced oncologist.')).toBe(true);
    expect(prompt).toContain('High-grade urothelial carcinoma, pT1.');
    expect(prompt).toContain('- age: 70');
  });

  it('puts the fixed examples, in order, with their answers as JSON, before the case', () => {
    const s = verbalised({ examples: EXAMPLES, prompt: '{examples}Case: {report}' });
    expect(s.promptFor(s.caseContent(patient))).toBe(
      'Examples of cases and their answers:\n\n' +
      'Example 1:\nReport: low-grade papillary tumour, pTa.\n- age: 64\nAnswer: {"survival":[0.95,0.9,0.85,0.8],"explanation":"Low grade, non-invasive."}\n\n' +
      'Example 2:\nReport: high-grade carcinoma, pT1, LVI.\nAnswer: {"survival":[0.7,0.5,0.4,0.3],"explanation":"High grade with LVI."}\n\n' +
      'Now the case to assess.\n\nCase: High-grade urothelial carcinoma, pT1.');
  });

  it('checks the examples against the answer schema and the template', () => {
    expect(() => verbalised({ examples: [{ text: 'x', answer: { survival: [0.9, 0.8], explanation: '' } }] }))
      .toThrow(/knowledge.verbalised.examples\[0\].answer: expected a survival answer .*fewer than 4 items/);
    expect(() => verbalised({ examples: EXAMPLES, prompt: 'Case: {report}' })).toThrow(/2 examples are configured but the template has no \{examples\} placeholder/);
    expect(() => optionsWithDefaults(verbalisedSourceSpec, { examples: new Array(9).fill(EXAMPLES[0]) })).toThrow(/must NOT have more than 8 items/);
  });

  it('the real tiny model answers with one verbalised text in the answer schema', async () => {
    for (const s of [verbalised(), verbalised({ examples: EXAMPLES })]) {
      const texts = await s.textsFor(patient);
      expect(texts.map((t) => [t.role, t.field])).toEqual([['verbalised', 'verbalised']]);
      const answer = readAnswerText(texts[0]!.text, 'verbalised text');
      expect(answer.survival).toHaveLength(4);
      for (const p of answer.survival) expect(p >= 0 && p <= 1).toBe(true);
    }
  });

  it('cacheIdentity changes with the examples', async () => {
    const zero = await verbalised().cacheIdentity();
    const few = await verbalised({ examples: EXAMPLES }).cacheIdentity();
    const other = await verbalised({ examples: EXAMPLES.slice(0, 1) }).cacheIdentity();
    expect(few.model).toBe(zero.model);
    expect(new Set([zero.prompt, few.prompt, other.prompt]).size).toBe(3);
  });
});
