/**
 * The fitted RNA input of a vector encoder (mlp, snn): a cohort gene order plus a per-gene affine scaler, both
 * learned on the training fold only and saved as JSON with the model.
 *
 * - Gene order: `cohortGeneOrder` of the training profiles (the sorted union of their genes).
 * - Missing values (a gene absent from a profile, or NaN/null) are imputed with that gene's training mean (0 for a
 *   gene no training case measured), before scaling; genes a profile has beyond the fitted order are ignored.
 * - `scale`:
 *   'none'     y = x;
 *   'standard' y = (x - mean) / sd, population sd (ddof 0, sklearn StandardScaler); sd 0 -> 1;
 *   'minmax'   y = 2 (x - min) / (max - min) - 1, to [-1, 1] on the training data (SurvPath's
 *              MinMaxScaler(feature_range=(-1, 1))); max = min -> range 1 (sklearn's zero-range rule).
 *   Statistics use the non-missing training values of each gene, in float64; the result is float32.
 *
 * @example
 * const state = fitRnaScaler(trainCases, 'standard', 'encoders.rna');
 * const x = scaleRna(someCase.rna!, state);   // Float32Array, state.geneOrder.length values
 */
import type { Case, RnaProfile } from '../contracts/case.js';
import { cohortGeneOrder } from './rna.js';

export type RnaScale = 'none' | 'standard' | 'minmax';
export const RNA_SCALES: readonly RnaScale[] = ['none', 'standard', 'minmax'];

export interface RnaScalerState {
  scale: RnaScale;
  geneOrder: string[];
  /** Training mean of each gene (raw units): the imputed value of a missing gene. */
  fill: number[];
  /** y = x * mul + add, per gene; absent for scale 'none'. */
  mul?: number[];
  add?: number[];
}

/** The profile's values in `geneOrder`, NaN where the gene is missing (absent or NaN). Infinity is an error. */
function alignedWithGaps(profile: RnaProfile, geneOrder: readonly string[], where: string): Float64Array {
  const index = new Map<string, number>();
  profile.genes.forEach((g, i) => index.set(g, i));
  const out = new Float64Array(geneOrder.length);
  geneOrder.forEach((g, k) => {
    const i = index.get(g);
    const v = i === undefined ? NaN : profile.values[i]!;
    if (v === Infinity || v === -Infinity) throw new Error(`${where}: gene ${JSON.stringify(g)} is ${v}; expected a finite number or null (missing)`);
    out[k] = v;
  });
  return out;
}

/** Fit the gene order and scaler on the training cases that have RNA (`where` names the component in errors). */
export function fitRnaScaler(train: readonly Case[], scale: RnaScale, where: string): RnaScalerState {
  if (!RNA_SCALES.includes(scale)) throw new Error(`${where}: scale must be one of ${RNA_SCALES.join(', ')}, found ${JSON.stringify(scale)}`);
  const withRna = train.filter((c) => c.rna);
  if (withRna.length === 0) {
    throw new Error(`${where}: none of the ${train.length} training cases has RNA; remove this encoder or add RNA files`);
  }
  const geneOrder = cohortGeneOrder(withRna.map((c) => c.rna!));
  const g = geneOrder.length;
  const count = new Float64Array(g);
  const sum = new Float64Array(g);
  const min = new Float64Array(g).fill(Infinity);
  const max = new Float64Array(g).fill(-Infinity);
  const rows = withRna.map((c) => alignedWithGaps(c.rna!, geneOrder, `${where}: case ${c.id}`));
  for (const row of rows) {
    for (let k = 0; k < g; k++) {
      const v = row[k]!;
      if (Number.isNaN(v)) continue;
      count[k]++;
      sum[k] += v;
      if (v < min[k]!) min[k] = v;
      if (v > max[k]!) max[k] = v;
    }
  }
  const fill = Array.from(sum, (s, k) => (count[k]! > 0 ? s / count[k]! : 0));
  if (scale === 'none') return { scale, geneOrder, fill };
  const mul = new Array<number>(g);
  const add = new Array<number>(g);
  if (scale === 'standard') {
    const ss = new Float64Array(g);
    for (const row of rows) {
      for (let k = 0; k < g; k++) {
        const v = row[k]!;
        if (!Number.isNaN(v)) ss[k] += (v - fill[k]!) ** 2;
      }
    }
    for (let k = 0; k < g; k++) {
      const sd = count[k]! > 0 ? Math.sqrt(ss[k]! / count[k]!) : 0;
      mul[k] = 1 / (sd > 0 ? sd : 1);
      add[k] = -fill[k]! * mul[k]!;
    }
  } else {
    for (let k = 0; k < g; k++) {
      const lo = count[k]! > 0 ? min[k]! : 0;
      const range = count[k]! > 0 && max[k]! > min[k]! ? max[k]! - min[k]! : 1;
      mul[k] = 2 / range;
      add[k] = -1 - lo * mul[k]!;
    }
  }
  return { scale, geneOrder, fill, mul, add };
}

/** Check a state read back from JSON; returns it typed. */
export function validateRnaScalerState(state: unknown, where: string): RnaScalerState {
  const s = state as Partial<RnaScalerState> | null;
  const expected = 'expected { scale, geneOrder: string[], fill: number[], mul?: number[], add?: number[] } from fitRnaScaler';
  if (!s || typeof s !== 'object') throw new Error(`${where}: RNA scaler state: ${expected}, found ${JSON.stringify(state)}`);
  if (!RNA_SCALES.includes(s.scale as RnaScale)) throw new Error(`${where}: RNA scaler state: scale must be one of ${RNA_SCALES.join(', ')}, found ${JSON.stringify(s.scale)}`);
  if (!Array.isArray(s.geneOrder) || s.geneOrder.length === 0 || !s.geneOrder.every((g) => typeof g === 'string')) {
    throw new Error(`${where}: RNA scaler state: geneOrder must be a non-empty array of gene names`);
  }
  const g = s.geneOrder.length;
  const arrays: (keyof RnaScalerState)[] = s.scale === 'none' ? ['fill'] : ['fill', 'mul', 'add'];
  for (const key of arrays) {
    const a = s[key] as unknown;
    if (!Array.isArray(a) || a.length !== g || !a.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`${where}: RNA scaler state: ${key} must hold ${g} finite numbers (one per gene), found ${Array.isArray(a) ? `${a.length} values` : JSON.stringify(a)}`);
    }
  }
  return s as RnaScalerState;
}

/** The scaled vector of one profile, in the fitted gene order. */
export function scaleRna(profile: RnaProfile, state: RnaScalerState, where = 'scaleRna'): Float32Array {
  const raw = alignedWithGaps(profile, state.geneOrder, where);
  const out = new Float32Array(raw.length);
  const { fill, mul, add } = state;
  for (let k = 0; k < raw.length; k++) {
    const x = Number.isNaN(raw[k]!) ? fill[k]! : raw[k]!;
    out[k] = mul && add ? x * mul[k]! + add[k]! : x;
  }
  return out;
}
