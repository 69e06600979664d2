import * as tf from '@tensorflow/tfjs';
import type { Case, ClinicalValue } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface TabularEncoderOptions {
  fields: string[] | null;
  missingIndicators: boolean;
  missingCategory: boolean;
  missingValues: (string | number)[];
  outDim: number | null;
}

export interface NumericField {
  key: string;
  kind: 'numeric';
  mean: number;
  sd: number;
  /** A 0/1 "was missing" column follows the value (fields with a missing value in training). */
  indicator: boolean;
}
export interface CategoricalField {
  key: string;
  kind: 'categorical';
  /** Training categories, stringified, sorted: one column each. */
  categories: string[];
}
export type TabularField = NumericField | CategoricalField;

/** Everything the vector layout depends on: restore(state) rebuilds it whatever the options say. */
export interface TabularState {
  fields: TabularField[];
  /** Values read as missing besides null (compared as strings: -1 matches the number and the string). */
  missingValues: string[];
  /** Every categorical field ends with a 'missing' column (null, missing markers, unseen categories). */
  missingCategory: boolean;
}

/**
 * Clinical record -> one feature vector, fitted on the training fold:
 * - fields: `fields`, or every key seen in training (sorted); a field is numeric when every non-missing training
 *   value is a number (also when it has none), else categorical;
 * - numeric: (x - mean) / sd with the training mean and population sd (sd 0 -> 1); a missing value -> 0 (the
 *   mean). With `missingIndicators`, fields that had a missing value IN TRAINING get a 0/1 indicator column after
 *   the value (choice: a field complete in training gets none, so no column is constant 0 in training; a later
 *   missing value there is imputed with the mean only). A non-numeric value in a numeric field is read as missing
 *   (one warning per field);
 * - categorical: one-hot over the training categories (stringified, sorted), then (`missingCategory`) a 'missing'
 *   column that is 1 for null, the `missingValues` markers (CHIMERA's -1) and categories unseen in training. Without
 *   it those rows are all zeros (sklearn's handle_unknown='ignore', as HKKH's 27-d vector).
 * Columns follow the field order; `featureNames()` names them. Output: the raw vector [1, F] (`outDim` null) or
 * ReLU(Linear(F -> outDim)) [1, outDim]. A case without `clinical` -> null.
 */
export class TabularEncoder implements Encoder {
  readonly modality: string;
  private dense: Dense | null = null;
  private fitted: TabularState | null = null;
  private width = 0;
  private readonly warned = new Set<string>();

  constructor(private readonly options: TabularEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'clinical') {
      throw new Error(`${ctx.path}: the 'tabular' encoder reads clinical records, found modality '${this.modality}'. Configure it under encoders.clinical.`);
    }
  }

  /** The token width: `outDim`, or the number of feature columns (known after fit/restore) when outDim is null. */
  get outDim(): number {
    if (this.options.outDim !== null) return this.options.outDim;
    if (!this.fitted) throw new Error(`${this.ctx.path}: with outDim null the token width is the number of clinical features, known after fit(trainCases) or restore(state)`);
    return this.width;
  }

  get variables(): tf.Variable[] {
    return this.dense?.variables ?? [];
  }

  fit(train: readonly Case[]): void {
    const where = this.ctx.path;
    const records = train.flatMap((c) => (c.clinical ? [c.clinical] : []));
    if (records.length === 0) throw new Error(`${where}: none of the ${train.length} training cases has clinical data; remove encoders.clinical or add clinical files`);
    const missingValues = this.options.missingValues.map(String);
    const isMissing = missingTest(missingValues);
    const keys = this.options.fields ?? [...new Set(records.flatMap((r) => Object.keys(r)))].sort();
    if (keys.length === 0) throw new Error(`${where}: the training clinical records have no fields`);
    const fields = keys.map((key): TabularField => {
      const present: ClinicalValue[] = [];
      let missing = 0;
      for (const r of records) {
        const v = r[key];
        if (v === undefined || isMissing(v)) missing++;
        else present.push(v);
      }
      if (present.length === 0) this.ctx.logger.warn(`${where}: clinical field '${key}' is missing in all ${records.length} training records; it carries no information`);
      if (present.every((v) => typeof v === 'number')) {
        const xs = present as number[];
        const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
        const sd = xs.length ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) : 0;
        return { key, kind: 'numeric', mean, sd: sd > 0 ? sd : 1, indicator: this.options.missingIndicators && missing > 0 };
      }
      return { key, kind: 'categorical', categories: [...new Set(present.map(String))].sort() };
    });
    this.build({ fields, missingValues, missingCategory: this.options.missingCategory });
  }

  state(): TabularState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    this.build(validateState(state, this.ctx.path));
  }

  /** Column names: 'age', 'age:missing', 'sex=Male', 'sex:missing', ... */
  featureNames(): string[] {
    if (!this.fitted) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before featureNames`);
    const missing = this.fitted.missingCategory;
    return this.fitted.fields.flatMap((f) =>
      f.kind === 'numeric'
        ? f.indicator ? [f.key, `${f.key}:missing`] : [f.key]
        : [...f.categories.map((c) => `${f.key}=${c}`), ...(missing ? [`${f.key}:missing`] : [])],
    );
  }

  private build(state: TabularState): void {
    this.dispose();
    this.fitted = state;
    this.width = state.fields.reduce(
      (a, f) => a + (f.kind === 'numeric' ? (f.indicator ? 2 : 1) : f.categories.length + (state.missingCategory ? 1 : 0)),
      0,
    );
    if (this.width === 0) throw new Error(`${this.ctx.path}: the clinical fields ${state.fields.map((f) => f.key).join(', ')} give no feature column`);
    if (this.options.outDim !== null) {
      this.dense = new Dense({
        inDim: this.width, outDim: this.options.outDim, init: 'glorot-normal', random: this.ctx.random.fork('dense'),
        explicitTranspose: explicitTransposeIn(this.ctx), name: `${this.ctx.path}.dense`,
      });
    }
  }

  /** The raw feature vector of a record (before the optional Linear). */
  features(c: Case): Float32Array | null {
    const s = this.fitted;
    if (!s) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    if (!c.clinical) return null;
    const isMissing = missingTest(s.missingValues);
    const out = new Float32Array(this.width);
    let col = 0;
    for (const f of s.fields) {
      const raw = c.clinical[f.key];
      const missing = raw === undefined || isMissing(raw);
      if (f.kind === 'numeric') {
        let x = missing ? NaN : typeof raw === 'number' ? raw : Number(String(raw).trim() || NaN);
        if (!missing && !Number.isFinite(x)) {
          this.warnOnce(f.key, `${this.ctx.path}: case ${c.id}: clinical field '${f.key}' is numeric in training but holds ${JSON.stringify(raw)}; read as missing`);
          x = NaN;
        }
        out[col++] = Number.isNaN(x) ? 0 : (x - f.mean) / f.sd;
        if (f.indicator) out[col++] = Number.isNaN(x) ? 1 : 0;
      } else {
        const k = missing ? -1 : f.categories.indexOf(String(raw));
        if (!missing && k < 0) {
          this.warnOnce(`${f.key}=${String(raw)}`, `${this.ctx.path}: case ${c.id}: clinical field '${f.key}' holds ${JSON.stringify(raw)}, a category unseen in training (${f.categories.map((x) => JSON.stringify(x)).join(', ')}); read as missing`);
        }
        if (k >= 0) out[col + k] = 1;
        else if (s.missingCategory) out[col + f.categories.length] = 1;
        col += f.categories.length + (s.missingCategory ? 1 : 0);
      }
    }
    return out;
  }

  encode(c: Case, _mode: Mode): tf.Tensor2D | null {
    const x = this.features(c);
    if (!x) return null;
    return tf.tidy(() => {
      const v = tf.tensor2d(x, [1, x.length]);
      return this.dense ? tf.relu(this.dense.apply(v)) : v;
    });
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.ctx.logger.warn(message);
  }

  dispose(): void {
    this.dense?.dispose();
    this.dense = null;
  }
}

function missingTest(markers: readonly string[]): (v: ClinicalValue) => boolean {
  const set = new Set(markers);
  return (v) => v === null || (typeof v === 'number' && Number.isNaN(v)) || set.has(String(v));
}

function validateState(state: unknown, where: string): TabularState {
  const s = state as Partial<TabularState> | null;
  const bad = (what: string) =>
    new Error(`${where}: expected the saved state of a tabular encoder ({ fields, missingValues, missingCategory }); ${what}`);
  if (!s || typeof s !== 'object' || !Array.isArray(s.fields)) throw bad(`found ${JSON.stringify(state)?.slice(0, 200)}`);
  if (!Array.isArray(s.missingValues) || !s.missingValues.every((v) => typeof v === 'string')) throw bad('missingValues must be an array of strings');
  if (typeof s.missingCategory !== 'boolean') throw bad('missingCategory must be a boolean');
  (s.fields as unknown[]).forEach((raw, i) => {
    const f = raw as { key?: unknown; kind?: unknown; mean?: number; sd?: number; indicator?: unknown; categories?: unknown };
    if (typeof f?.key !== 'string') throw bad(`fields[${i}].key must be a string`);
    if (f.kind === 'numeric') {
      if (!Number.isFinite(f.mean) || !(Number(f.sd) > 0) || typeof f.indicator !== 'boolean') {
        throw bad(`fields[${i}] ('${f.key}') must have a finite mean, sd > 0 and a boolean indicator`);
      }
    } else if (f.kind === 'categorical') {
      if (!Array.isArray(f.categories) || !f.categories.every((c: unknown) => typeof c === 'string')) throw bad(`fields[${i}] ('${f.key}').categories must be strings`);
    } else throw bad(`fields[${i}].kind must be 'numeric' or 'categorical', found ${JSON.stringify(f.kind)}`);
  });
  return s as TabularState;
}

export const tabularEncoderSpec: ComponentSpec<'encoder', TabularEncoderOptions> = {
  id: 'tabular',
  description: 'Clinical record to one vector: standardised numbers, one-hot categories, missing columns',
  modalities: ['clinical'],
  optionsSchema: {
    type: 'object',
    properties: {
      fields: {
        type: ['array', 'null'], items: { type: 'string' }, default: null,
        description: 'Clinical keys to use, in this column order (null: every key seen in training, sorted)',
      },
      missingIndicators: {
        type: 'boolean', default: true,
        description: 'Add a 0/1 missing-indicator column after each numeric field that had a missing value in training',
      },
      missingCategory: {
        type: 'boolean', default: true,
        description: "Give each categorical field a 'missing' column (null, missing markers, unseen categories); false: all zeros",
      },
      missingValues: {
        type: 'array', items: { type: ['string', 'number'] }, default: [-1],
        description: 'Values read as missing besides null, compared as text (CHIMERA marks missing with -1)',
      },
      outDim: {
        type: ['integer', 'null'], minimum: 1, default: null,
        description: 'Token width after Linear + ReLU (null: the raw feature vector, as HKKH)',
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new TabularEncoder(options, ctx),
};
