/**
 * Pieces shared by the CHIMERA task adapters: the clinical record (label keys dropped, -1 -> missing) and the
 * bulk RNA profile (non-numeric values -> missing, with a warning) of one test case.
 */
import type { ClinicalRecord, RnaProfile } from '../../core/contracts/case.js';
import { DEFAULT_MISSING_MARKERS, normaliseClinical } from '../../core/data/clinical.js';

/** Clinical JSON -> record; label keys found at test time are dropped (and named in a warning). */
export function clinicalFrom(raw: unknown, where: string, labelKeys: readonly string[], warnings: string[]): ClinicalRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected a JSON object of clinical variables, found ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const present = labelKeys.filter((k) => k in (raw as object));
  if (present.length > 0) warnings.push(`${where}: label key(s) ${present.join(', ')} dropped (never used for prediction)`);
  return normaliseClinical(raw as Record<string, unknown>, { where, dropKeys: labelKeys, missingMarkers: DEFAULT_MISSING_MARKERS });
}

/** RNA JSON `{gene: number}` -> profile; null / NaN / non-numeric values become NaN (missing) with one warning. */
export function rnaFrom(raw: unknown, where: string, warnings: string[]): RnaProfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected a JSON object {gene symbol: number}, found ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const genes = Object.keys(raw);
  if (genes.length === 0) throw new Error(`${where}: expected a JSON object {gene symbol: number}, found an empty object`);
  const values = new Float32Array(genes.length);
  const bad: string[] = [];
  genes.forEach((g, i) => {
    const v = (raw as Record<string, unknown>)[g];
    if (typeof v === 'number' && Number.isFinite(v)) values[i] = v;
    else if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) values[i] = Number(v);
    else { values[i] = NaN; bad.push(g); }
  });
  if (bad.length === genes.length) throw new Error(`${where}: none of the ${genes.length} genes has a numeric value`);
  if (bad.length > 0) {
    warnings.push(`${where}: ${bad.length} of ${genes.length} genes have no numeric value (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', ...' : ''}); read as missing`);
  }
  return { genes, values };
}
