/**
 * Synthetic CHIMERA Task 3 clinical records (keys and categories of the real training data, REFERENCE.md B).
 *
 * Stage, substage, grade, LVI, EORTC and BRS depend on the latent prognosis u = beta . z / |beta| (times the
 * difficulty signal s); age, sex, smoking, reTUR, variant and the instillation count are noise. `-1` marks a
 * missing value as in CHIMERA: smoking 15 %, LVI 20 %, every other field except tumor and stage 3 %; substage is
 * -1 for every TaHG tumour (no lamina propria invasion to sub-stage). Overall about 8 % of fields are -1.
 */
import type { RandomSource } from '../../contracts/random-source.js';
import { sigmoid } from './model.js';

/** CHIMERA Task 3 clinical keys, in the order the organisers' files use. */
export const CHIMERA_TASK3_CLINICAL_KEYS = [
  'age', 'sex', 'smoking', 'tumor', 'stage', 'substage', 'grade', 'reTUR', 'LVI', 'variant', 'EORTC',
  'no_instillations', 'BRS',
] as const;

/** A clinical record with CHIMERA's `-1` for missing values. */
export type ChimeraClinical = Record<(typeof CHIMERA_TASK3_CLINICAL_KEYS)[number], string | number>;

export interface SynthClinical {
  record: ChimeraClinical;
  /** The true (never missing) stage and grade that enter the true risk. */
  stageT1HG: boolean;
  gradeG3: boolean;
  /** P(BRS = BRS3) the BRS value was drawn with (the oracle of a BRS3 classifier). */
  brs3Probability: number;
}

const MISSING = -1;
const GENERIC_MISSING_RATE = 0.03;

function pick<T>(rng: RandomSource, items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let i = 0; i < items.length; i++) {
    u -= weights[i]!;
    if (u < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

/** One clinical record for latent prognosis `u` (unit variance) and difficulty signal `s`. */
export function drawClinical(rng: RandomSource, u: number, s: number): SynthClinical {
  const su = s * u;
  const age = Math.min(95, Math.max(35, Math.round(rng.normal(68, 10))));
  const sex = rng.uniform() < 0.8 ? 'Male' : 'Female';
  const smoking = pick(rng, ['Yes', 'No', MISSING], [0.6, 0.25, 0.15]);
  const stageT1HG = rng.uniform() < sigmoid(0.2 + 1.0 * su);
  const substage = stageT1HG ? (rng.uniform() < sigmoid(-0.3 + 0.8 * su) ? 'T1e' : 'T1m') : MISSING;
  const gradeG3 = rng.uniform() < sigmoid(0.8 + 1.0 * su);
  const reTUR = rng.uniform() < 0.6 ? 'Yes' : 'No';
  const lviYes = rng.uniform() < sigmoid(-1.8 + 0.8 * su);
  const lvi = rng.uniform() < 0.2 ? MISSING : lviYes ? 'Yes' : 'No';
  const variant = rng.uniform() < 0.12 ? 'UCC + Variant' : 'UCC';
  const highest = stageT1HG && (gradeG3 || lviYes || variant !== 'UCC') ? 0.6 : 0.1;
  const EORTC = rng.uniform() < highest ? 'Highest risk' : 'High risk';
  const noInstillations = Math.min(30, Math.max(0, Math.round(rng.normal(12, 6))));
  const brs3 = sigmoid(-0.8 + 0.8 * su);
  const BRS = pick(rng, ['BRS1', 'BRS2', 'BRS3'], [(1 - brs3) / 2, (1 - brs3) / 2, brs3]);

  const record: ChimeraClinical = {
    age, sex, smoking, tumor: 'Primary', stage: stageT1HG ? 'T1HG' : 'TaHG', substage,
    grade: gradeG3 ? 'G3' : 'G2', reTUR, LVI: lvi, variant, EORTC, no_instillations: noInstillations, BRS,
  };
  // generic missingness, drawn for every key in a fixed order so the stream never depends on earlier values
  for (const key of CHIMERA_TASK3_CLINICAL_KEYS) {
    const drop = rng.uniform() < GENERIC_MISSING_RATE;
    if (drop && key !== 'tumor' && key !== 'stage') record[key] = MISSING;
  }
  return { record, stageT1HG, gradeG3, brs3Probability: brs3 };
}

/** The record with -1 replaced by null (the manifest layout writes JSON null for missing values). */
export function withNulls(record: ChimeraClinical): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(record)) out[k] = v === MISSING ? null : v;
  return out;
}
