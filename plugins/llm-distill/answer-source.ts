/**
 * A KnowledgeSource that asks a language model for a verbalised survival answer (teacher-answer.ts) about a case:
 * the shared machinery of 'llm-distill.teacher' (teacher-source.ts) and 'llm-distill.verbalised'
 * (verbalised-source.ts).
 *
 * - What it reads (`caseContent`): the report text `Case.texts[report]` and the clinical covariates (all keys of
 *   `Case.clinical`, sorted, when `covariates` is null; else the listed keys in order, a missing key as null). Never
 *   the label (the trainer strips it anyway). A case with neither a report nor a known covariate gets no text.
 * - The prompt: `prompt` with {report}, {covariates} (one "- key: value" line each, "unknown" for null),
 *   {horizons} ("at 12, 24, 36 and 60 months") and, for sources with examples, {examples} (in-context examples,
 *   '' when there are none).
 * - The answer: `generateJson` (core/llm) constrains, parses, validates (answerSchema(horizons)) and retries;
 *   the text kept is the canonical answer JSON { horizons, survival, explanation } (answerText), role and field
 *   = the source's role. An answer that never conforms is skipped with a warning (`onInvalid` 'skip', the case
 *   then simply has no answer: the student head masks it) or fails the build ('error').
 * - `cacheIdentity`: the model id (LanguageModels.identify, no loading) and every option the text depends on
 *   (template, schema, horizons, generation settings, examples), so the knowledge cache misses when any changes.
 */
import type { Case, ClinicalValue } from '../../core/contracts/case.js';
import type { BuildContext } from '../../core/contracts/component.js';
import type { KnowledgeSource, KnowledgeText } from '../../core/contracts/knowledge-source.js';
import { generateJson, NonConformingAnswerError } from '../../core/llm/generate-json.js';
import { checkTemplate, fillTemplate, placeholdersOf } from '../../core/llm/prompt-template.js';
import { stableJson } from '../../core/llm/knowledge-cache.js';
import { languageModelsOf } from '../../core/llm/language-models.js';
import { answerSchema, answerText, checkHorizons, parseAnswer, type SurvivalAnswer } from './teacher-answer.js';

/** Options shared by the teacher and the verbalised source. */
export interface AnswerSourceOptions {
  llm: string;
  report: string;
  covariates: string[] | null;
  prompt: string;
  horizons: number[];
  maxTokens: number;
  temperature: number;
  seed: number;
  onInvalid: 'skip' | 'error';
}

/** A fixed in-context example: a case as text and its answer. */
export interface AnswerExample {
  text: string;
  answer: { survival: number[]; explanation: string };
}

/** The part of a case an answer depends on. */
export interface AnswerCaseContent {
  report: string | null;
  covariates: Record<string, ClinicalValue>;
}

export interface AnswerSourceDefinition {
  id: string;
  role: 'teacher' | 'verbalised';
  /** Placeholders the template may use. */
  placeholders: readonly string[];
  /** In-context examples ({examples}); empty for the teacher. */
  examples: readonly AnswerExample[];
}

/** "at 12, 24, 36 and 60 months" */
export function horizonsPhrase(horizons: readonly number[]): string {
  const parts = horizons.map(String);
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `at ${list} months`;
}

/** One "- key: value" line per covariate ("unknown" for null). */
export function covariateLines(covariates: Record<string, ClinicalValue>): string {
  const keys = Object.keys(covariates);
  if (keys.length === 0) return '(none recorded)';
  return keys.map((k) => `- ${k}: ${covariates[k] === null ? 'unknown' : String(covariates[k])}`).join('\n');
}

export class AnswerSource implements KnowledgeSource {
  readonly id: string;
  readonly needsLanguageModel = true;
  /** The teacher's answers are a training target only: prediction (and the container) never runs the teacher. */
  readonly trainingOnly: boolean;
  private readonly horizons: number[];
  private readonly schema: Record<string, unknown>;

  constructor(private readonly def: AnswerSourceDefinition, private readonly o: AnswerSourceOptions, private readonly ctx: BuildContext) {
    this.id = def.id;
    this.trainingOnly = def.role === 'teacher';
    this.horizons = checkHorizons(o.horizons, `${ctx.path}.horizons`);
    this.schema = answerSchema(this.horizons);
    checkTemplate(o.prompt, def.placeholders, [], `${ctx.path}.prompt`);
    const used = placeholdersOf(o.prompt);
    if (!used.has('report') && !used.has('covariates')) {
      throw new Error(`${ctx.path}.prompt: the template uses neither {report} nor {covariates}, so every case would get the same answer; found "${o.prompt.slice(0, 120)}"`);
    }
    if (def.examples.length > 0 && !used.has('examples')) {
      throw new Error(`${ctx.path}.prompt: ${def.examples.length} examples are configured but the template has no {examples} placeholder to put them in`);
    }
    if (o.covariates && new Set(o.covariates).size !== o.covariates.length) throw new Error(`${ctx.path}.covariates: a key is listed twice: ${JSON.stringify(o.covariates)}`);
  }

  caseContent(c: Case): AnswerCaseContent {
    const report = c.texts?.[this.o.report];
    const clinical = c.clinical ?? {};
    const keys = this.o.covariates ?? Object.keys(clinical).sort();
    const covariates: Record<string, ClinicalValue> = {};
    for (const k of keys) {
      const v = Object.hasOwn(clinical, k) ? clinical[k] : null;
      covariates[k] = v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v!;
    }
    return { report: typeof report === 'string' && report.trim() !== '' ? report.trim() : null, covariates };
  }

  /** The prompt for this case content. */
  promptFor(content: AnswerCaseContent): string {
    const vars: Record<string, string> = {
      report: content.report ?? '(no report)',
      covariates: covariateLines(content.covariates),
      horizons: horizonsPhrase(this.horizons),
      examples: this.examplesBlock(),
    };
    return fillTemplate(this.o.prompt, vars);
  }

  async cacheIdentity(): Promise<{ model: string; prompt: string }> {
    const where = `${this.ctx.path}.llm`;
    const model = await languageModelsOf(this.ctx.container, where).identify(this.o.llm, where);
    const { llm: _llm, ...settings } = this.o;
    return { model, prompt: stableJson({ source: this.id, role: this.def.role, schema: this.schema, examples: this.def.examples, ...settings }) };
  }

  async textsFor(c: Case): Promise<KnowledgeText[]> {
    const content = this.caseContent(c);
    if (content.report === null && Object.values(content.covariates).every((v) => v === null)) return [];
    const where = `${this.ctx.path}.llm`;
    const lm = await languageModelsOf(this.ctx.container, where).get(this.o.llm, where);
    const at = `${this.ctx.path}, case ${c.id}`;
    let answer: SurvivalAnswer;
    try {
      const { text } = await generateJson(lm, this.promptFor(content), this.schema,
        { maxTokens: this.o.maxTokens, temperature: this.o.temperature, seed: this.o.seed }, at);
      answer = parseAnswer(text, this.horizons, at);
    } catch (err) {
      if (err instanceof NonConformingAnswerError && this.o.onInvalid === 'skip') {
        this.ctx.logger.warn(`${(err as Error).message}; this case gets no ${this.def.role} answer (onInvalid: 'skip')`);
        return [];
      }
      throw err;
    }
    return [{ role: this.def.role, field: this.def.role, text: answerText(answer) }];
  }

  private examplesBlock(): string {
    if (this.def.examples.length === 0) return '';
    const blocks = this.def.examples.map((e, i) => `Example ${i + 1}:\n${e.text.trim()}\nAnswer: ${JSON.stringify({ survival: e.answer.survival, explanation: e.answer.explanation })}`);
    return `Examples of cases and their answers:\n\n${blocks.join('\n\n')}\n\nNow the case to assess.\n\n`;
  }
}

/** The options schema properties both sources share (`llm` default and prompt default differ). */
export function answerSourceProperties(defaults: { llm: string; prompt: string }): Record<string, unknown> {
  return {
    llm: { type: 'string', minLength: 1, default: defaults.llm, description: "Name of the language model in the config's `llm` section" },
    report: { type: 'string', minLength: 1, default: 'report', description: 'Key of Case.texts holding the pathology report' },
    covariates: {
      type: ['array', 'null'], items: { type: 'string', minLength: 1 }, uniqueItems: true, default: null,
      description: 'Clinical keys written into the prompt, in order (null: every key of the case, sorted)',
    },
    prompt: {
      type: 'string', minLength: 1, default: defaults.prompt,
      description: 'Prompt template: {report}, {covariates} (one "- key: value" line each), {horizons} ("at 12, 24, 36 and 60 months")',
    },
    horizons: {
      type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, default: [12, 24, 36, 60],
      description: 'Times (months, the label time unit) of the stated survival probabilities, strictly increasing',
    },
    maxTokens: { type: 'integer', minimum: 16, default: 160, description: 'Upper bound on generated tokens per answer' },
    temperature: { type: 'number', minimum: 0, default: 0, description: 'Sampling temperature (0: greedy)' },
    seed: { type: 'integer', minimum: 0, default: 0, description: 'Sampling seed (temperature > 0, and the retries of a non-conforming answer)' },
    onInvalid: {
      enum: ['skip', 'error'], default: 'skip',
      description: "An answer that never conforms to the schema: 'skip' (warn; the case has no answer) or 'error' (stop the build)",
    },
  };
}
