import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delimiterFor, parseDelimited, parseNumericCell, readDelimited } from '../../../core/data/csv.js';
import { errorOf, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

describe('parseDelimited', () => {
  it('parses quotes, doubled quotes, embedded delimiters and newlines, CRLF, and records line numbers', () => {
    const text = 'id,note,age\r\n1,"said ""hi"", left",71\r\n2,"two\r\nlines",\r\n\r\n3,plain,5\r\n';
    const t = parseDelimited(text, { file: 'c.csv' });
    expect(t.header).toEqual(['id', 'note', 'age']);
    expect(t.rows).toEqual([
      ['1', 'said "hi", left', '71'],
      ['2', 'two\r\nlines', ''],
      ['3', 'plain', '5'],
    ]);
    expect(t.rowLines).toEqual([2, 3, 6]);
  });

  it('TSV by extension; a BOM is dropped; no final newline; a quote inside an unquoted field is literal', () => {
    const t = parseDelimited('\ufeffgene\tA\tB\nTP53\t1.5\t2\nit"s\t3\t4', { file: 'm.tsv' });
    expect(t.header).toEqual(['gene', 'A', 'B']);
    expect(t.rows).toEqual([['TP53', '1.5', '2'], ['it"s', '3', '4']]);
    expect(delimiterFor('x.TSV')).toBe('\t');
    expect(delimiterFor('x.csv')).toBe(',');
  });

  it('errors name the file and line', () => {
    expect(() => parseDelimited('a,b\n1,2\n3\n', { file: 'f.csv' })).toThrow('f.csv:3: expected 2 fields as in the header, found 1');
    expect(() => parseDelimited('a,b\n1,"open\n2,3\n', { file: 'f.csv' })).toThrow('f.csv:2: a quoted field opened on line 2 is never closed');
    expect(() => parseDelimited('a,b\n"x"y,2\n', { file: 'f.csv' })).toThrow('f.csv:2: expected a delimiter or a line end after a closing quote');
    expect(() => parseDelimited('\n\n', { file: 'e.csv' })).toThrow('e.csv: expected a header line, found an empty file');
    expect(() => parseDelimited('a,b\n1,2\n\n"x,y",2,3\n', { file: 't.csv' })).toThrow('t.csv:4: expected 2 fields as in the header, found 3');
  });

  it('parseNumericCell accepts decimal and scientific numbers only', () => {
    expect(['1', '-2.5', '+3', '.5', '4.', '1e3', '-1.5E-2', ' 7 '].map(parseNumericCell)).toEqual([1, -2.5, 3, 0.5, 4, 1000, -0.015, 7]);
    expect(['', 'NA', 'nan', 'inf', '0x10', '1,5', '12a', '-'].map(parseNumericCell)).toEqual(Array(8).fill(undefined));
  });
});

describe('readDelimited', () => {
  it('reads a file and names it in errors', async () => {
    const p = join(dir, 'x.csv');
    await writeFile(p, 'a,b\n1,2\n');
    expect((await readDelimited(p)).rows).toEqual([['1', '2']]);
    const missing = join(dir, 'missing.csv');
    expect((await errorOf(() => readDelimited(missing))).message).toBe(`${missing}: cannot read the table (ENOENT)`);
  });
});
