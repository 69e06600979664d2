/**
 * A table of per-case predictions and outcomes (CSV/TSV), as `mmsurv metrics` reads it: one row per case, a time
 * column, an event column (0/1, true/false), a risk column (higher = earlier event) and, optionally, one column of
 * S(t) per evaluation time named `<prefix><t>` (e.g. `surv_365`). Row order does not matter; other columns are
 * ignored. Every bad cell is an error naming the file, the line and the column.
 *
 * @example
 * const t = await readSurvivalTable('preds.csv', { time: 'time', event: 'event', risk: 'risk', times: ['365', '1095'] });
 * t.surv?.[0]; // [S(365), S(1095)] of the first row, when surv_365 and surv_1095 exist
 */
import { readDelimited } from './csv.js';

export interface SurvivalTableColumns {
  time: string;
  event: string;
  risk: string;
  /** Prefix of the S(t) columns; they are read when `times` is given and the columns exist. */
  survPrefix?: string;
  /** Evaluation times, as written in the column names (e.g. '365'). */
  times?: string[];
}

export interface SurvivalTable {
  file: string;
  time: number[];
  event: number[];
  risk: number[];
  /** [n][times] S(t) per case, when every `<prefix><t>` column is present. */
  surv?: number[][];
  /** The S(t) columns that were looked for and not found (so the caller can say why brier is absent). */
  missingSurvColumns: string[];
}

const TRUE = new Set(['1', 'true', 'TRUE', 'True', 'yes']);
const FALSE = new Set(['0', 'false', 'FALSE', 'False', 'no']);

export async function readSurvivalTable(file: string, cols: SurvivalTableColumns): Promise<SurvivalTable> {
  const table = await readDelimited(file);
  const index = (name: string, what: string): number => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no ${what} column '${name}'; the columns are: ${table.header.join(', ')}`);
    return i;
  };
  const ti = index(cols.time, 'time');
  const ei = index(cols.event, 'event');
  const ri = index(cols.risk, 'risk');
  const prefix = cols.survPrefix ?? 'surv_';
  const survNames = (cols.times ?? []).map((t) => `${prefix}${t}`);
  // `surv_365` is found as written, or as any `<prefix><number>` column with the same number (`surv_365.0`)
  const survIdx = (cols.times ?? []).map((t, k) => {
    const exact = table.header.indexOf(survNames[k]!);
    if (exact >= 0) return exact;
    return table.header.findIndex((h) => h.startsWith(prefix) && h.length > prefix.length && Number(h.slice(prefix.length)) === Number(t));
  });
  const missingSurvColumns = survNames.filter((_, k) => survIdx[k]! < 0);
  if (missingSurvColumns.length > 0 && missingSurvColumns.length < survNames.length) {
    throw new Error(
      `${file}: S(t) columns for some times but not all: missing ${missingSurvColumns.join(', ')}; ` +
        `either give every time in --times a '${prefix}<t>' column or none (then Brier scores are skipped)`,
    );
  }
  const readSurv = survNames.length > 0 && missingSurvColumns.length === 0;

  const num = (row: number, col: number, name: string): number => {
    const cell = table.rows[row]![col]!.trim();
    const v = cell === '' ? NaN : Number(cell);
    if (!Number.isFinite(v)) {
      throw new Error(`${file}:${table.rowLines[row]}: column '${name}': expected a finite number, found ${JSON.stringify(cell)}`);
    }
    return v;
  };
  const out: SurvivalTable = { file, time: [], event: [], risk: [], missingSurvColumns };
  for (const c of [ti, ei, ri, ...(readSurv ? survIdx : [])]) {
    const h = table.header[c]!;
    if (table.header.lastIndexOf(h) !== c) throw new Error(`${file}: the column '${h}' appears twice in the header; which one to read is ambiguous`);
  }
  if (readSurv) out.surv = [];
  for (let r = 0; r < table.rows.length; r++) {
    const t = num(r, ti, cols.time);
    if (t < 0) throw new Error(`${file}:${table.rowLines[r]}: column '${cols.time}': expected a time >= 0, found ${t}`);
    const e = table.rows[r]![ei]!.trim();
    if (!TRUE.has(e) && !FALSE.has(e)) {
      throw new Error(`${file}:${table.rowLines[r]}: column '${cols.event}': expected 0/1 or true/false (1 = event observed), found ${JSON.stringify(e)}`);
    }
    out.time.push(t);
    out.event.push(TRUE.has(e) ? 1 : 0);
    out.risk.push(num(r, ri, cols.risk));
    if (out.surv) {
      out.surv.push(
        survIdx.map((c, k) => {
          const s = num(r, c, survNames[k]!);
          if (s < 0 || s > 1) throw new Error(`${file}:${table.rowLines[r]}: column '${survNames[k]}': expected a survival probability in [0, 1], found ${s}`);
          return s;
        }),
      );
    }
  }
  if (out.time.length === 0) throw new Error(`${file}: no rows`);
  return out;
}
