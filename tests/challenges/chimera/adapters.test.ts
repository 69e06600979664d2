import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTask1 } from '../../../challenges/chimera/task1.js';
import { createTask2 } from '../../../challenges/chimera/task2.js';
import { createTask3, TASK3_SLUGS, task3 } from '../../../challenges/chimera/task3.js';
import { synthesizeCohort } from '../../../core/data/synth/index.js';
import { TASK2_INPUT_FILES, TASK3_INPUT_FILES } from '../../../core/data/synth/write.js';

let cases: string;
let cases2: string;
beforeAll(async () => {
  cases = join(await mkdtemp(join(tmpdir(), 'chimera-')), 'input');
  await synthesizeCohort({ out: cases, cases: 3, seed: 5, layout: 'chimera-task3-input', minPatches: 8, maxPatches: 12, genes: 40 });
  cases2 = join(await mkdtemp(join(tmpdir(), 'chimera-')), 'input2');
  await synthesizeCohort({ out: cases2, cases: 24, seed: 5, layout: 'chimera-task2-input', minPatches: 8, maxPatches: 12, genes: 40 });
});

describe('synth chimera-task2-input layout', () => {
  it('writes the Task 2 sockets, no BRS or survival key in the clinical JSON, and BRS3 labels that match the Task 3 layout of the same seed', async () => {
    const labels = JSON.parse(await readFile(join(cases2, 'labels.json'), 'utf8')) as Record<string, { label: number }>;
    const synth = JSON.parse(await readFile(join(cases2, 'synth.json'), 'utf8')) as { summary: { brs3: number; brsKnown: number; oracleBrsAuc: number } };
    expect(Object.keys(labels)).toHaveLength(synth.summary.brsKnown);
    expect(Object.values(labels).filter((l) => l.label === 1)).toHaveLength(synth.summary.brs3);
    expect(synth.summary.brs3).toBeGreaterThan(0);
    expect(synth.summary.oracleBrsAuc).toBeGreaterThan(0.5);
    // the same cases in the training layout carry the BRS the labels were taken from
    const train = join(cases2, '..', 'train');
    await synthesizeCohort({ out: train, cases: 24, seed: 5, layout: 'chimera-task3', minPatches: 8, maxPatches: 12, genes: 40 });
    for (const [id, l] of Object.entries(labels)) {
      const cd = JSON.parse(await readFile(join(train, id, `${id}_CD.json`), 'utf8')) as Record<string, unknown>;
      expect(l.label, id).toBe(cd['BRS'] === 'BRS3' ? 1 : 0);
      const clinical = JSON.parse(await readFile(join(cases2, id, TASK2_INPUT_FILES.clinical), 'utf8')) as Record<string, unknown>;
      for (const k of ['BRS', 'progression', 'Time_to_prog_or_FUend']) expect(clinical).not.toHaveProperty(k);
      expect(clinical['age']).toBe(cd['age']);
    }
    const id = Object.keys(labels).sort()[0]!;
    const r = await createTask2().readCase(join(cases2, id));
    expect(r.warnings).toEqual([]);
    expect(r.case.clinical).not.toHaveProperty('BRS');
    expect(r.slides).toEqual([{ slideId: 'HE', slidePath: join(cases2, id, TASK2_INPUT_FILES.slideDir, `${id}_HE.tif`), maskPath: join(cases2, id, TASK2_INPUT_FILES.maskDir, `${id}_HE_mask.tif`) }]);
  });
});

describe('synth chimera-task3-input layout', () => {
  it('uses the sockets of the chimera-task3 adapter', () => {
    const bySlug = new Map(task3.sockets.map((s) => [s.slug, s.relativePath]));
    const f = TASK3_INPUT_FILES;
    expect(bySlug.get(f.slideSlug)).toBe(f.slideDir);
    expect(bySlug.get(f.maskSlug)).toBe(f.maskDir);
    expect(bySlug.get(f.rnaSlug)).toBe(f.rna);
    expect(bySlug.get(f.clinicalSlug)).toBe(f.clinical);
  });

  it('writes labels.json for the cases it wrote, and no label in the clinical JSON', async () => {
    const labels = JSON.parse(await readFile(join(cases, 'labels.json'), 'utf8')) as Record<string, { time: number; event: number }>;
    expect(Object.keys(labels)).toHaveLength(3);
    for (const [id, l] of Object.entries(labels)) {
      expect(l.time).toBeGreaterThan(0);
      const clinical = JSON.parse(await readFile(join(cases, id, TASK3_INPUT_FILES.clinical), 'utf8')) as Record<string, unknown>;
      expect(clinical).not.toHaveProperty('progression');
      expect(clinical).toHaveProperty('age');
    }
  });
});

describe('chimera-task3 adapter', () => {
  const first = async () => {
    const labels = JSON.parse(await readFile(join(cases, 'labels.json'), 'utf8')) as Record<string, unknown>;
    return Object.keys(labels).sort()[0]!;
  };

  it('reads a case: clinical, RNA, the slide and its mask, no warnings', async () => {
    const id = await first();
    const r = await createTask3().readCase(join(cases, id));
    expect(r.warnings).toEqual([]);
    expect(r.case.rna!.genes).toHaveLength(40);
    expect(r.case.clinical!['sex']).toMatch(/Male|Female/);
    expect(r.slides).toEqual([{ slideId: 'HE', slidePath: join(cases, id, 'images/bladder-cancer-tissue-biopsy-wsi', `${id}_HE.tif`), maskPath: join(cases, id, 'images/tissue-mask', `${id}_HE_mask.tif`) }]);
  });

  it('drops label keys found at test time, with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chimera-'));
    const id = await first();
    await cp(join(cases, id), dir, { recursive: true });
    const file = join(dir, TASK3_INPUT_FILES.clinical);
    const clinical = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...clinical, progression: 1, time_to_HG_recur_or_FUend: 12.5, LVI: -1 }));
    const r = await createTask3().readCase(dir);
    expect(r.case.clinical).not.toHaveProperty('progression');
    expect(r.case.clinical).not.toHaveProperty('time_to_HG_recur_or_FUend');
    expect(r.case.clinical!['LVI']).toBeNull();
    expect(r.warnings.join('\n')).toMatch(/label key\(s\) progression, time_to_HG_recur_or_FUend dropped/);
  });

  it('a missing optional socket (RNA) still gives a case, with a warning; a missing required one is an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chimera-'));
    const id = await first();
    await cp(join(cases, id), dir, { recursive: true });
    const inputs = JSON.parse(await readFile(join(dir, 'inputs.json'), 'utf8')) as { interface: { slug: string } }[];
    await writeFile(join(dir, 'inputs.json'), JSON.stringify(inputs.filter((s) => s.interface.slug !== TASK3_SLUGS.rna)));
    const r = await createTask3().readCase(dir);
    expect(r.case.rna).toBeUndefined();
    expect(r.warnings).toEqual([`socket ${TASK3_SLUGS.rna} not supplied: predicting without RNA`]);
    await writeFile(join(dir, 'inputs.json'), JSON.stringify(inputs.filter((s) => s.interface.slug !== TASK3_SLUGS.clinical)));
    await expect(createTask3().readCase(dir)).rejects.toThrow(/the sockets do not match chimera-task3; missing: chimera-clinical-data-of-bladder-cancer-recurrence/);
  });

  it('NaN in the RNA JSON is read as missing with a warning; malformed JSON is an error naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chimera-'));
    const id = await first();
    await cp(join(cases, id), dir, { recursive: true });
    const file = join(dir, TASK3_INPUT_FILES.rna);
    const text = await readFile(file, 'utf8');
    const gene = Object.keys(JSON.parse(text) as object)[0]!;
    await writeFile(file, text.replace(new RegExp(`("${gene}": )[-0-9.e]+`), '$1NaN'));
    const r = await createTask3().readCase(dir);
    expect(Number.isNaN(r.case.rna!.values[0])).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/1 non-finite value\(s\) \(NaN\/Infinity\) read as missing/);
    expect(r.warnings.join('\n')).toMatch(new RegExp(`1 of 40 genes have no numeric value \\(${gene}\\)`));
    await writeFile(join(dir, TASK3_INPUT_FILES.clinical), '{"age": 70,');
    await expect(createTask3().readCase(dir)).rejects.toThrow(/chimera-clinical-data-of-bladder-cancer-recurrence-patients\.json: expected JSON, found invalid JSON/);
    await rm(dir, { recursive: true });
  });

  it('writes the calibrated time, never the risk, as a bare JSON number', async () => {
    const out = await mkdtemp(join(tmpdir(), 'chimera-out-'));
    const [file] = await createTask3().writeOutput(out, { risk: 2.5, time: 37.25 });
    expect(file).toBe(join(out, 'likelihood-of-bladder-cancer-recurrence.json'));
    expect(JSON.parse(await readFile(file!, 'utf8'))).toBe(37.25);
    await expect(createTask3().writeOutput(out, { risk: 2.5 })).rejects.toThrow(/no finite calibrated time/);
  });
});

describe('chimera-task1 and chimera-task2 adapters', () => {
  it('task1 reads slide/mask pairs in socket order and passes MRI files on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'task1-'));
    const sockets: [string, string, string][] = [
      ['prostatectomy-tissue-whole-slide-image', 'images/prostatectomy-wsi', 'a.tif'],
      ['prostatectomy-tissue-mask', 'images/prostatectomy-tissue-mask', 'a_mask.tif'],
      ['prostatectomy-tissue-whole-slide-image-1', 'images/prostatectomy-wsi-z-1', 'b.tif'],
      ['axial-t2-prostate-mri', 'images/axial-t2-prostate-mri', 't2.mha'],
    ];
    const { mkdir } = await import('node:fs/promises');
    for (const [, rel, name] of sockets) {
      await mkdir(join(dir, rel), { recursive: true });
      await writeFile(join(dir, rel, name), 'x');
    }
    await writeFile(join(dir, 'chimera-clinical-data-of-prostate-cancer-patients.json'), JSON.stringify({ age_at_prostatectomy: 63, ISUP: 2, BCR: 1, 'time_to_follow-up/BCR': 40 }));
    const inputs = [...sockets.map(([slug, rel]) => ({ interface: { slug, relative_path: rel, kind: 'Image' } })),
      { interface: { slug: 'chimera-clinical-data-of-prostate-cancer-patients', relative_path: 'chimera-clinical-data-of-prostate-cancer-patients.json', kind: 'Anything' } }];
    await writeFile(join(dir, 'inputs.json'), JSON.stringify(inputs));
    const r = await createTask1().readCase(dir);
    expect(r.slides.map((s) => [s.slideId, s.maskPath !== undefined])).toEqual([['slide-0', true], ['slide-1', false]]);
    expect(r.images).toEqual({ 'axial-t2-prostate-mri': join(dir, 'images/axial-t2-prostate-mri/t2.mha') });
    expect(r.case.clinical).toEqual({ age_at_prostatectomy: 63, ISUP: 2 });
    expect(r.warnings.join('\n')).toMatch(/prostatectomy-tissue-whole-slide-image-1-2 not supplied/);
  });

  it('task2 writes a probability and refuses anything else', async () => {
    const out = await mkdtemp(join(tmpdir(), 'task2-'));
    const [file] = await createTask2().writeOutput(out, { risk: 0, probability: 0.73 });
    expect(JSON.parse(await readFile(file!, 'utf8'))).toBe(0.73);
    await expect(createTask2().writeOutput(out, { risk: 0, time: 12 })).rejects.toThrow(/expected a class probability in \[0, 1\]/);
  });
});
