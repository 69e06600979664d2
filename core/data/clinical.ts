/**
 * Clinical variables: one JSON object per case (CHIMERA `_CD.json`) or a cohort table (CSV/TSV).
 *
 * Values become a string, a finite number or null (missing). Missing markers (CHIMERA's -1, '', 'NA', ...) map to
 * null. JSON keeps its types (a numeric string stays a string: '3' and 3 are different categories to an encoder);
 * table cells that look like numbers become numbers. Booleans become the strings 'true' / 'false' (categories).
 */
import { readFile } from 'node:fs/promises';
import type { ClinicalRecord, ClinicalValue } from '../contracts/case.js';
import { parseNumericCell, readDelimited } from './csv.js';

export type MissingMarker = string | number | null;

export const DEFAULT_MISSING_MARKERS: readonly MissingMarker[] = [-1, '-1', '', 'NA', 'NaN', 'nan', null];

export interface ClinicalOptions {
  missingMarkers?: readonly MissingMarker[];
  /** Keys to leave out (e.g. label keys). */
  dropKeys?: readonly string[];
}

export interface NormaliseOptions extends ClinicalOptions {
  /** Where the record came from, for error messages (a file, a JSON path, a case id). */
  where: string;
}

/** Id column names of a clinical table, in order of preference (compared case-insensitively). */
export const CLINICAL_ID_COLUMNS = ['id', 'case_id', 'patient_id'];

function isMissing(v: unknown, markers: readonly MissingMarker[]): boolean {
  return markers.some((m) => m === v);
}

/** Normalise one raw record: markers -> null, nested values -> error naming `where` and the key. */
export function normaliseClinical(raw: Record<string, unknown>, opts: NormaliseOptions): ClinicalRecord {
  const markers = opts.missingMarkers ?? DEFAULT_MISSING_MARKERS;
  const drop = new Set(opts.dropKeys ?? []);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${opts.where}: expected a JSON object of clinical variables, found ${JSON.stringify(raw)}`);
  }
  const out: ClinicalRecord = {};
  for (const [key, v] of Object.entries(raw)) {
    if (drop.has(key)) continue;
    let value: ClinicalValue;
    if (v === undefined || isMissing(v, markers)) value = null;
    else if (typeof v === 'string') value = v;
    else if (typeof v === 'number') value = Number.isFinite(v) ? v : null;
    else if (typeof v === 'boolean') value = v ? 'true' : 'false';
    else {
      throw new Error(`${opts.where}: key ${JSON.stringify(key)}: expected a string, a number or null, found ` +
        `${Array.isArray(v) ? 'an array' : 'an object'} ${JSON.stringify(v).slice(0, 80)} (clinical records are flat)`);
    }
    out[key] = value;
  }
  return out;
}

/** Read one clinical JSON object. */
export async function readClinicalJson(path: string, opts: ClinicalOptions = {}): Promise<ClinicalRecord> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the clinical file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: expected a JSON object of clinical variables, found invalid JSON: ${(err as Error).message}`);
  }
  return normaliseClinical(raw as Record<string, unknown>, { ...opts, where: path });
}

/** Parse one table cell: a missing marker -> null, a numeric-looking cell -> number, else the string. */
export function clinicalCell(cell: string, markers: readonly MissingMarker[]): ClinicalValue {
  if (isMissing(cell, markers) || isMissing(cell.trim(), markers)) return null;
  const num = parseNumericCell(cell);
  if (num !== undefined) return isMissing(num, markers) ? null : num;
  return cell;
}

/** Read a clinical table (CSV/TSV) with an id column `id`, `case_id` or `patient_id`: case id -> record. */
export async function readClinicalTable(path: string, opts: ClinicalOptions = {}): Promise<Map<string, ClinicalRecord>> {
  const markers = opts.missingMarkers ?? DEFAULT_MISSING_MARKERS;
  const drop = new Set(opts.dropKeys ?? []);
  const { header, rows, rowLines } = await readDelimited(path);
  const lower = header.map((h) => h.trim().toLowerCase());
  const idName = CLINICAL_ID_COLUMNS.find((c) => lower.includes(c));
  if (!idName) {
    throw new Error(`${path}: expected an id column named ${CLINICAL_ID_COLUMNS.join(', ')}; found columns: ${header.join(', ')}`);
  }
  const idCol = lower.indexOf(idName);
  const out = new Map<string, ClinicalRecord>();
  rows.forEach((r, k) => {
    const id = r[idCol]!.trim();
    if (id === '') throw new Error(`${path}:${rowLines[k]}: empty case id in column '${header[idCol]}'`);
    if (out.has(id)) throw new Error(`${path}:${rowLines[k]}: case ${JSON.stringify(id)} appears twice`);
    const rec: ClinicalRecord = {};
    header.forEach((h, c) => {
      const key = h.trim();
      if (c === idCol || drop.has(key)) return;
      rec[key] = clinicalCell(r[c]!, markers);
    });
    out.set(id, rec);
  });
  return out;
}
