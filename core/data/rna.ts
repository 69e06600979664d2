/**
 * Bulk RNA expression: per-case JSON ({gene: value}, CHIMERA's `_RNA.json`), cohort matrices (TSV/CSV),
 * a cohort gene order, and alignment of a profile to that order.
 */
import { readFile } from 'node:fs/promises';
import type { RnaProfile } from '../contracts/case.js';
import { parseNumericCell, readDelimited } from './csv.js';

export interface RnaReadOptions {
  /** Non-fatal findings (null values) are appended here, one line each. */
  warnings?: string[];
}

/** Header cells that mark a genes-by-cases matrix (compared case-insensitively). */
export const GENE_COLUMN_NAMES = ['gene', 'gene_id', 'gene_symbol', 'symbol', 'hugo_symbol'];

/** The keys of a flat JSON object in file order, including duplicates (which JSON.parse would silently merge). */
function flatObjectKeys(text: string): string[] {
  const keys: string[] = [];
  const str = /"(?:[^"\\]|\\.)*"/g;
  let m: RegExpExecArray | null;
  while ((m = str.exec(text)) !== null) {
    let j = str.lastIndex;
    while (j < text.length && /\s/.test(text[j]!)) j++;
    if (text[j] === ':') keys.push(JSON.parse(m[0]) as string);
  }
  return keys;
}

function duplicates(names: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const g of names) (seen.has(g) ? dup : seen).add(g);
  return [...dup];
}

/** Read a flat `{gene symbol: number}` JSON. null -> NaN (counted in a warning); anything else non-numeric -> error. */
export async function readRnaJson(path: string, opts: RnaReadOptions = {}): Promise<RnaProfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the RNA file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: expected a JSON object {gene symbol: number}, found invalid JSON: ${(err as Error).message}`);
  }
  const profile = rnaProfileFromObject(raw, path, { warnings: opts.warnings });
  const dup = duplicates(flatObjectKeys(text));
  if (dup.length > 0) {
    throw new Error(`${path}: duplicate gene names: ${dup.slice(0, 10).join(', ')}${dup.length > 10 ? ', ...' : ''}` +
      ' (each gene must appear once)');
  }
  return profile;
}

export interface RnaObjectOptions {
  /** Non-fatal findings are appended here, one line each. */
  warnings?: string[] | undefined;
  /**
   * Test-time reading (a container must still predict): null, NaN, non-numeric strings become missing with one
   * warning, numeric strings are read as numbers, and only an empty object or one without any number is an error.
   * Default (training data): null is missing, anything else non-numeric is an error.
   */
  lenient?: boolean;
}

/** A parsed `{gene symbol: number}` object as a profile; missing values are NaN. `where` names it in messages. */
export function rnaProfileFromObject(raw: unknown, where: string, opts: RnaObjectOptions = {}): RnaProfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected a JSON object {gene symbol: number}, found ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const obj = raw as Record<string, unknown>;
  const genes = Object.keys(obj);
  if (opts.lenient && genes.length === 0) throw new Error(`${where}: expected a JSON object {gene symbol: number}, found an empty object`);
  const values = new Float32Array(genes.length);
  const missing: string[] = [];
  genes.forEach((g, i) => {
    const v = obj[g];
    if (typeof v === 'number' && (Number.isFinite(v) || !opts.lenient)) values[i] = v;
    else if (v === null) { values[i] = NaN; missing.push(g); }
    else if (opts.lenient) {
      const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      values[i] = Number.isFinite(x) ? x : NaN;
      if (!Number.isFinite(x)) missing.push(g);
    } else {
      throw new Error(`${where}: gene ${JSON.stringify(g)}: expected a number (or null), found ${JSON.stringify(v)}`);
    }
  });
  if (missing.length === 0) return { genes, values };
  if (!opts.lenient) {
    opts.warnings?.push(`${where}: ${missing.length} of ${genes.length} genes are null (read as missing)`);
  } else {
    if (missing.length === genes.length) throw new Error(`${where}: none of the ${genes.length} genes has a numeric value`);
    opts.warnings?.push(`${where}: ${missing.length} of ${genes.length} genes have no numeric value (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}); read as missing`);
  }
  return { genes, values };
}

/**
 * Read an expression matrix (TSV/CSV). If the first header cell is a gene column name (gene, gene_id, gene_symbol,
 * symbol, Hugo_Symbol; any case) rows are genes and columns are cases; otherwise rows are cases, the first column is
 * the case id and the other columns are genes. Empty, NA and NaN cells -> NaN (counted in a warning).
 */
export async function readRnaMatrix(path: string, opts: RnaReadOptions = {}): Promise<Map<string, RnaProfile>> {
  const table = await readDelimited(path);
  const { header, rows, rowLines } = table;
  const genesByRow = GENE_COLUMN_NAMES.includes(header[0]!.trim().toLowerCase());
  let missing = 0;
  const cell = (s: string, line: number, col: number): number => {
    const t = s.trim();
    if (t === '' || t === 'NA' || t === 'NaN' || t === 'nan') { missing++; return NaN; }
    const v = parseNumericCell(t);
    if (v === undefined) {
      throw new Error(`${path}:${line}: column ${JSON.stringify(header[col])}: expected a number, found ${JSON.stringify(s)}`);
    }
    return v;
  };
  const out = new Map<string, RnaProfile>();
  if (genesByRow) {
    const cases = header.slice(1).map((c) => c.trim());
    const dupCases = duplicates(cases);
    if (dupCases.length) throw new Error(`${path}: duplicate case columns: ${dupCases.join(', ')}`);
    const genes = rows.map((r) => r[0]!.trim());
    const dupGenes = duplicates(genes);
    if (dupGenes.length) throw new Error(`${path}: duplicate gene rows: ${dupGenes.slice(0, 10).join(', ')} (each gene must appear once)`);
    const columns = cases.map(() => new Float32Array(genes.length));
    rows.forEach((r, gi) => {
      for (let c = 1; c < r.length; c++) columns[c - 1]![gi] = cell(r[c]!, rowLines[gi]!, c);
    });
    cases.forEach((id, k) => out.set(id, { genes: [...genes], values: columns[k]! }));
  } else {
    const genes = header.slice(1).map((g) => g.trim());
    const dupGenes = duplicates(genes);
    if (dupGenes.length) throw new Error(`${path}: duplicate gene columns: ${dupGenes.slice(0, 10).join(', ')} (each gene must appear once)`);
    rows.forEach((r, k) => {
      const id = r[0]!.trim();
      if (out.has(id)) throw new Error(`${path}:${rowLines[k]}: case ${JSON.stringify(id)} appears twice`);
      const values = new Float32Array(genes.length);
      for (let c = 1; c < r.length; c++) values[c - 1] = cell(r[c]!, rowLines[k]!, c);
      out.set(id, { genes: [...genes], values });
    });
  }
  if (missing > 0) opts.warnings?.push(`${path}: ${missing} empty or NA cells (read as missing)`);
  return out;
}

/** The sorted union of the genes of all profiles (never the file order of any one of them). */
export function cohortGeneOrder(profiles: RnaProfile[]): string[] {
  const all = new Set<string>();
  for (const p of profiles) for (const g of p.genes) all.add(g);
  return [...all].sort();
}

/**
 * Values of `profile` in `geneOrder`. Genes absent from the profile, and NaN (null) values, become 0 and are counted
 * in `missing`; genes of the profile that are not in `geneOrder` are ignored.
 */
export function alignRna(profile: RnaProfile, geneOrder: readonly string[]): { values: Float32Array; missing: number } {
  const index = new Map<string, number>();
  profile.genes.forEach((g, i) => index.set(g, i));
  const values = new Float32Array(geneOrder.length);
  let missing = 0;
  geneOrder.forEach((g, k) => {
    const i = index.get(g);
    const v = i === undefined ? NaN : profile.values[i]!;
    if (Number.isNaN(v)) missing++;
    else values[k] = v;
  });
  return { values, missing };
}
