import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { KnowledgeSource, KnowledgeText } from '../../core/contracts/knowledge-source.js';
import type { JsonSchemaObject } from '../../core/contracts/language-model.js';
import { generateJson } from '../../core/llm/generate-json.js';
import { languageModelsOf } from '../../core/llm/language-models.js';
import { BUILT_IN_BACKGROUND, builtInBackground, cancerTypeKey } from './background-facts.js';
import { checkTemplate, fillTemplate } from '../../core/llm/prompt-template.js';
import { normaliseWhitespace } from './report-sentences.js';

export interface BackgroundOptions {
  cancerType: string;
  llm: string | null;
  prompt: string;
  facts: number;
  texts: Record<string, string[]>;
  maxTokens: number;
  temperature: number;
  seed: number;
}

/** The default PBK prompt (choice here: KEMM's prompt is unpublished). */
export const DEFAULT_BACKGROUND_PROMPT =
  'You are an experienced oncologist. Write {count} concise facts of prognostic background knowledge about ' +
  '{cancerType}: which pathological, molecular and clinical findings predict recurrence, progression or survival. ' +
  'One fact per sentence, general medical knowledge only (no individual patient). ' +
  'Answer as JSON: {"facts": ["...", "..."]}.';

export const BACKGROUND_DEFAULTS: BackgroundOptions = {
  cancerType: 'bladder cancer',
  llm: null,
  prompt: DEFAULT_BACKGROUND_PROMPT,
  facts: 4,
  texts: {},
  maxTokens: 256,
  temperature: 0,
  seed: 0,
};

/** Bumped when the post-processing of answers changes, so cached texts of the old rules are not reused. */
const ANSWER_RULES_VERSION = 1;

/** The JSON schema of a PBK answer: 1..facts facts of 3..300 characters. */
export function factsSchema(facts: number): JsonSchemaObject {
  return {
    type: 'object',
    properties: { facts: { type: 'array', items: { type: 'string', minLength: 3, maxLength: 300 }, minItems: 1, maxItems: facts } },
    required: ['facts'],
    additionalProperties: false,
  };
}

/**
 * KEMM's prognostic background knowledge (PBK; Zhao et al., arXiv 2512.14594): concise prognostic facts about the
 * case's cancer type, one knowledge text (role 'pbk') per fact, the same for every case of that type. The type is
 * `Case.meta.cancerType`, else the `cancerType` option; types are compared trimmed, in lower case, with white space
 * collapsed ('Bladder  Cancer' = 'bladder cancer'). Reads nothing else of the case.
 *
 * Where the facts come from, first match wins:
 * 1. `texts[type]`: the team's own sentences (an empty list means "no PBK for this type").
 * 2. `llm: <name>` (the paper's path; the prompt is a choice here): the `prompt` template ({cancerType}; {count}
 *    optional, = `facts`) through `generateJson` with the schema { facts: 1..`facts` strings }; computed once per type
 *    in this process, and cached on disk per type by core/train/prepare-cases.ts (`caseContent` = { cancerType }).
 * 3. Built-in facts (choice here, background-facts.ts): bladder cancer (aliases bladder, urothelial carcinoma,
 *    NMIBC, ...), used as written (`facts` limits only LLM answers).
 * 4. Otherwise [] and one warning per type: the model then runs on the report alone (or its learned query).
 */
export class BackgroundSource implements KnowledgeSource {
  readonly id = 'kemm.background';
  readonly needsLanguageModel: boolean;
  private readonly options: BackgroundOptions;
  private readonly texts = new Map<string, string[]>();
  private readonly generated = new Map<string, Promise<string[]>>();
  private readonly warned = new Set<string>();

  constructor(options: Partial<BackgroundOptions>, private readonly ctx: BuildContext) {
    const o: BackgroundOptions = { ...BACKGROUND_DEFAULTS, ...options };
    const where = ctx.path;
    if (typeof o.cancerType !== 'string' || cancerTypeKey(o.cancerType) === '') {
      throw new Error(`${where}.cancerType: expected the cancer type of cases without meta.cancerType (e.g. "bladder cancer"), found ${JSON.stringify(o.cancerType)}`);
    }
    if (o.llm !== null && (typeof o.llm !== 'string' || o.llm === '')) {
      throw new Error(`${where}.llm: expected the name of a model of the config's \`llm\` section, or null for the built-in facts; found ${JSON.stringify(o.llm)}`);
    }
    if (!Number.isInteger(o.facts) || o.facts < 1) throw new Error(`${where}.facts: expected a positive integer (facts asked of the LLM), found ${o.facts}`);
    if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1) throw new Error(`${where}.maxTokens: expected a positive integer, found ${o.maxTokens}`);
    if (!(o.temperature >= 0)) throw new Error(`${where}.temperature: expected a number >= 0, found ${o.temperature}`);
    if (!Number.isInteger(o.seed)) throw new Error(`${where}.seed: expected an integer, found ${o.seed}`);
    checkTemplate(o.prompt, ['cancerType', 'count'], ['cancerType'], `${where}.prompt`);
    const origin = new Map<string, string>();
    for (const [type, list] of Object.entries(o.texts)) {
      const key = cancerTypeKey(type);
      const at = `${where}.texts[${JSON.stringify(type)}]`;
      if (key === '') throw new Error(`${at}: expected a cancer type as the key, found a blank one`);
      const other = origin.get(key);
      if (other !== undefined) throw new Error(`${at}: the same cancer type as ${JSON.stringify(other)} (types compare in lower case, spaces collapsed); merge the two lists`);
      if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || t.trim() === '')) {
        throw new Error(`${at}: expected a list of non-blank sentences, found ${JSON.stringify(list)}`);
      }
      origin.set(key, type);
      this.texts.set(key, list.map(normaliseWhitespace));
    }
    this.options = o;
    this.needsLanguageModel = o.llm !== null;
  }

  /** The normalised cancer type of a case (meta.cancerType, else the option). */
  cancerTypeOf(c: Case): string {
    const meta = c.meta?.cancerType;
    return cancerTypeKey(typeof meta === 'string' && meta.trim() !== '' ? meta : this.options.cancerType);
  }

  async textsFor(c: Case): Promise<KnowledgeText[]> {
    const facts = await this.factsFor(this.cancerTypeOf(c));
    return facts.map((text) => ({ role: 'pbk', text }));
  }

  /** The prompt sent for a (normalised) cancer type. */
  promptFor(cancerType: string): string {
    return fillTemplate(this.options.prompt, { cancerType, count: this.options.facts });
  }

  async cacheIdentity(): Promise<{ model: string; prompt: string }> {
    const llm = this.requireLlm('cacheIdentity');
    const model = await languageModelsOf(this.ctx.container, this.ctx.path).identify(llm, `${this.ctx.path}.llm`);
    const { prompt, facts, maxTokens, temperature, seed } = this.options;
    return {
      model,
      prompt: JSON.stringify({
        source: this.id, rules: ANSWER_RULES_VERSION, template: prompt, schema: factsSchema(facts), maxTokens, temperature, seed,
        // the team's own texts win over the LLM, so they are part of what a cached entry means
        texts: [...this.texts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      }),
    };
  }

  caseContent(c: Case): unknown {
    return { cancerType: this.cancerTypeOf(c) };
  }

  private factsFor(type: string): Promise<string[]> | string[] {
    const own = this.texts.get(type);
    if (own) return own;
    if (this.options.llm !== null) return this.generate(type);
    const builtIn = builtInBackground(type);
    if (builtIn) return [...builtIn.facts];
    if (!this.warned.has(type)) {
      this.warned.add(type);
      const builtIns = BUILT_IN_BACKGROUND.map((b) => `${b.cancerType} (${b.aliases.join(', ')})`).join('; ');
      this.ctx.logger.warn(`${this.ctx.path}: no prognostic background knowledge for cancer type '${type}' (built in: ${builtIns}` +
        `${this.texts.size ? `; texts: ${[...this.texts.keys()].join(', ')}` : ''}); its cases get no PBK texts. ` +
        `Add "texts": { "${type}": ["..."] } or name a model in ${this.ctx.path}.llm.`);
    }
    return [];
  }

  private generate(type: string): Promise<string[]> {
    let p = this.generated.get(type);
    if (!p) {
      p = (async () => {
        const lm = await languageModelsOf(this.ctx.container, this.ctx.path).get(this.requireLlm('textsFor'), `${this.ctx.path}.llm`);
        const { facts, maxTokens, temperature, seed } = this.options;
        const { value } = await generateJson<{ facts: string[] }>(
          lm, this.promptFor(type), factsSchema(facts), { maxTokens, temperature, seed }, `background knowledge for '${type}'`,
        );
        return value.facts.map(normaliseWhitespace).filter((s) => s !== '');
      })();
      p.catch(() => this.generated.delete(type));
      this.generated.set(type, p);
    }
    return p;
  }

  private requireLlm(what: string): string {
    if (this.options.llm === null) throw new Error(`${this.ctx.path}: ${what} needs a language model, but llm is null (built-in facts and texts need none)`);
    return this.options.llm;
  }
}

export const backgroundSpec: ComponentSpec<'knowledge', BackgroundOptions> = {
  id: 'kemm.background',
  description: 'KEMM prognostic background knowledge: concise prognostic facts per cancer type (built in for bladder cancer, your own texts, or a local LLM)',
  optionsSchema: {
    type: 'object',
    properties: {
      cancerType: {
        type: 'string', minLength: 1, default: BACKGROUND_DEFAULTS.cancerType,
        description: 'Cancer type of cases without meta.cancerType (compared in lower case, spaces collapsed)',
      },
      llm: {
        type: ['string', 'null'], minLength: 1, default: null,
        description: "Name of a model in the config's `llm` section that writes the facts once per cancer type; null: texts, else the built-in facts",
      },
      prompt: {
        type: 'string', minLength: 1, default: DEFAULT_BACKGROUND_PROMPT,
        description: 'Prompt template (with llm): {cancerType} is the type, {count} the number of facts; the answer schema is { "facts": [string] }',
      },
      facts: { type: 'integer', minimum: 1, maximum: 32, default: BACKGROUND_DEFAULTS.facts, description: 'Facts asked of the LLM (at most this many are kept)' },
      texts: {
        type: 'object',
        additionalProperties: { type: 'array', items: { type: 'string', minLength: 1 } },
        default: {},
        description: 'Your own facts per cancer type, e.g. { "kidney cancer": ["..."] }; they win over the LLM and the built-in facts ([] = none for that type)',
      },
      maxTokens: { type: 'integer', minimum: 1, default: BACKGROUND_DEFAULTS.maxTokens, description: 'Generation limit per answer (with llm)' },
      temperature: { type: 'number', minimum: 0, default: BACKGROUND_DEFAULTS.temperature, description: 'Sampling temperature (with llm); 0 = greedy' },
      seed: { type: 'integer', default: BACKGROUND_DEFAULTS.seed, description: 'Sampling seed (with llm and temperature > 0; retries use seed+1, seed+2)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new BackgroundSource(options, ctx),
};
