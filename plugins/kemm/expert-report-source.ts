import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { KnowledgeSource, KnowledgeText } from '../../core/contracts/knowledge-source.js';
import type { JsonSchemaObject } from '../../core/contracts/language-model.js';
import { generateJson } from '../../core/llm/generate-json.js';
import { languageModelsOf } from '../../core/llm/language-models.js';
import { checkTemplate, fillTemplate } from '../../core/llm/prompt-template.js';
import { normaliseWhitespace, splitStatements } from './report-sentences.js';

export interface ExpertReportOptions {
  report: string;
  llm: string | null;
  prompt: string;
  maxStatements: number;
  maxTokens: number;
  temperature: number;
  seed: number;
}

/** The default refinement prompt (choice here: KEMM's prompt is unpublished). */
export const DEFAULT_REPORT_PROMPT =
  'You are an expert pathologist. Rewrite the pathology report below as at most {maxStatements} succinct, ' +
  'clinically focused diagnostic statements that bear on the patient\'s prognosis (for example histological type, ' +
  'grade, depth of invasion, lymphovascular invasion, carcinoma in situ, variant histology, margins). One finding ' +
  'per statement, in plain clinical English, leaving out patient identifiers, names, dates and anything not stated ' +
  'in the report. Answer as JSON: {"statements": ["...", "..."]}.\n\nReport:\n{report}';

export const EXPERT_REPORT_DEFAULTS: ExpertReportOptions = {
  report: 'report',
  llm: null,
  prompt: DEFAULT_REPORT_PROMPT,
  maxStatements: 4,
  maxTokens: 192,
  temperature: 0,
  seed: 0,
};

/** Bumped when the post-processing of answers changes, so cached texts of the old rules are not reused. */
const ANSWER_RULES_VERSION = 1;

/** The JSON schema of a refined report: 1..maxStatements statements of 3..200 characters. */
export function statementsSchema(maxStatements: number): JsonSchemaObject {
  return {
    type: 'object',
    properties: {
      statements: {
        type: 'array',
        items: { type: 'string', minLength: 3, maxLength: 200 },
        minItems: 1,
        maxItems: maxStatements,
      },
    },
    required: ['statements'],
    additionalProperties: false,
  };
}

/**
 * KEMM's expert reports (Zhao et al., arXiv 2512.14594): a pathologist's report of the case, refined into succinct,
 * clinically focused diagnostic statements, one knowledge text (role 'report', field = the report key) per
 * statement. Reads only `Case.texts[report]`.
 *
 * - `llm: null` (default; choice here, no model needed): the report's own sentences (see report-sentences.ts),
 *   whitespace-normalised, the first `maxStatements` of them.
 * - `llm: <name>` (the paper's path; the prompt is a choice here, KEMM's is unpublished): the `prompt` template
 *   ({report}; {maxStatements} optional) sent to that model of the config's `llm` section through `generateJson`
 *   with the schema { statements: 1..maxStatements strings of 3..200 characters }, greedy by default; each answer
 *   statement whitespace-normalised. A non-conforming answer after the retries is an error (NonConformingAnswerError,
 *   the case id added by the caller), never kept. Texts are cached by core/train/prepare-cases.ts under
 *   `cacheIdentity()` (model id + template, schema and settings) and `caseContent()` ({ report } only).
 * - A missing or blank report gives [] (the model then runs on the background knowledge alone); no LLM call.
 */
export class ExpertReportSource implements KnowledgeSource {
  readonly id = 'kemm.expert-report';
  readonly needsLanguageModel: boolean;
  private readonly options: ExpertReportOptions;

  constructor(options: Partial<ExpertReportOptions>, private readonly ctx: BuildContext) {
    const o: ExpertReportOptions = { ...EXPERT_REPORT_DEFAULTS, ...options };
    const where = ctx.path;
    if (typeof o.report !== 'string' || o.report === '') throw new Error(`${where}.report: expected the key of Case.texts that holds the report (e.g. "report"), found ${JSON.stringify(o.report)}`);
    if (o.llm !== null && (typeof o.llm !== 'string' || o.llm === '')) {
      throw new Error(`${where}.llm: expected the name of a model of the config's \`llm\` section, or null for the report's own sentences; found ${JSON.stringify(o.llm)}`);
    }
    if (!Number.isInteger(o.maxStatements) || o.maxStatements < 1) throw new Error(`${where}.maxStatements: expected a positive integer, found ${o.maxStatements}`);
    if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1) throw new Error(`${where}.maxTokens: expected a positive integer, found ${o.maxTokens}`);
    if (!(o.temperature >= 0)) throw new Error(`${where}.temperature: expected a number >= 0, found ${o.temperature}`);
    if (!Number.isInteger(o.seed)) throw new Error(`${where}.seed: expected an integer, found ${o.seed}`);
    checkTemplate(o.prompt, ['report', 'maxStatements'], ['report'], `${where}.prompt`);
    this.options = o;
    this.needsLanguageModel = o.llm !== null;
  }

  /** The report text of a case ('' when missing or blank). */
  reportOf(c: Case): string {
    const text = c.texts?.[this.options.report];
    return typeof text === 'string' ? text.trim() : '';
  }

  async textsFor(c: Case): Promise<KnowledgeText[]> {
    const report = this.reportOf(c);
    if (report === '') return [];
    const statements = this.options.llm === null ? splitStatements(report).slice(0, this.options.maxStatements) : await this.refine(report);
    return statements.map((text) => ({ role: 'report', field: this.options.report, text }));
  }

  /** The prompt sent for a report. */
  promptFor(report: string): string {
    return fillTemplate(this.options.prompt, { report, maxStatements: this.options.maxStatements });
  }

  async cacheIdentity(): Promise<{ model: string; prompt: string }> {
    const llm = this.requireLlm('cacheIdentity');
    const model = await languageModelsOf(this.ctx.container, this.ctx.path).identify(llm, `${this.ctx.path}.llm`);
    const { prompt, maxStatements, maxTokens, temperature, seed } = this.options;
    return {
      model,
      prompt: JSON.stringify({
        source: this.id, rules: ANSWER_RULES_VERSION, template: prompt, schema: statementsSchema(maxStatements), maxTokens, temperature, seed,
      }),
    };
  }

  caseContent(c: Case): unknown {
    return { report: this.reportOf(c) };
  }

  private async refine(report: string): Promise<string[]> {
    const llm = this.requireLlm('textsFor');
    const lm = await languageModelsOf(this.ctx.container, this.ctx.path).get(llm, `${this.ctx.path}.llm`);
    const { maxStatements, maxTokens, temperature, seed } = this.options;
    const { value } = await generateJson<{ statements: string[] }>(
      lm, this.promptFor(report), statementsSchema(maxStatements), { maxTokens, temperature, seed }, 'refining the expert report',
    );
    return value.statements.map(normaliseWhitespace).filter((s) => s !== '');
  }

  private requireLlm(what: string): string {
    if (this.options.llm === null) throw new Error(`${this.ctx.path}: ${what} needs a language model, but llm is null (the report's own sentences need none)`);
    return this.options.llm;
  }
}

export const expertReportSpec: ComponentSpec<'knowledge', ExpertReportOptions> = {
  id: 'kemm.expert-report',
  description: 'KEMM expert report: the case report as succinct diagnostic statements (its own sentences, or refined by a local LLM)',
  optionsSchema: {
    type: 'object',
    properties: {
      report: { type: 'string', minLength: 1, default: EXPERT_REPORT_DEFAULTS.report, description: 'Key of Case.texts holding the pathology report (manifest: texts.report)' },
      llm: {
        type: ['string', 'null'], minLength: 1, default: null,
        description: "Name of a model in the config's `llm` section that refines the report into statements; null: the report's own sentences (no model needed)",
      },
      prompt: {
        type: 'string', minLength: 1, default: DEFAULT_REPORT_PROMPT,
        description: 'Refinement prompt template (with llm): {report} is the report text, {maxStatements} the limit; the answer schema is { "statements": [string] }',
      },
      maxStatements: { type: 'integer', minimum: 1, maximum: 64, default: EXPERT_REPORT_DEFAULTS.maxStatements, description: 'At most this many statements (knowledge tokens) per report' },
      maxTokens: { type: 'integer', minimum: 1, default: EXPERT_REPORT_DEFAULTS.maxTokens, description: 'Generation limit per answer (with llm)' },
      temperature: { type: 'number', minimum: 0, default: EXPERT_REPORT_DEFAULTS.temperature, description: 'Sampling temperature (with llm); 0 = greedy' },
      seed: { type: 'integer', default: EXPERT_REPORT_DEFAULTS.seed, description: 'Sampling seed (with llm and temperature > 0; retries use seed+1, seed+2)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new ExpertReportSource(options, ctx),
};
