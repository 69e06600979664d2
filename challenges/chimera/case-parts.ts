/**
 * Pieces shared by the CHIMERA task adapters: the clinical record (label keys dropped, -1 -> missing) and the
 * bulk RNA profile (core/data/rna.ts, lenient: non-numeric values -> missing, with a warning) of one test case.
 */
import type { ClinicalRecord, RnaProfile } from '../../core/contracts/case.js';
import { DEFAULT_MISSING_MARKERS, normaliseClinical } from '../../core/data/clinical.js';
import { rnaProfileFromObject } from '../../core/data/rna.js';

/** Clinical JSON -> record; label keys found at test time are dropped (and named in a warning). */
export function clinicalFrom(raw: unknown, where: string, labelKeys: readonly string[], warnings: string[]): ClinicalRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected a JSON object of clinical variables, found ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const present = labelKeys.filter((k) => k in (raw as object));
  if (present.length > 0) warnings.push(`${where}: label key(s) ${present.join(', ')} dropped (never used for prediction)`);
  return normaliseClinical(raw as Record<string, unknown>, { where, dropKeys: labelKeys, missingMarkers: DEFAULT_MISSING_MARKERS });
}

/** RNA JSON `{gene: number}` -> profile, read leniently: null / NaN / non-numeric values become NaN (missing) with one warning. */
export function rnaFrom(raw: unknown, where: string, warnings: string[]): RnaProfile {
  return rnaProfileFromObject(raw, where, { lenient: true, warnings });
}
