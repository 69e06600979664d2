import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePatchFeaturesH5 } from '../../../../core/data/io/hdf5.js';
import { loadPatchBag } from '../../../../core/data/patch-bag.js';
import { readCohort } from '../../../../core/data/read-cohort.js';
import { ChimeraTask3Reader } from '../../../../core/data/readers/chimera-task3.js';
import { registerCoreComponents } from '../../../../core/data/register.js';
import { Registries } from '../../../../core/registry/registry.js';
import { errorOf, fixtures, tempDir, testContext } from '../support.js';

let root: string;
let cleanup: () => Promise<void>;

async function put(base: string, rel: string, content: string | object): Promise<string> {
  const p = join(base, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const cd = (over: Record<string, unknown> = {}) => ({
  age: 68, sex: 'Male', smoking: -1, tumor: 'Primary', stage: 'T1HG', substage: '-1', grade: 'G3', reTUR: 'Yes', LVI: 'No',
  variant: 'UCC', EORTC: 'High risk', no_instillations: 12, BRS: 'BRS2', progression: 1, Time_to_prog_or_FUend: 22.4, ...over,
});

/** A small CHIMERA Task 3 training layout. */
async function makeLayout(base: string): Promise<void> {
  // 3A_001: h5 features in features/, RNA, labelled (event)
  await put(base, '3A_001/3A_001_CD.json', cd());
  await put(base, '3A_001/3A_001_RNA.json', { TP53: 1.25, FGFR3: 2 });
  await writePatchFeaturesH5(join(base, 'features', '3A_001_HE.h5'), { features: Float32Array.from([1, 2, 3, 4, 5, 6]), n: 2, dim: 3 });
  // 3B_002: npy features + the organisers' structured coordinates, censored, one more gene
  await put(base, '3B_002/3B_002_CD.json', cd({ sex: 'Female', LVI: -1, progression: 0, Time_to_prog_or_FUend: 101 }));
  await put(base, '3B_002/3B_002_RNA.json', { FGFR3: 0.5, KRT5: 7, TP53: -1 });
  await copyFile(join(fixtures, 'npy', 'features_f4.npy'), join(base, 'features', '3B_002_HE.npy'));
  await mkdir(join(base, 'coordinates'), { recursive: true });
  await copyFile(join(fixtures, 'npy', 'coords_chimera.npy'), join(base, 'coordinates', '3B_002_HE.npy'));
  // 3A_003: test-like case: no label keys, the test ground-truth key, h5 inside the patient folder, no RNA
  const { progression: _p, Time_to_prog_or_FUend: _t, ...unlabelled } = cd();
  await put(base, '3A_003/3A_003_CD.json', { ...unlabelled, time_to_HG_recur_or_FUend: 50 });
  await copyFile(join(fixtures, 'h5', 'clam_h5py.h5'), join(base, '3A_003', '3A_003_HE.h5'));
  // not patient folders
  await put(base, 'notes/readme.txt', 'x');
  await put(base, 'README.md', '# cohort');
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mmsurv-chimera-'));
  await makeLayout(join(root, 'ok'));
});
afterAll(async () => cleanup());

describe('chimera-task3 reader', () => {
  it('reads labels, clinical without label keys, RNA, features and coordinates', async () => {
    const base = join(root, 'ok');
    const r = new Registries();
    registerCoreComponents(r.registrar('core', 'core/data/register.ts'));
    const cohort = await readCohort(r, { format: 'chimera-task3', root: base }, testContext());
    expect(cohort.format).toBe('chimera-task3');
    expect(cohort.timeUnit).toBe('months');
    expect(cohort.cases.map((c) => c.id)).toEqual(['3A_001', '3A_003', '3B_002']);
    const [a, t, b] = cohort.cases;
    expect(a!.label).toEqual({ time: 22.4, event: true });
    expect(b!.label).toEqual({ time: 101, event: false });
    expect(t!.label).toBeUndefined();
    expect(a!.clinical).toEqual({
      age: 68, sex: 'Male', smoking: null, tumor: 'Primary', stage: 'T1HG', substage: null, grade: 'G3', reTUR: 'Yes', LVI: 'No',
      variant: 'UCC', EORTC: 'High risk', no_instillations: 12, BRS: 'BRS2',
    });
    expect(b!.clinical!.LVI).toBeNull();
    expect(Object.keys(t!.clinical!)).not.toContain('time_to_HG_recur_or_FUend');
    expect(a!.meta).toEqual({ cancerType: 'bladder', cohort: '3A' });
    expect(b!.meta).toEqual({ cancerType: 'bladder', cohort: '3B' });
    expect(a!.wsi).toEqual([{ slideId: '3A_001_HE', n: 2, dim: 3, source: { path: join(base, 'features', '3A_001_HE.h5'), format: 'h5' } }]);
    expect(b!.wsi).toEqual([{
      slideId: '3B_002_HE', n: 4, dim: 3,
      source: { path: join(base, 'features', '3B_002_HE.npy'), format: 'npy', coordsPath: join(base, 'coordinates', '3B_002_HE.npy') },
    }]);
    expect(t!.wsi![0]!.source!.path).toBe(join(base, '3A_003', '3A_003_HE.h5'));
    expect(Array.from((await loadPatchBag(b!.wsi![0]!)).coords!.subarray(0, 4))).toEqual([0, 224, 448, 672]);
    expect(a!.rna).toEqual({ genes: ['TP53', 'FGFR3'], values: Float32Array.from([1.25, 2]) });
    expect(b!.rna!.values[2]).toBe(-1); // -1 is a clinical marker only: RNA values are kept as they are
    expect(t!.rna).toBeUndefined();
    expect(cohort.geneOrder).toEqual(['FGFR3', 'KRT5', 'TP53']);
    expect(cohort.warnings).toEqual([
      "case '3A_003': no 3A_003_RNA.json",
      '1 of 2 RNA profiles lack some of the 3 genes of the cohort (missing genes read as 0)',
    ]);
  });

  it('custom keys and folders', async () => {
    const base = join(root, 'custom');
    await put(base, 'p1/p1_CD.json', { age: 50, recurrence: 1, months: 9, unknown: 'U' });
    await writePatchFeaturesH5(join(base, 'feats', 'p1_HE.h5'), { features: new Float32Array(4), n: 1, dim: 4 });
    const cohort = await new ChimeraTask3Reader({ eventKey: 'recurrence', timeKey: 'months', featuresDir: 'feats', missingMarkers: ['U'] }).read(base);
    const c = cohort.cases[0]!;
    expect(c.label).toEqual({ time: 9, event: true });
    expect(c.clinical).toEqual({ age: 50, unknown: null });
    expect(c.meta).toEqual({ cancerType: 'bladder' });
    expect(c.wsi![0]!.dim).toBe(4);
    expect(cohort.warnings).toEqual(["case 'p1': no p1_RNA.json"]);
    expect(cohort.geneOrder).toBeUndefined();
  });

  it('a case without features is a warning; .pt features alone are an error with the conversion command', async () => {
    const base = join(root, 'pt');
    await put(base, '3A_010/3A_010_CD.json', cd());
    const cohort = await new ChimeraTask3Reader().read(base);
    expect(cohort.cases[0]!.wsi).toBeUndefined();
    expect(cohort.warnings[1]).toBe(`case '3A_010': no patch features (looked for ${join(base, 'features', '3A_010_HE.h5')}, ` +
      `${join(base, 'features', '3A_010_HE.npy')}, ${join(base, '3A_010', '3A_010_HE.h5')})`);
    await put(base, '3A_010/3A_010_HE.tif', 'II*');
    expect((await new ChimeraTask3Reader().read(base)).warnings[1]).toMatch(/; only the slide 3A_010_HE\.tif: extract patch features first/);
    const pt = await put(base, 'features/3A_010_HE.pt', 'PK');
    const err = await errorOf(() => new ChimeraTask3Reader().read(base));
    expect(err.message).toContain(`case '3A_010': ${pt}: PyTorch .pt files are pickles and are not supported`);
    expect(err.message).toContain("numpy.save('");
    await rm(pt);
  });

  it('errors name the file, the key and the case', async () => {
    const base = join(root, 'bad');
    const p = await put(base, '3A_020/3A_020_CD.json', cd({ progression: 2 }));
    const reader = new ChimeraTask3Reader();
    expect((await errorOf(() => reader.read(base))).message).toBe(`${p} (case '3A_020'): key "progression": expected 0 or 1, found 2`);
    await put(base, '3A_020/3A_020_CD.json', cd({ Time_to_prog_or_FUend: -1 }));
    expect((await errorOf(() => reader.read(base))).message).toBe(`${p} (case '3A_020'): key "Time_to_prog_or_FUend": expected a finite number of months > 0, found -1`);
    const { Time_to_prog_or_FUend: _t, ...eventOnly } = cd();
    await put(base, '3A_020/3A_020_CD.json', eventOnly);
    expect((await errorOf(() => reader.read(base))).message).toContain(`${p} (case '3A_020'): found "progression" but not "Time_to_prog_or_FUend"`);
    await put(base, '3A_020/3A_020_CD.json', cd({ stage: ['T1'] }));
    expect((await errorOf(() => reader.read(base))).message).toContain(`${p} (case '3A_020'): key "stage": expected a string, a number or null, found an array`);
    await put(base, '3A_020/3A_020_CD.json', cd());
    const rna = await put(base, '3A_020/3A_020_RNA.json', { TP53: 'x' });
    expect((await errorOf(() => reader.read(base))).message).toBe(`case '3A_020': ${rna}: gene "TP53": expected a number (or null), found "x"`);
    await rm(rna);
    await writePatchFeaturesH5(join(base, 'features', '3A_020_HE.h5'), { features: new Float32Array(6), n: 2, dim: 3 });
    await put(base, 'coordinates/3A_020_HE.npy', 'not npy');
    expect((await errorOf(() => reader.read(base))).message).toContain(`case '3A_020': ${join(base, 'coordinates', '3A_020_HE.npy')}: not a NumPy .npy file`);
    const empty = join(root, 'empty');
    await mkdir(join(empty, 'x'), { recursive: true });
    expect((await errorOf(() => reader.read(empty))).message).toBe(`${empty}: expected patient folders <pid>/<pid>_CD.json (CHIMERA Task 3 layout), found none among 1 entries`);
  });
});

describe('chimera-task2 reader (the same layout, BRS as a binary label)', () => {
  it('reads BRS3 as positive and BRS1/2 as negative, drops BRS from clinical, keeps survival labels, does not ask for RNA', async () => {
    const base = join(root, 'task2');
    await put(base, '2A_001/2A_001_CD.json', cd({ BRS: 'BRS3' }));
    await put(base, '2A_002/2A_002_CD.json', cd({ BRS: 'BRS1' }));
    const { progression: _p, Time_to_prog_or_FUend: _t, ...noSurvival } = cd({ BRS: 'BRS2' });
    await put(base, '2A_003/2A_003_CD.json', noSurvival);
    await put(base, '2A_004/2A_004_CD.json', cd({ BRS: -1 }));
    for (const pid of ['2A_001', '2A_002', '2A_003', '2A_004']) {
      await writePatchFeaturesH5(join(base, 'features', `${pid}_HE.h5`), { features: new Float32Array(6), n: 2, dim: 3 });
    }
    const registries = new Registries();
    registerCoreComponents(registries.registrar('core', 'core/data/register.ts'));
    const cohort = await readCohort(registries, { format: 'chimera-task2', root: base }, testContext());
    expect(cohort.format).toBe('chimera-task2');
    const byId = Object.fromEntries(cohort.cases.map((c) => [c.id, c]));
    expect(byId['2A_001']!.binary).toEqual({ positive: true });
    expect(byId['2A_002']!.binary).toEqual({ positive: false });
    expect(byId['2A_003']!.binary).toEqual({ positive: false });
    expect(byId['2A_003']!.label).toBeUndefined();
    expect(byId['2A_001']!.label).toEqual({ time: 22.4, event: true });
    expect(byId['2A_004']!.binary).toBeUndefined();
    for (const c of cohort.cases) expect(Object.keys(c.clinical!)).not.toContain('BRS');
    expect(cohort.warnings).toEqual(['1 of 4 cases have no "BRS" value (missing marker or absent), so no binary label']);
    // the Task 3 reader keeps BRS as a clinical variable and sets no binary label
    const task3 = await new ChimeraTask3Reader().read(base);
    expect(task3.cases[0]!.clinical!['BRS']).toBe('BRS3');
    expect(task3.cases.every((c) => c.binary === undefined)).toBe(true);
  });

  it('an unknown BRS value is an error naming the file, the key, the case and the accepted values', async () => {
    const base = join(root, 'task2-bad');
    const p = await put(base, '2A_009/2A_009_CD.json', cd({ BRS: 'BRS4' }));
    const reader = new ChimeraTask3Reader({}, 'chimera-task2');
    expect((await errorOf(() => reader.read(base))).message).toBe(
      `${p} (case '2A_009'): key "BRS": expected one of "BRS3", "BRS1", "BRS2" (positive: BRS3) or a missing marker, found "BRS4"`);
  });
});
