/**
 * A small RFC 4180 parser for CSV and TSV: quoted fields, doubled quotes inside quotes, CRLF or LF line ends,
 * newlines inside quoted fields. A quote only opens a quoted field at the start of a field; elsewhere it is a
 * literal character. Blank lines are skipped; every other row must have as many fields as the header.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

export interface DelimitedTable {
  header: string[];
  rows: string[][];
  /** 1-based line number where each row starts (for error messages). */
  rowLines: number[];
}

export interface ParseOptions {
  /** Name used in error messages (usually the file path). */
  file: string;
  /** Field separator; default: tab for .tsv/.tab/.txt names, else ','. */
  delimiter?: string;
}

/** The delimiter a file name implies: tab for .tsv/.tab/.txt, else comma. */
export function delimiterFor(file: string): string {
  return ['.tsv', '.tab', '.txt'].includes(extname(file).toLowerCase()) ? '\t' : ',';
}

/** Parse CSV/TSV text into a header and rows of strings. */
export function parseDelimited(text: string, opts: ParseOptions): DelimitedTable {
  const { file } = opts;
  const delim = opts.delimiter ?? delimiterFor(file);
  if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
    throw new Error(`${file}: the delimiter must be one character other than a quote or newline, found ${JSON.stringify(delim)}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let field = '';
      if (text[i] === '"') {
        const openLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new Error(`${file}:${openLine}: a quoted field opened on line ${openLine} is never closed`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') {
          throw new Error(`${file}:${line}: expected a delimiter or a line end after a closing quote, found ` +
            `${JSON.stringify(text[i])} (a quote inside a quoted field must be doubled: "")`);
        }
      } else {
        const start = i;
        while (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') i++;
        field = text.slice(start, i);
      }
      fields.push(field);
      if (i >= n) endOfRecord = true;
      else if (text[i] === delim) i++;
      else {
        if (text[i] === '\r') i++;
        if (text[i] === '\n') i++;
        line++;
        endOfRecord = true;
      }
    }
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    records.push(fields);
    lines.push(startLine);
  }
  if (records.length === 0) throw new Error(`${file}: expected a header line, found an empty file`);
  const header = records[0]!;
  const rows = records.slice(1);
  const rowLines = lines.slice(1);
  rows.forEach((r, k) => {
    if (r.length !== header.length) {
      throw new Error(`${file}:${rowLines[k]}: expected ${header.length} fields as in the header, found ${r.length}`);
    }
  });
  return { header, rows, rowLines };
}

/** Read and parse a CSV/TSV file (UTF-8). */
export async function readDelimited(path: string, delimiter?: string): Promise<DelimitedTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the table (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseDelimited(text, { file: path, ...(delimiter === undefined ? {} : { delimiter }) });
}

/** A cell that looks like a number (decimal or scientific notation, optional sign; also inf/nan are NOT numbers). */
export function parseNumericCell(cell: string): number | undefined {
  const t = cell.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}
