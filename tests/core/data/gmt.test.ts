import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGmt, readGmt } from '../../../core/data/gmt.js';
import { makeGeneModel, toGmt } from '../../../core/data/synth/rna.js';
import { SeededRandom } from '../../../core/services/random.js';
import { tempDir } from './support.js';

describe('parseGmt', () => {
  it('reads name, description and genes per line; skips blank lines; tolerates CRLF and trailing tabs', () => {
    const text = 'HALLMARK_A\thttp://x/a\tTP53\tEGFR\r\n\nSET_B\t\tMYC\t\t\n';
    expect(parseGmt(text, 'p.gmt')).toEqual([
      { name: 'HALLMARK_A', description: 'http://x/a', genes: ['TP53', 'EGFR'] },
      { name: 'SET_B', description: '', genes: ['MYC'] },
    ]);
  });

  it('keeps the first position of a gene repeated within a set', () => {
    expect(parseGmt('S\td\tA\tB\tA\tC\n', 'x.gmt')[0]!.genes).toEqual(['A', 'B', 'C']);
  });

  it('errors name the file and line and show the expected format', () => {
    expect(() => parseGmt('OK\td\tA\nBAD LINE WITH SPACES\n', 'p.gmt')).toThrow(/^p\.gmt:2: expected a gene set line 'name<TAB>description<TAB>gene1<TAB>gene2\.\.\.', found 1 field \(fields must be separated by TABs, not spaces\)/);
    expect(() => parseGmt('\td\tA\n', 'p.gmt')).toThrow(/^p\.gmt:1: the gene set name \(first field\) is empty/);
    expect(() => parseGmt('S\tdescription only\n', 'p.gmt')).toThrow(/^p\.gmt:1: gene set "S" lists no genes/);
    expect(() => parseGmt('S\td\tA\nT\td\tB\n\nS\td\tC\n', 'p.gmt')).toThrow('p.gmt:4: gene set "S" was already defined on line 1; names must be unique');
    expect(() => parseGmt('\n\n', 'empty.gmt')).toThrow(/^empty\.gmt: no gene sets found/);
  });
});

describe('readGmt', () => {
  it('reads the pathways.gmt the synthetic cohort generator writes', async () => {
    const model = makeGeneModel(new SeededRandom(4), 60);
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'pathways.gmt');
      await writeFile(path, toGmt(model));
      const sets = readGmt(path);
      expect(sets).toHaveLength(model.pathways.length);
      sets.forEach((s, i) => {
        expect(s.name).toBe(model.pathways[i]!.name);
        expect(s.genes).toEqual(model.pathways[i]!.genes.map((g) => model.genes[g]));
      });
    } finally {
      await cleanup();
    }
  });

  it('a missing file is an error with the path and a hint', () => {
    expect(() => readGmt('/nonexistent/x.gmt')).toThrow(/^\/nonexistent\/x\.gmt: cannot read the GMT gene-set file \(ENOENT\); check the path/);
  });
});
