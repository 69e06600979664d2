import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { substituteArgs } from '../../../core/slide/command-extractor.js';
import { createSlideExtractor } from '../../../core/slide/create-extractor.js';
import { PYTHON, pythonMissing } from '../data/support.js';
import { errorOf, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

/** A stand-in for a real pipeline: writes features[i, j] = i + j / 10 (+100 with a mask) and CLAM coords. */
const SCRIPT = `
import argparse, sys, h5py, numpy as np
p = argparse.ArgumentParser()
p.add_argument('--slide'); p.add_argument('--mask'); p.add_argument('--out'); p.add_argument('--n', type=int, default=5)
p.add_argument('--fail', type=int, default=0)
a = p.parse_args()
if a.fail:
    print('loading weights...', file=sys.stderr)
    print('RuntimeError: CUDA out of memory', file=sys.stderr)
    sys.exit(a.fail)
f = np.array([[i + j / 10 + (100 if a.mask else 0) for j in range(4)] for i in range(a.n)], dtype=np.float32)
c = np.array([[256 * i, 512] for i in range(a.n)], dtype=np.int64)
with h5py.File(a.out, 'w') as h:
    h.create_dataset('features', data=f)
    d = h.create_dataset('coords', data=c)
    d.attrs['patch_level'] = 0
    d.attrs['patch_size'] = 256
    d.attrs['slide'] = a.slide
`;

const command = (...extra: string[]) => ['/usr/bin/python3', 'fake_uni.py', '--slide', '{slide}', '--mask', '{mask}', '--out', '{out}', ...extra];

describe('substituteArgs', () => {
  it('replaces the placeholders inside arguments and leaves the rest', () => {
    expect(substituteArgs(['x', '--in={slide}', '{mask}', '{out}.h5', '{other}'], { slide: '/s.tif', mask: '', out: '/t/o' }))
      .toEqual(['x', '--in=/s.tif', '', '/t/o.h5', '{other}']);
  });
});

describe.skipIf(pythonMissing !== null)(`the command extractor with a real python program (${pythonMissing ?? `${PYTHON} + h5py`})`, () => {
  beforeAll(async () => writeFile(join(dir, 'fake_uni.py'), SCRIPT));

  it('runs the command in the spec folder and reads the HDF5 it writes', async () => {
    const ex = await createSlideExtractor({ type: 'command', id: 'fake-uni', command: command() }, { baseDir: dir });
    expect(ex.info).toMatchObject({ id: 'fake-uni', kind: 'command', dim: 0, settings: { command: command() } });
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    const bag = await ex.extract({ slideId: 's1', slidePath: join(dir, 'slide.tif') }, scratch);
    expect([bag.n, bag.dim, bag.level, bag.patchSizeLevel0]).toEqual([5, 4, 0, 256]);
    expect(Array.from(bag.features.subarray(4, 8))).toEqual([1, 1.1, 1.2, 1.3].map(Math.fround));
    expect(Array.from(bag.coords)).toEqual([0, 512, 256, 512, 512, 512, 768, 512, 1024, 512]);
    expect(ex.info.dim).toBe(4);
    expect(await readdir(scratch)).toEqual([]); // the .h5 in scratch is removed after reading
    const masked = await ex.extract({ slideId: 's1', slidePath: join(dir, 'slide.tif'), maskPath: join(dir, 'mask.tif') }, scratch);
    expect(masked.features[0]).toBe(100);
  });

  it('a failing command: the error names the slide, the exit code, the command line and the stderr tail', async () => {
    const ex = await createSlideExtractor({ type: 'command', id: 'fake-uni', command: command('--fail', '3') }, { baseDir: dir });
    const err = await errorOf(() => ex.extract({ slideId: 's1', slidePath: '/data/p1_HE.tif' }, dir));
    expect(err.message).toMatch(/^\/data\/p1_HE\.tif: extractor command fake-uni failed, exit code 3: \/usr\/bin\/python3 fake_uni\.py --slide \/data\/p1_HE\.tif --mask '' --out \S+s1\.features\.h5 --fail 3 \(in /);
    expect(err.message).toMatch(/stderr \(last lines\):\n {4}loading weights\.\.\.\n {4}RuntimeError: CUDA out of memory$/);
  });

  it('a timeout, a program that does not exist, and a program that writes nothing', async () => {
    const slow = await createSlideExtractor({ type: 'command', id: 'slow', command: ['/usr/bin/python3', '-c', 'import time; time.sleep(10)'], timeoutSeconds: 0.5 }, { baseDir: dir });
    expect((await errorOf(() => slow.extract({ slideId: 'a', slidePath: 'a.tif' }, dir))).message).toMatch(/extractor command slow failed, timed out after 0\.5 s \(timeoutSeconds\)/);
    const missing = await createSlideExtractor({ type: 'command', id: 'nope', command: ['/no/such/program', '{slide}'] }, { baseDir: dir });
    expect((await errorOf(() => missing.extract({ slideId: 'a', slidePath: 'a.tif' }, dir))).message).toMatch(/extractor command nope failed, could not start \/no\/such\/program \(spawn \/no\/such\/program ENOENT\); is it installed/);
    const silent = await createSlideExtractor({ type: 'command', id: 'silent', command: ['/usr/bin/python3', '-c', 'pass', '{out}'] }, { baseDir: dir });
    expect((await errorOf(() => silent.extract({ slideId: 'a', slidePath: 'a.tif' }, dir))).message).toMatch(/extractor command silent exited 0 but wrote no file at \{out\} = \S+a\.features\.h5/);
  });

  it('checks dim from the spec', async () => {
    const ex = await createSlideExtractor({ type: 'command', id: 'fake-uni', command: command(), dim: 1024 }, { baseDir: dir });
    expect((await errorOf(() => ex.extract({ slideId: 's', slidePath: 's.tif' }, dir))).message).toMatch(/expected features of width 1024 \(dim in the spec\), found \[5, 4\]/);
  });

  it('weightsHash covers the command line and the script it names', async () => {
    const hash = async () => (await createSlideExtractor({ type: 'command', id: 'fake-uni', command: command() }, { baseDir: dir })).info.weightsHash;
    const h1 = await hash();
    expect(await hash()).toBe(h1);
    const other = (await createSlideExtractor({ type: 'command', id: 'fake-uni', command: command('--n', '6') }, { baseDir: dir })).info.weightsHash;
    expect(other).not.toBe(h1);
    await writeFile(join(dir, 'fake_uni.py'), `${SCRIPT}\n# edited\n`);
    expect(await hash()).not.toBe(h1);
    expect(existsSync(join(dir, 'fake_uni.py'))).toBe(true);
  });
});
