import type { Case, ClinicalRecord, ClinicalValue } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { KnowledgeSource, KnowledgeText } from '../../core/contracts/knowledge-source.js';
import { PROMPT_PRESET_NAMES, PROMPT_PRESETS, type PromptField, type PromptPresetName } from './clinical-prompt-presets.js';

export interface ClinicalPromptOptions {
  preset: PromptPresetName;
  fields: string[] | null;
  templates: Record<string, string>;
  values: Record<string, Record<string, string>>;
  labels: Record<string, string>;
  keys: Record<string, string>;
  unknownTemplate: string;
  unknownTemplates: Record<string, string>;
  missingMarkers: (string | number)[];
}

export const DEFAULT_MISSING_PROMPT_MARKERS: readonly (string | number)[] = [
  -1, '', 'na', 'n/a', 'nan', 'null', 'unknown', 'not reported', 'x', '[not available]', '[unknown]', '[not evaluated]',
];

export const CLINICAL_PROMPT_DEFAULTS: ClinicalPromptOptions = {
  preset: 'survpgc',
  fields: null,
  templates: {},
  values: {},
  labels: {},
  keys: {},
  unknownTemplate: 'The {label} is unknown.',
  unknownTemplates: {},
  missingMarkers: [...DEFAULT_MISSING_PROMPT_MARKERS],
};

/** Survival label keys (CHIMERA tasks 1 and 3, common cohort tables): a prompt never reads them. */
export const LABEL_KEYS: readonly string[] = [
  'progression', 'Time_to_prog_or_FUend', 'time_to_HG_recur_or_FUend', 'BCR', 'time_to_follow-up/BCR',
  'survival_months', 'censorship', 'event', 'time',
];

/** A number as text: integers without decimals, others to 3 significant digits (12.345 -> '12.3'). */
export function plainNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The written form of a value: numbers and numeric strings plainly ('1.0' -> '1'), other strings trimmed. */
export function canonicalValue(v: string | number): string {
  if (typeof v === 'number') return plainNumber(v);
  const s = v.trim();
  return NUMERIC.test(s) ? plainNumber(Number(s)) : s;
}

interface ResolvedField {
  field: string;
  /** The clinical key read. */
  key: string;
  template: string;
  unknown: string;
  label: string;
  /** canonical value -> phrase, and lower-cased canonical value -> phrase. */
  exact: Map<string, string>;
  folded: Map<string, string>;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => vars[name]!);
}

/**
 * SurvPGC's clinical prompts: one sentence per clinical field, from a template with a `{value}` placeholder
 * ("The age is {value} years old."). Built-in template sets: `preset` 'survpgc' (the paper's six characteristics,
 * keys subtype, age, sex, stage, edition, race), 'chimera-task3' and 'chimera-task1' (every clinical key of those
 * CHIMERA tasks); `templates`, `values`, `labels`, `keys` and `unknownTemplates` override or extend them per field.
 *
 * - Fields come in the order of `fields`, or (null) the preset's order followed by the extra `templates` fields.
 * - A missing value (null, absent key, non-finite number, or one of `missingMarkers`, compared case-insensitively
 *   after trimming; numbers by value) gives the field's unknown sentence: `unknownTemplates[field]`, else
 *   `unknownTemplate` ("The {label} is unknown.").
 * - Numbers read plainly: integers without decimals, others to 3 significant digits.
 * - A case without a clinical record yields no texts. Only `c.clinical` is read, never the label; label keys
 *   (progression, BCR, ...) cannot be selected as fields.
 */
export class ClinicalPromptSource implements KnowledgeSource {
  readonly id = 'survpgc.clinical-prompts';
  readonly needsLanguageModel = false;
  private readonly fields: ResolvedField[];
  private readonly missing: Set<string>;
  private warnedNoFields = false;

  constructor(options: Partial<ClinicalPromptOptions>, private readonly ctx: BuildContext) {
    const o: ClinicalPromptOptions = { ...CLINICAL_PROMPT_DEFAULTS, ...options };
    const where = ctx.path;
    const preset = PROMPT_PRESETS[o.preset];
    if (!preset) {
      throw new Error(`${where}.preset: expected one of ${PROMPT_PRESET_NAMES.join(', ')}, found ${JSON.stringify(o.preset)}`);
    }
    const byField = new Map<string, PromptField>(preset.map((f) => [f.field, f]));
    const names = o.fields ?? [...preset.map((f) => f.field), ...Object.keys(o.templates).filter((f) => !byField.has(f))];
    if (names.length === 0) throw new Error(`${where}.fields: expected at least one field, found []`);
    const seen = new Set<string>();
    this.fields = names.map((field, i) => {
      const at = o.fields ? `${where}.fields[${i}]` : `${where}.templates`;
      if (seen.has(field)) throw new Error(`${at}: field '${field}' is listed twice`);
      seen.add(field);
      const key = o.keys[field] ?? field;
      if (LABEL_KEYS.some((k) => k.toLowerCase() === key.toLowerCase())) {
        throw new Error(`${at}: field '${field}' reads clinical key '${key}', a survival label key; knowledge texts must ` +
          'not see the label (they are built for test cases too). Remove it from the fields.');
      }
      const base = byField.get(field);
      const template = o.templates[field] ?? base?.template;
      if (template === undefined) {
        throw new Error(`${at}: field '${field}' has no template in preset '${o.preset}' (its fields: ` +
          `${preset.map((f) => f.field).join(', ')}); add "templates": { "${field}": "The ${field} is {value}." }`);
      }
      checkPlaceholders(template, ['value', 'label', 'field'], true, `${where}.templates.${field} ("${template}")`);
      const unknown = o.unknownTemplates[field] ?? o.unknownTemplate;
      checkPlaceholders(unknown, ['label', 'field'], false,
        o.unknownTemplates[field] !== undefined ? `${where}.unknownTemplates.${field}` : `${where}.unknownTemplate`);
      const values = { ...(base?.values ?? {}), ...(o.values[field] ?? {}) };
      const exact = new Map<string, string>();
      const folded = new Map<string, string>();
      for (const [raw, phrase] of Object.entries(values)) {
        const k = canonicalValue(raw);
        exact.set(k, phrase);
        if (!folded.has(k.toLowerCase())) folded.set(k.toLowerCase(), phrase);
      }
      const label = o.labels[field] ?? base?.label ?? field.replace(/_/g, ' ');
      return { field, key, template, unknown, label, exact, folded };
    });
    for (const opt of ['templates', 'values', 'labels', 'keys', 'unknownTemplates'] as const) {
      const stray = Object.keys(o[opt]).filter((f) => !seen.has(f));
      if (stray.length) {
        ctx.logger.warn(`${where}.${opt}: ${stray.map((f) => `'${f}'`).join(', ')} not among the prompt fields ` +
          `(${[...seen].join(', ')}); ignored. Add them to ${where}.fields to use them.`);
      }
    }
    this.missing = new Set(o.missingMarkers.map((m) => canonicalValue(m).toLowerCase()));
  }

  /** The fields, in sentence order: [field, clinical key]. */
  fieldKeys(): [string, string][] {
    return this.fields.map((f) => [f.field, f.key]);
  }

  async textsFor(c: Case): Promise<KnowledgeText[]> {
    return this.sentences(c);
  }

  /** Synchronous form of `textsFor`. */
  sentences(c: Case): KnowledgeText[] {
    const record = c.clinical;
    if (!record) return [];
    if (!this.warnedNoFields && !this.fields.some((f) => Object.hasOwn(record, f.key))) {
      this.warnedNoFields = true;
      this.ctx.logger.warn(`${this.ctx.path}: case ${c.id}: none of the prompt fields (${this.fields.map((f) => f.key).join(', ')}) ` +
        `is a key of its clinical record (${Object.keys(record).join(', ') || 'empty'}); every sentence reads "unknown". ` +
        `Pick the preset of this cohort or set ${this.ctx.path}.fields / keys.`);
    }
    return this.fields.map((f) => ({ role: 'clinical-prompt', field: f.field, text: this.sentence(f, record) }));
  }

  private sentence(f: ResolvedField, record: ClinicalRecord): string {
    const raw: ClinicalValue | undefined = Object.hasOwn(record, f.key) ? record[f.key] : undefined;
    const vars = { label: f.label, field: f.field };
    if (this.isMissing(raw)) return fill(f.unknown, vars);
    const value = canonicalValue(raw!);
    const phrase = f.exact.get(value) ?? f.folded.get(value.toLowerCase()) ?? value;
    return fill(f.template, { ...vars, value: phrase });
  }

  private isMissing(v: ClinicalValue | undefined): boolean {
    if (v === null || v === undefined) return true;
    if (typeof v === 'number' && !Number.isFinite(v)) return true;
    if (typeof v !== 'number' && typeof v !== 'string') return true;
    return this.missing.has(canonicalValue(v).toLowerCase());
  }
}

function checkPlaceholders(template: string, allowed: string[], needsValue: boolean, where: string): void {
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!allowed.includes(m[1]!)) {
      throw new Error(`${where}: unknown placeholder {${m[1]}}; expected ${allowed.map((a) => `{${a}}`).join(', ')}`);
    }
  }
  if (needsValue && !template.includes('{value}')) {
    throw new Error(`${where}: expected a {value} placeholder for the case's value, found none`);
  }
}

const stringMap = (description: string) => ({
  type: 'object',
  additionalProperties: { type: 'string', minLength: 1 },
  default: {},
  description,
});

export const clinicalPromptsSpec: ComponentSpec<'knowledge', ClinicalPromptOptions> = {
  id: 'survpgc.clinical-prompts',
  description: 'SurvPGC clinical prompts: one templated sentence per clinical field ("The age is 71 years old.")',
  optionsSchema: {
    type: 'object',
    properties: {
      preset: {
        enum: [...PROMPT_PRESET_NAMES], default: 'survpgc',
        description: 'Built-in templates: survpgc (subtype, age, sex, stage, edition, race), chimera-task3 or chimera-task1 (every clinical key of that task)',
      },
      fields: {
        type: ['array', 'null'], items: { type: 'string', minLength: 1 }, uniqueItems: true, default: null,
        description: 'Fields, in sentence order (null: the preset\'s fields, then any extra fields of templates)',
      },
      templates: stringMap('Sentence per field with a {value} placeholder ({label}, {field} allowed), e.g. { "age": "The age is {value} years old." }'),
      values: {
        type: 'object',
        additionalProperties: { type: 'object', additionalProperties: { type: 'string' } },
        default: {},
        description: 'Phrases for raw values per field, put in place of {value}, e.g. { "LVI": { "Yes": "present", "No": "absent" } }',
      },
      labels: stringMap('Name of each field in its unknown sentence, e.g. { "stage": "tumor stage" }'),
      keys: stringMap('Clinical key each field reads (default: the field name), e.g. { "sex": "gender" }'),
      unknownTemplate: {
        type: 'string', minLength: 1, default: 'The {label} is unknown.',
        description: 'Sentence for a missing value ({label} and {field} allowed)',
      },
      unknownTemplates: stringMap('Per-field sentence for a missing value, overriding unknownTemplate'),
      missingMarkers: {
        type: 'array', items: { type: ['string', 'number'] }, default: [...DEFAULT_MISSING_PROMPT_MARKERS],
        description: 'Values read as missing besides null (strings compared case-insensitively, e.g. -1, "NA", "unknown", "x")',
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new ClinicalPromptSource(options, ctx),
};
