/**
 * 'llm-distill.verbalised': the student LLM's own verbalised survival (Gogl & Yau, pathway 2), asked with the same
 * kind of prompt and the same answer schema as the teacher (teacher-source.ts), plus up to 8 fixed in-context
 * examples from the config (`examples`: [{ text, answer: { survival, explanation } }], zero-shot when empty). One
 * knowledge text per case, role and field 'verbalised'; the student head combines its exponential curve with the
 * hidden-state curve at prediction (student-head.ts, option `combine`).
 * Choice here: the examples are fixed; the paper-like choice of the nearest training cases' teacher answers as
 * examples (per case, by embedding similarity, training cases only) is a later step.
 * Placeholders: {examples}, {report}, {covariates}, {horizons}.
 *
 * @example
 * "knowledge": { "verbalised": { "type": "llm-distill.verbalised", "llm": "student", "examples": [
 *   { "text": "Report: low-grade papillary tumour, pTa.\nCovariates: age 64", "answer": { "survival": [0.95, 0.9, 0.85, 0.8], "explanation": "Low grade, non-invasive." } } ] } }
 */
import type { ComponentSpec } from '../../core/contracts/component.js';
import { AnswerSource, answerSourceProperties, type AnswerExample, type AnswerSourceOptions } from './answer-source.js';
import { checkHorizons, parseAnswer } from './teacher-answer.js';
import { DEFAULT_ANSWER_PROMPT } from './teacher-source.js';

export interface VerbalisedSourceOptions extends AnswerSourceOptions {
  examples: AnswerExample[];
}

/** Most in-context examples (they share the student's context window with the case). */
export const MAX_EXAMPLES = 8;

export const verbalisedSourceSpec: ComponentSpec<'knowledge', VerbalisedSourceOptions> = {
  id: 'llm-distill.verbalised',
  description: "Student LLM's own verbalised survival (same schema and kind of prompt as the teacher, optional fixed in-context examples), combined with the hidden-state curve at prediction",
  optionsSchema: {
    type: 'object',
    properties: {
      ...answerSourceProperties({ llm: 'student', prompt: `{examples}${DEFAULT_ANSWER_PROMPT}` }),
      examples: {
        type: 'array',
        maxItems: MAX_EXAMPLES,
        default: [],
        description: 'Fixed in-context examples put in {examples}: [{ "text": case as text, "answer": { "survival": [...], "explanation": "..." } }] (empty: zero-shot)',
        items: {
          type: 'object',
          properties: {
            text: { type: 'string', minLength: 1, description: 'The example case as the model should read it (report and covariates)' },
            answer: {
              type: 'object',
              description: 'Its answer in the answer schema: one probability per horizon and an explanation',
              properties: {
                survival: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, description: 'Probabilities of being event-free at the horizons' },
                explanation: { type: 'string', description: 'A short explanation (at most 300 characters)' },
              },
              required: ['survival', 'explanation'],
              additionalProperties: false,
            },
          },
          required: ['text', 'answer'],
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => {
    const { examples, ...rest } = options;
    const horizons = checkHorizons(rest.horizons, `${ctx.path}.horizons`);
    // Each example must be a valid answer for these horizons (same length, same schema).
    const checked = examples.map((e, i) => {
      parseAnswer(JSON.stringify(e.answer), horizons, `${ctx.path}.examples[${i}].answer`);
      return e;
    });
    return new AnswerSource({ id: 'llm-distill.verbalised', role: 'verbalised', placeholders: ['examples', 'report', 'covariates', 'horizons'], examples: checked }, rest, ctx);
  },
};
