/**
 * 'llm-distill.teacher': the teacher LLM's verbalised survival (Gogl & Yau: a 32B reasoning model reads the pathology
 * report and the tabular covariates and writes a prognosis with survival probabilities at stated times). One
 * knowledge text per case, role and field 'teacher', text = the canonical answer JSON { horizons, survival,
 * explanation } (teacher-answer.ts); the student head (student-head.ts) distils toward its exponential curve.
 * Prompting, validation and caching: answer-source.ts. Placeholders: {report}, {covariates}, {horizons}.
 *
 * @example
 * "llm": { "teacher": { "type": "llama-cpp", "model": "models/teacher.gguf" } },
 * "knowledge": { "teacher": { "type": "llm-distill.teacher", "llm": "teacher", "covariates": ["age", "pT_stage"] } }
 */
import type { ComponentSpec } from '../../core/contracts/component.js';
import { AnswerSource, answerSourceProperties, type AnswerSourceOptions } from './answer-source.js';

/** The default prompt: a prognosis with probabilities at the horizons and a short explanation. */
export const DEFAULT_ANSWER_PROMPT =
  'You are an experienced oncologist. Read the pathology report and the clinical covariates of a cancer patient and give a prognosis.\n\n' +
  'Pathology report:\n{report}\n\n' +
  'Clinical covariates:\n{covariates}\n\n' +
  'Answer in JSON. "survival": the probabilities (numbers from 0 to 1, not increasing) that the patient is event-free {horizons} ' +
  'after diagnosis, in that order. "explanation": the main prognostic factors in one or two sentences (at most 300 characters).';

export const teacherSourceSpec: ComponentSpec<'knowledge', AnswerSourceOptions> = {
  id: 'llm-distill.teacher',
  description: "Teacher LLM's verbalised survival: probabilities at stated months and a short explanation, from the report and covariates (JSON, schema-checked)",
  optionsSchema: {
    type: 'object',
    properties: answerSourceProperties({ llm: 'teacher', prompt: DEFAULT_ANSWER_PROMPT }),
    additionalProperties: false,
  },
  create: (options, ctx) => new AnswerSource({ id: 'llm-distill.teacher', role: 'teacher', placeholders: ['report', 'covariates', 'horizons'], examples: [] }, options, ctx),
};
