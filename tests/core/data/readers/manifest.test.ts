import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePatchFeaturesH5 } from '../../../../core/data/io/hdf5.js';
import { writeNpy } from '../../../../core/data/io/npy.js';
import { loadPatchBag } from '../../../../core/data/patch-bag.js';
import { readCohort } from '../../../../core/data/read-cohort.js';
import { ManifestReader } from '../../../../core/data/readers/manifest.js';
import { registerCoreComponents } from '../../../../core/data/register.js';
import { Registries } from '../../../../core/registry/registry.js';
import { errorOf, tempDir, testContext } from '../support.js';

let root: string;
let cleanup: () => Promise<void>;

async function put(rel: string, content: string | object): Promise<void> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
}

const baseCases = () => [
  {
    id: 'case-0001', label: { time: 12.5, event: true }, wsi: ['features/case-0001.h5'], rna: 'rna/case-0001.json',
    clinical: { age: 71, sex: 'Male', LVI: -1 }, texts: { report: 'reports/case-0001.txt' }, meta: { cancerType: 'bladder', patientId: 'P1', site: 3 },
  },
  {
    id: 'case-0002', label: { time: 40, event: 0 },
    wsi: [{ features: 'features/case-0002.npy', coords: 'coords/case-0002.npy', slideId: 'slide-2' }],
    rna: 'rna/case-0002.json', clinical: 'clinical/case-0002.json',
  },
  { id: 'case-0003' },
];
const manifest = (extra: Record<string, unknown> = {}, cases: unknown[] = baseCases()) => ({
  format: 'mmsurv-manifest', version: 1, name: 'demo', timeUnit: 'months', cases, ...extra,
});

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mmsurv-manifest-'));
  await mkdir(join(root, 'features'), { recursive: true });
  await writePatchFeaturesH5(join(root, 'features', 'case-0001.h5'), {
    features: Float32Array.from({ length: 12 }, (_, k) => k), n: 3, dim: 4, coords: Int32Array.from([0, 0, 1, 1, 2, 2]),
  });
  await writeNpy(join(root, 'features', 'case-0002.npy'), Float32Array.from([9, 8, 7, 6]), [1, 4]);
  await writeNpy(join(root, 'coords', 'case-0002.npy'), Int32Array.from([100, 200]), [1, 2]);
  await put('rna/case-0001.json', { TP53: 1.5, MYC: 2 });
  await put('rna/case-0002.json', { KRT5: 3, TP53: 4 });
  await put('clinical/case-0002.json', { age: 60, sex: 'Female', LVI: 'Yes' });
  await put('reports/case-0001.txt', 'High-grade papillary urothelial carcinoma, T1.\n');
  await put('genes.txt', 'TP53\nMYC\n\nERBB2\n');
  await put('rna.tsv', 'gene\tcase-0003\tghost\nTP53\t5\t6\nMYC\t7\t8\n');
  await put('clinical.csv', 'case_id,age,sex\ncase-0003,55,-1\n');
});
afterAll(async () => cleanup());

function registries(): Registries {
  const r = new Registries();
  registerCoreComponents(r.registrar('core', 'core/data/register.ts'));
  return r;
}

describe('manifest reader', () => {
  it('reads every modality through readCohort and the registry', async () => {
    await put('cohort.json', manifest());
    const cohort = await readCohort(registries(), { format: 'manifest', root }, testContext());
    expect(cohort.format).toBe('manifest');
    expect(cohort.root).toBe(root);
    expect(cohort.timeUnit).toBe('months');
    expect(cohort.cases.map((c) => c.id)).toEqual(['case-0001', 'case-0002', 'case-0003']);
    const [a, b, c] = cohort.cases;
    expect(a!.label).toEqual({ time: 12.5, event: true });
    expect(b!.label).toEqual({ time: 40, event: false });
    expect(c!.label).toBeUndefined();
    expect(a!.wsi).toEqual([{ slideId: 'case-0001', n: 3, dim: 4, source: { path: join(root, 'features', 'case-0001.h5'), format: 'h5' } }]);
    expect(b!.wsi).toEqual([{
      slideId: 'slide-2', n: 1, dim: 4,
      source: { path: join(root, 'features', 'case-0002.npy'), format: 'npy', coordsPath: join(root, 'coords', 'case-0002.npy') },
    }]);
    const loaded = await loadPatchBag(b!.wsi![0]!);
    expect(Array.from(loaded.coords!)).toEqual([100, 200]);
    expect(a!.rna!.genes).toEqual(['TP53', 'MYC']);
    expect(Array.from(b!.rna!.values)).toEqual([3, 4]);
    expect(cohort.geneOrder).toEqual(['KRT5', 'MYC', 'TP53']);
    expect(a!.clinical).toEqual({ age: 71, sex: 'Male', LVI: null });
    expect(b!.clinical).toEqual({ age: 60, sex: 'Female', LVI: 'Yes' });
    expect(a!.texts).toEqual({ report: 'High-grade papillary urothelial carcinoma, T1.\n' });
    expect(a!.meta).toEqual({ cancerType: 'bladder', patientId: 'P1', site: 3 });
    expect(cohort.warnings).toEqual([
      "case 'case-0001': 1 of 3 genes of the gene order are absent from its RNA (read as 0)",
      "case 'case-0002': 1 of 3 genes of the gene order are absent from its RNA (read as 0)",
      "case 'case-0003': no modalities (no wsi, rna, clinical or texts)",
    ]);
  });

  it('a declared gene order, a cohort RNA matrix and a clinical table', async () => {
    await put('cohort2.json', manifest({ geneOrder: 'genes.txt', rnaMatrix: 'rna.tsv', clinicalTable: 'clinical.csv' }));
    const cohort = await new ManifestReader({ manifest: 'cohort2.json' }).read(root);
    expect(cohort.geneOrder).toEqual(['TP53', 'MYC', 'ERBB2']);
    const c3 = cohort.cases[2]!;
    expect(c3.rna).toEqual({ genes: ['TP53', 'MYC'], values: Float32Array.from([5, 7]) });
    expect(c3.clinical).toEqual({ age: 55, sex: null });
    expect(cohort.warnings).toContain('rnaMatrix: 1 id(s) match no case and are ignored: ghost');
    expect(cohort.warnings).toContain("case 'case-0002': 1 RNA gene(s) are missing from geneOrder and are ignored");
    expect(cohort.warnings).toContain("case 'case-0002': 2 of 3 genes of the gene order are absent from its RNA (read as 0)");
    expect(cohort.warnings.some((w) => w.includes('no modalities'))).toBe(false);
  });

  it('options are validated by readCohort (unknown option, default manifest name)', async () => {
    const err = await errorOf(() => readCohort(registries(), { format: 'manifest', root, manifests: 'x.json' }, testContext()));
    expect(err.message).toContain("/data/manifests: unknown key 'manifests'; did you mean 'manifest'?");
    const unknown = await errorOf(() => readCohort(registries(), { format: 'manifestt', root }, testContext()));
    expect(unknown.message).toContain("/data/format: unknown dataset 'manifestt'; did you mean 'manifest'?");
    const noFormat = await errorOf(() => readCohort(registries(), { format: 3 as never, root }, testContext()));
    expect(noFormat.message).toContain('/data/format: expected string, found number 3; valid dataset ids: chimera-task2, chimera-task3, manifest');
    const noRoot = await errorOf(() => readCohort(registries(), { format: 'manifest', root: '' }, testContext()));
    expect(noRoot.message).toBe('data: expected "root", the cohort folder, found ""');
  });
});

describe('manifest errors name cohort.json, the JSON path and the case id', () => {
  const file = () => join(root, 'bad.json');
  async function failWith(doc: unknown): Promise<string> {
    await put('bad.json', typeof doc === 'string' ? doc : (doc as object));
    return (await errorOf(() => new ManifestReader({ manifest: 'bad.json' }).read(root))).message;
  }
  const one = (c: Record<string, unknown>) => manifest({}, [{ id: 'x', ...c }]);

  it('top level', async () => {
    expect(await failWith(manifest({ format: 'manifest' }))).toBe(`${file()}: /format: expected "mmsurv-manifest", found "manifest"`);
    expect(await failWith({ ...manifest(), version: 2 })).toBe(`${file()}: /version: expected 1 (the only manifest version), found 2`);
    const { cases: _c, ...noCases } = manifest();
    expect(await failWith({ ...noCases, case: [] })).toMatch(new RegExp(`^${file()}: /case: unknown key; did you mean 'cases'\\?`));
    expect(await failWith(noCases)).toBe(`${file()}: /cases: expected an array of cases, found nothing`);
    expect(await failWith('{"format": ')).toContain(`${file()}: expected JSON, found a parse error`);
    const missing = join(root, 'absent.json');
    expect((await errorOf(() => new ManifestReader({ manifest: 'absent.json' }).read(root))).message).toContain(`${missing}: cannot read the cohort manifest (ENOENT)`);
  });

  it('cases: ids, keys, labels', async () => {
    expect(await failWith(manifest({}, [{ id: 'a' }, { id: 'b' }, { id: 'a' }]))).toBe(`${file()}: /cases/2/id (case 'a'): duplicate case id (also /cases/0/id); ids must be unique`);
    expect(await failWith(manifest({}, [{ id: 7 }]))).toBe(`${file()}: /cases/0/id: expected a non-empty string, found 7`);
    expect(await failWith(one({ rnaa: 'x' }))).toMatch(new RegExp(`^${file()}: /cases/0/rnaa \\(case 'x'\\): unknown key; did you mean 'rna'\\?`));
    expect(await failWith(one({ label: { time: 0, event: true } }))).toBe(`${file()}: /cases/0/label/time (case 'x'): expected a finite number > 0, found 0`);
    expect(await failWith(one({ label: { time: 'NaN', event: true } }))).toBe(`${file()}: /cases/0/label/time (case 'x'): expected a finite number > 0, found "NaN"`);
    expect(await failWith(one({ label: { time: 3, event: 'yes' } }))).toBe(`${file()}: /cases/0/label/event (case 'x'): expected true/false (or 1/0), found "yes"`);
    expect(await failWith(one({ label: { time: 3, event: 2 } }))).toContain('/cases/0/label/event (case \'x\'): expected true/false (or 1/0), found 2');
    expect(await failWith(one({ label: { time: 3 , event: true, censored: false } }))).toContain("/cases/0/label/censored (case 'x'): unknown key");
    expect(await failWith(one({ meta: { cohort: 3 } }))).toBe(`${file()}: /cases/0/meta/cohort (case 'x'): expected a string, found 3`);
    expect(await failWith(one({ clinical: { stage: { t: 1 } } }))).toContain(`${file()}: /cases/0/clinical (case 'x'): key "stage": expected a string, a number or null`);
  });

  it('files: missing, wrong type, unreadable content', async () => {
    expect(await failWith(one({ rna: 'rna/nope.json' }))).toBe(`${file()}: /cases/0/rna (case 'x'): file not found: ${join(root, 'rna', 'nope.json')}`);
    expect(await failWith(one({ wsi: ['features/nope.h5'] }))).toBe(`${file()}: /cases/0/wsi/0 (case 'x'): file not found: ${join(root, 'features', 'nope.h5')}`);
    expect(await failWith(one({ wsi: 'features/case-0001.h5' }))).toContain("/cases/0/wsi (case 'x'): expected an array of feature files");
    expect(await failWith(one({ wsi: [{ features: 'features/case-0001.h5', slide: 's' }] }))).toContain("/cases/0/wsi/0/slide (case 'x'): unknown key");
    expect(await failWith(one({ wsi: ['features/case-0001.h5', 'features/case-0001.h5'] })))
      .toContain("/cases/0/wsi/1 (case 'x'): slide id 'case-0001' appears twice");
    expect(await failWith(one({ texts: { report: 'reports/none.txt' } }))).toContain("/cases/0/texts/report (case 'x'): file not found");
    expect(await failWith(one({ rna: 'clinical.csv' }))).toMatch(new RegExp(`^${file()}: /cases/0/rna \\(case 'x'\\): ${join(root, 'clinical.csv')}: expected a JSON object`));
    await put('features/fake.h5', 'not an hdf5 file, only text');
    expect(await failWith(one({ wsi: ['features/fake.h5'] }))).toBe(`${file()}: /cases/0/wsi/0 (case 'x'): ${join(root, 'features', 'fake.h5')}: ` +
      "not an HDF5 file (no HDF5 signature found); expected CLAM/TRIDENT features with a dataset 'features' [N, D]");
    expect(await failWith(manifest({ clinicalTable: 'clinical.csv' }, [{ id: 'case-0003', clinical: { age: 1 } }])))
      .toContain("/clinicalTable (case 'case-0003'): case 'case-0003' has clinical values both in clinicalTable and in its own \"clinical\" entry");
    await put('dupgenes.txt', 'A\nB\nA\n');
    expect(await failWith(manifest({ geneOrder: 'dupgenes.txt' }))).toContain("/geneOrder: " + join(root, 'dupgenes.txt') + ": gene 'A' appears twice");
  });
});
