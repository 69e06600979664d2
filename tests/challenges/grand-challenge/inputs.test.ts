import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInputsJson, readInputsJson } from '../../../challenges/grand-challenge/inputs-json.js';
import { dispatchBySlugs } from '../../../challenges/grand-challenge/socket-adapter.js';
import { imageSocketFile, jsonSocketValue, nullifyNonFiniteTokens } from '../../../challenges/grand-challenge/socket-files.js';
import { writeOutputJson } from '../../../challenges/grand-challenge/write-output.js';
import { createTask1 } from '../../../challenges/chimera/task1.js';
import { createTask2 } from '../../../challenges/chimera/task2.js';
import { createTask3 } from '../../../challenges/chimera/task3.js';

const entry = (slug: string, relative_path: string, kind = 'Anything') => ({ interface: { slug, relative_path, kind, super_kind: kind === 'Image' ? 'Image' : 'Value' }, value: null });

describe('inputs.json', () => {
  it('parses socket values and keeps slug, path, kind', () => {
    const s = parseInputsJson([entry('tissue-mask', 'images/tissue-mask', 'Image'), { ...entry('x', 'x.json'), value: 3, image: null }], 'inputs.json');
    expect(s.map((v) => [v.slug, v.relativePath, v.kind, v.superKind])).toEqual([['tissue-mask', 'images/tissue-mask', 'Image', 'Image'], ['x', 'x.json', 'Anything', 'Value']]);
    expect(s[1]!.value).toBe(3);
  });

  it('names the JSON path of a malformed entry', () => {
    expect(() => parseInputsJson([{ interface: { slug: 'a' } }], 'in/inputs.json')).toThrow(/in\/inputs\.json: \/0\/interface: expected a key "relative_path"/);
    expect(() => parseInputsJson({ a: 1 }, 'f')).toThrow(/f: \/: expected a value of type array, found \{"a":1\}/);
    expect(() => parseInputsJson([entry('a', 'a.json'), entry('a', 'b.json')], 'f')).toThrow(/\/1\/interface\/slug: socket "a" appears twice/);
    expect(() => parseInputsJson([entry('a', '../etc/passwd')], 'f')).toThrow(/expected a path inside \/input/);
  });

  it('says what is wrong with a missing or invalid file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-'));
    await expect(readInputsJson(dir)).rejects.toThrow(/inputs\.json: cannot read the platform's socket list \(ENOENT\)/);
    await writeFile(join(dir, 'inputs.json'), '[{"interface": ');
    await expect(readInputsJson(dir)).rejects.toThrow(/inputs\.json: expected a JSON list of socket values, found invalid JSON/);
  });
});

describe('socket files', () => {
  it('an image socket resolves to its single .tif/.tiff/.mha file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-'));
    await mkdir(join(dir, 'images/wsi'), { recursive: true });
    const s = { slug: 'wsi', relativePath: 'images/wsi', kind: 'Image', superKind: 'Image', value: null };
    await expect(imageSocketFile(dir, s)).rejects.toThrow(/expected exactly one \.tif\/\.tiff\/\.mha file, found 0 \(empty folder\)/);
    await writeFile(join(dir, 'images/wsi/a.tif'), 'x');
    await writeFile(join(dir, 'images/wsi/notes.txt'), 'x');
    expect(await imageSocketFile(dir, s)).toBe(join(dir, 'images/wsi/a.tif'));
    await writeFile(join(dir, 'images/wsi/b.TIFF'), 'x');
    await expect(imageSocketFile(dir, s)).rejects.toThrow(/found 2/);
  });

  it('JSON sockets read the file, else the inline value; NaN tokens become null with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-'));
    const s = { slug: 'rna', relativePath: 'rna.json', kind: 'Anything', superKind: 'Value', value: { inline: 1 } };
    const warnings: string[] = [];
    expect(await jsonSocketValue(dir, s, warnings)).toEqual({ inline: 1 });
    await writeFile(join(dir, 'rna.json'), '{"TP53": NaN, "NaN gene": 1.5, "B": -Infinity, "C": "NaN"}');
    expect(await jsonSocketValue(dir, s, warnings)).toEqual({ TP53: null, 'NaN gene': 1.5, B: null, C: 'NaN' });
    expect(warnings).toEqual([expect.stringMatching(/rna\.json: 2 non-finite value\(s\)/)]);
    await writeFile(join(dir, 'rna.json'), '{"TP53": 1,,}');
    await expect(jsonSocketValue(dir, s, [])).rejects.toThrow(/socket rna: .*rna\.json: expected JSON, found invalid JSON/);
    expect(nullifyNonFiniteTokens('["a\\"NaN", NaN]')).toEqual({ text: '["a\\"NaN", null]', replaced: 1 });
  });

  it('writes the output atomically and refuses non-finite numbers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-'));
    const p = await writeOutputJson(dir, 'likelihood.json', 41.25);
    expect(await readFile(p, 'utf8')).toBe('41.25\n');
    await expect(writeOutputJson(dir, 'likelihood.json', NaN)).rejects.toThrow(/non-finite/);
    expect(await readFile(p, 'utf8')).toBe('41.25\n');
    expect(await readdir(dir)).toEqual(['likelihood.json']);
  });
});

describe('dispatch by sorted socket slugs', () => {
  const adapters = [createTask1(), createTask2(), createTask3()];
  const t3 = ['bladder-cancer-tissue-biopsy-whole-slide-image', 'tissue-mask', 'bulk-rna-seq-bladder-cancer', 'chimera-clinical-data-of-bladder-cancer-recurrence'];
  const t2 = ['bladder-cancer-tissue-biopsy-whole-slide-image', 'tissue-mask', 'chimera-clinical-data-of-bladder-cancer-patients'];

  it('picks the task whose table matches, in any order', () => {
    expect(dispatchBySlugs(adapters, [...t3].reverse()).id).toBe('chimera-task3');
    expect(dispatchBySlugs(adapters, t2).id).toBe('chimera-task2');
    const t1 = ['prostatectomy-tissue-whole-slide-image', 'prostatectomy-tissue-mask', 'prostatectomy-tissue-whole-slide-image-1',
      'prostatectomy-tissue-whole-slide-image-1-2', 'axial-t2-prostate-mri', 'axial-adc-prostate-mri', 'transverse-hbv-prostate-mri',
      'prostate-tissue-mask-for-axial-t2-prostate-mri', 'chimera-clinical-data-of-prostate-cancer-patients'];
    expect(dispatchBySlugs(adapters, t1).id).toBe('chimera-task1');
  });

  it('explains a mismatch per task: missing and unexpected sockets', () => {
    const slugs = [...t3.filter((s) => s !== 'chimera-clinical-data-of-bladder-cancer-recurrence'), 'extra-socket'];
    expect(() => dispatchBySlugs(adapters, slugs)).toThrow(/chimera-task3: missing chimera-clinical-data-of-bladder-cancer-recurrence; unexpected extra-socket/);
    expect(createTask3().mismatch(t3)).toEqual({ missing: [], unexpected: [] });
    expect(createTask3().accepts(t3.filter((s) => s !== 'bulk-rna-seq-bladder-cancer'))).toBe(true); // RNA is optional
  });
});
