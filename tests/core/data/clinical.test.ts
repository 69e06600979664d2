import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MISSING_MARKERS, clinicalCell, normaliseClinical, readClinicalJson, readClinicalTable,
} from '../../../core/data/clinical.js';
import { errorOf, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

describe('normaliseClinical', () => {
  it('maps missing markers to null, keeps JSON types, drops keys', () => {
    const raw = {
      age: 71, sex: 'Male', smoking: -1, substage: '-1', LVI: '', grade: 'NA', x: 'NaN', y: 'nan', z: null,
      no_instillations: '12', BRS: 'BRS3', flag: true, progression: 1,
    };
    expect(normaliseClinical(raw, { where: 'w', dropKeys: ['progression'] })).toEqual({
      age: 71, sex: 'Male', smoking: null, substage: null, LVI: null, grade: null, x: null, y: null, z: null,
      no_instillations: '12', BRS: 'BRS3', flag: 'true',
    });
    expect(DEFAULT_MISSING_MARKERS).toEqual([-1, '-1', '', 'NA', 'NaN', 'nan', null]);
  });

  it('custom markers replace the defaults', () => {
    expect(normaliseClinical({ a: -1, b: 'unknown', c: 0 }, { where: 'w', missingMarkers: ['unknown', 0] })).toEqual({ a: -1, b: null, c: null });
  });

  it('nested values are an error naming where and the key', () => {
    expect(() => normaliseClinical({ age: 3, stage: { t: 'T1' } }, { where: 'p1_CD.json' }))
      .toThrow('p1_CD.json: key "stage": expected a string, a number or null, found an object {"t":"T1"} (clinical records are flat)');
    expect(() => normaliseClinical({ tags: [1] }, { where: 'case 7' })).toThrow('case 7: key "tags": expected a string, a number or null, found an array');
  });
});

describe('readClinicalJson', () => {
  it('reads and normalises a CHIMERA-like _CD.json', async () => {
    const p = join(dir, 'p_CD.json');
    await writeFile(p, JSON.stringify({ age: 65, sex: 'Female', LVI: -1, EORTC: 'High risk', progression: 0, Time_to_prog_or_FUend: 40 }));
    expect(await readClinicalJson(p, { dropKeys: ['progression', 'Time_to_prog_or_FUend'] }))
      .toEqual({ age: 65, sex: 'Female', LVI: null, EORTC: 'High risk' });
  });

  it('errors name the file', async () => {
    const p = join(dir, 'bad_CD.json');
    await writeFile(p, '{"age": ');
    expect((await errorOf(() => readClinicalJson(p))).message).toContain(`${p}: expected a JSON object of clinical variables, found invalid JSON`);
    const arr = join(dir, 'arr_CD.json');
    await writeFile(arr, '[]');
    expect((await errorOf(() => readClinicalJson(arr))).message).toBe(`${arr}: expected a JSON object of clinical variables, found []`);
  });
});

describe('readClinicalTable', () => {
  it('id column, numeric-looking cells -> numbers, markers -> null', async () => {
    const p = join(dir, 'clin.csv');
    await writeFile(p, 'age,Case_ID,sex,grade,score\n71,c1,Male,G3,-1\n5e1,c2,"Fe, male",NA,-1.0\n,c3,-1,G2,0012\n');
    const t = await readClinicalTable(p);
    expect([...t.keys()]).toEqual(['c1', 'c2', 'c3']);
    expect(t.get('c1')).toEqual({ age: 71, sex: 'Male', grade: 'G3', score: null });
    expect(t.get('c2')).toEqual({ age: 50, sex: 'Fe, male', grade: null, score: null });
    expect(t.get('c3')).toEqual({ age: null, sex: null, grade: 'G2', score: 12 });
    expect(clinicalCell(' NA ', DEFAULT_MISSING_MARKERS)).toBeNull();
  });

  it('errors: no id column, duplicate id (with line)', async () => {
    const noId = join(dir, 'noid.tsv');
    await writeFile(noId, 'name\tage\nx\t1\n');
    expect((await errorOf(() => readClinicalTable(noId))).message).toBe(`${noId}: expected an id column named id, case_id, patient_id; found columns: name, age`);
    const dup = join(dir, 'dup.csv');
    await writeFile(dup, 'id,age\na,1\nb,2\na,3\n');
    expect((await errorOf(() => readClinicalTable(dup))).message).toBe(`${dup}:4: case "a" appears twice`);
  });
});
