import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignRna, cohortGeneOrder, readRnaJson, readRnaMatrix } from '../../../core/data/rna.js';
import { errorOf, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('readRnaJson', () => {
  it('reads a flat {gene: value} JSON in file order; null -> NaN with a warning', async () => {
    const p = await file('a_RNA.json', '{"TP53": 2.5, "FGFR3": -0.125, "KRT5": null, "ERBB2": 10}');
    const warnings: string[] = [];
    const r = await readRnaJson(p, { warnings });
    expect(r.genes).toEqual(['TP53', 'FGFR3', 'KRT5', 'ERBB2']);
    expect(Array.from(r.values.subarray(0, 2))).toEqual([2.5, -0.125]);
    expect(r.values[2]).toBeNaN();
    expect(r.values[3]).toBe(10);
    expect(warnings).toEqual([`${p}: 1 of 4 genes are null (read as missing)`]);
  });

  it('errors: non-numeric value (names gene), duplicate gene, not an object, bad JSON', async () => {
    const s = await file('s.json', '{"TP53": 1, "MYC": "high"}');
    expect((await errorOf(() => readRnaJson(s))).message).toBe(`${s}: gene "MYC": expected a number (or null), found "high"`);
    const nested = await file('n.json', '{"TP53": {"v": 1}}');
    expect((await errorOf(() => readRnaJson(nested))).message).toContain(`${nested}: gene "TP53": expected a number (or null), found {"v":1}`);
    const dup = await file('d.json', '{"TP53": 1, "A\\"B": 2, "TP53": 3}');
    expect((await errorOf(() => readRnaJson(dup))).message).toBe(`${dup}: duplicate gene names: TP53 (each gene must appear once)`);
    const arr = await file('arr.json', '[1, 2]');
    expect((await errorOf(() => readRnaJson(arr))).message).toContain('found an array');
    const bad = await file('bad.json', '{"TP53": 1,');
    expect((await errorOf(() => readRnaJson(bad))).message).toContain(`${bad}: expected a JSON object {gene symbol: number}, found invalid JSON`);
  });

  it('string values containing colons do not confuse the duplicate check', async () => {
    const p = await file('colon.json', '{"A": 1, "B:C": 2, "D": 3}');
    expect((await readRnaJson(p)).genes).toEqual(['A', 'B:C', 'D']);
  });
});

describe('readRnaMatrix', () => {
  it('genes x cases when the first header cell names a gene column (any case)', async () => {
    const p = await file('g.tsv', 'Hugo_Symbol\tc1\tc2\nTP53\t1\t2\nMYC\t3\tNA\n');
    const warnings: string[] = [];
    const m = await readRnaMatrix(p, { warnings });
    expect([...m.keys()]).toEqual(['c1', 'c2']);
    expect(m.get('c1')!.genes).toEqual(['TP53', 'MYC']);
    expect(Array.from(m.get('c1')!.values)).toEqual([1, 3]);
    expect(m.get('c2')!.values[0]).toBe(2);
    expect(m.get('c2')!.values[1]).toBeNaN();
    expect(warnings).toEqual([`${p}: 1 empty or NA cells (read as missing)`]);
  });

  it('cases x genes otherwise (first column = case id)', async () => {
    const p = await file('c.csv', 'case,TP53,MYC\nc1,1.5,2e1\nc2,-3,4\n');
    const m = await readRnaMatrix(p);
    expect(m.get('c1')).toEqual({ genes: ['TP53', 'MYC'], values: Float32Array.from([1.5, 20]) });
    expect(Array.from(m.get('c2')!.values)).toEqual([-3, 4]);
  });

  it('errors: duplicate gene rows/columns, duplicate case, non-numeric cell with line and column', async () => {
    const dupRow = await file('dr.tsv', 'gene\tc1\nTP53\t1\nTP53\t2\n');
    expect((await errorOf(() => readRnaMatrix(dupRow))).message).toBe(`${dupRow}: duplicate gene rows: TP53 (each gene must appear once)`);
    const dupCol = await file('dc.csv', 'id,TP53,TP53\nc1,1,2\n');
    expect((await errorOf(() => readRnaMatrix(dupCol))).message).toContain(`${dupCol}: duplicate gene columns: TP53`);
    const dupCase = await file('dcase.csv', 'id,TP53\nc1,1\nc1,2\n');
    expect((await errorOf(() => readRnaMatrix(dupCase))).message).toBe(`${dupCase}:3: case "c1" appears twice`);
    const text = await file('t.csv', 'id,TP53,MYC\nc1,1,2\nc2,3,high\n');
    expect((await errorOf(() => readRnaMatrix(text))).message).toBe(`${text}:3: column "MYC": expected a number, found "high"`);
  });
});

describe('cohortGeneOrder and alignRna', () => {
  const a = { genes: ['TP53', 'MYC', 'KRT5'], values: Float32Array.from([1, 2, 3]) };
  const b = { genes: ['ERBB2', 'MYC'], values: Float32Array.from([4, NaN]) };

  it('gene order is the sorted union, whatever the file orders', () => {
    expect(cohortGeneOrder([a, b])).toEqual(['ERBB2', 'KRT5', 'MYC', 'TP53']);
    expect(cohortGeneOrder([b, a])).toEqual(['ERBB2', 'KRT5', 'MYC', 'TP53']);
    expect(cohortGeneOrder([])).toEqual([]);
  });

  it('aligns by name: absent and NaN genes -> 0 and counted; extra genes ignored', () => {
    const order = ['ERBB2', 'KRT5', 'MYC', 'TP53'];
    expect(alignRna(a, order)).toEqual({ values: Float32Array.from([0, 3, 2, 1]), missing: 1 });
    expect(alignRna(b, order)).toEqual({ values: Float32Array.from([4, 0, 0, 0]), missing: 3 });
    expect(alignRna(a, ['MYC'])).toEqual({ values: Float32Array.from([2]), missing: 0 });
  });
});
