import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPatchFeaturesAttrsH5, readPatchFeaturesH5, readPatchFeaturesShapeH5, writePatchFeaturesH5 } from '../../../core/data/io/hdf5.js';
import { errorOf, fixtures, pythonMissing, runPython, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

/** Write an arbitrary HDF5 file with h5wasm itself (for layouts writePatchFeaturesH5 never makes). */
async function writeRaw(path: string, datasets: { name: string; data: Float32Array | Int32Array | Float64Array; shape: number[]; dtype: string }[]) {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  for (const d of datasets) f.create_dataset(d);
  f.close();
}

describe('readPatchFeaturesH5 on the committed h5py/CLAM fixture', () => {
  const file = join(fixtures, 'h5', 'clam_h5py.h5');

  it('reads features [7, 5] = i + j/10, int64 coords and the coords attributes', async () => {
    const r = await readPatchFeaturesH5(file);
    expect([r.n, r.dim]).toEqual([7, 5]);
    expect(r.features).toBeInstanceOf(Float32Array);
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 5; j++) expect(r.features[i * 5 + j]).toBe(Math.fround(i + j / 10));
    }
    expect(r.coords).toBeInstanceOf(Float32Array);
    expect(Array.from(r.coords!)).toEqual(Array.from({ length: 7 }, (_, i) => [224 * i, 448 * i + 1]).flat());
    expect(r.attrs).toMatchObject({ patch_size: 224, patch_level: 1 });
  });

  it('reads the same values in small row blocks (3 rows per block, a partial last block)', async () => {
    const whole = await readPatchFeaturesH5(file);
    const blocks = await readPatchFeaturesH5(file, { blockBytes: 3 * 5 * 4 });
    expect(Array.from(blocks.features)).toEqual(Array.from(whole.features));
    expect(Array.from(blocks.coords!)).toEqual(Array.from(whole.coords!));
  });

  it('reads the shape without the data', async () => {
    expect(await readPatchFeaturesShapeH5(file)).toEqual({ n: 7, dim: 5 });
  });
});

describe.skipIf(pythonMissing !== null)(`h5py cross-checks (${pythonMissing ?? '/usr/bin/python3 + h5py available'})`, () => {
  it('reads files h5py writes now: float32/float16/float64 features, [1, N, D], int32 and float coords', async () => {
    const script = `
import h5py, json, numpy as np, sys
out = sys.argv[1]
rng = np.random.default_rng(20250101)
f32 = rng.normal(size=(13, 9)).astype(np.float32)
f16 = rng.normal(size=(6, 4)).astype(np.float16)
f64 = rng.normal(size=(1, 5, 3))
c64 = rng.integers(0, 100000, size=(13, 2)).astype(np.int64)
c32 = rng.integers(0, 1000, size=(6, 2)).astype(np.int32)
cf = (rng.random(size=(5, 2)) * 1000).astype(np.float32)
with h5py.File(out + '/a.h5', 'w') as h:
    h.create_dataset('features', data=f32)
    d = h.create_dataset('coords', data=c64); d.attrs['patch_size'] = 256; d.attrs['name'] = 'slide-a'
with h5py.File(out + '/b.h5', 'w') as h:
    h.create_dataset('features', data=f16, compression='gzip')
    h.create_dataset('coords', data=c32)
with h5py.File(out + '/c.h5', 'w') as h:
    h.create_dataset('features', data=f64)
    h.create_dataset('coords', data=cf)
json.dump({'f32': f32.astype(float).tolist(), 'f16': f16.astype(float).tolist(), 'f64': f64.tolist(),
           'c64': c64.tolist(), 'c32': c32.tolist(), 'cf': cf.astype(float).tolist()}, open(out + '/expected.json', 'w'))
`;
    runPython(script, [dir]);
    const exp = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'expected.json'), 'utf8')) as Record<string, number[][] | number[][][]>;
    const a = await readPatchFeaturesH5(join(dir, 'a.h5'));
    expect([a.n, a.dim]).toEqual([13, 9]);
    expect(Array.from(a.features)).toEqual((exp.f32 as number[][]).flat());
    expect(Array.from(a.coords!)).toEqual((exp.c64 as number[][]).flat());
    expect(a.attrs).toMatchObject({ patch_size: 256, name: 'slide-a' });

    const b = await readPatchFeaturesH5(join(dir, 'b.h5'));
    expect([b.n, b.dim]).toEqual([6, 4]);
    expect(Array.from(b.features)).toEqual((exp.f16 as number[][]).flat());
    expect(Array.from(b.coords!)).toEqual((exp.c32 as number[][]).flat());

    const c = await readPatchFeaturesH5(join(dir, 'c.h5'), { blockBytes: 24 });
    expect([c.n, c.dim]).toEqual([5, 3]);
    expect(Array.from(c.features)).toEqual((exp.f64 as number[][][])[0]!.flat().map(Math.fround));
    expect(Array.from(c.coords!)).toEqual((exp.cf as number[][]).flat());
    expect(await readPatchFeaturesShapeH5(join(dir, 'c.h5'))).toEqual({ n: 5, dim: 3 });
  });

  it('writes files h5py reads: float32 features, int32 coords, CLAM attributes', async () => {
    const n = 4;
    const dim = 3;
    const features = Float32Array.from({ length: n * dim }, (_, k) => k * 0.5 - 1.25);
    const coords = Int32Array.from([0, 0, 224, 0, 0, 224, 224, 224]);
    const path = join(dir, 'written.h5');
    await writePatchFeaturesH5(path, { features, n, dim, coords, attrs: { patch_size: 224, patch_level: 1, name: 'w' } });
    const out = JSON.parse(runPython(`
import h5py, json, sys
with h5py.File(sys.argv[1], 'r') as h:
    f = h['features']; c = h['coords']
    print(json.dumps({'f': f[:].astype(float).tolist(), 'fdtype': str(f.dtype), 'c': c[:].tolist(), 'cdtype': str(c.dtype),
        'attrs': {k: (v.decode() if isinstance(v, bytes) else (v if isinstance(v, str) else v.item())) for k, v in c.attrs.items()}}))
`, [path])) as { f: number[][]; fdtype: string; c: number[][]; cdtype: string; attrs: Record<string, unknown> };
    expect(out.fdtype).toBe('float32');
    expect(out.cdtype).toBe('int32');
    expect(out.f.flat()).toEqual(Array.from(features));
    expect(out.c.flat()).toEqual(Array.from(coords));
    expect(out.attrs).toEqual({ patch_size: 224, patch_level: 1, name: 'w' });
  });

  it.skipIf(!existsSync('/usr/bin/h5dump'))('h5dump sees float32 features and float32 coords from a Float32Array', async () => {
    const path = join(dir, 'dump.h5');
    await writePatchFeaturesH5(path, { features: new Float32Array(4), n: 2, dim: 2, coords: Float32Array.from([1, 2, 3, 4]) });
    const r = spawnSync('/usr/bin/h5dump', ['-H', path], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/DATASET "features" \{\s*DATATYPE\s+H5T_IEEE_F32LE\s*DATASPACE\s+SIMPLE \{ \( 2, 2 \)/);
    expect(r.stdout).toMatch(/DATASET "coords" \{\s*DATATYPE\s+H5T_IEEE_F32LE\s*DATASPACE\s+SIMPLE \{ \( 2, 2 \)/);
  });
});

describe('writePatchFeaturesH5', () => {
  it('round-trips through readPatchFeaturesH5 and leaves no temp file', async () => {
    const sub = join(dir, 'rt');
    const path = join(sub, 'x.h5');
    const features = Float32Array.from([1.5, -2, 3.25, 4, 5, 6]);
    await writePatchFeaturesH5(path, { features, n: 3, dim: 2, coords: Int32Array.from([1, 2, 3, 4, 5, 6]), attrs: { patch_size: 512, mpp: 0.5 } });
    const r = await readPatchFeaturesH5(path);
    expect(Array.from(r.features)).toEqual(Array.from(features));
    expect(Array.from(r.coords!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.attrs).toMatchObject({ patch_size: 512, mpp: 0.5 });
    expect(await readdir(sub)).toEqual(['x.h5']);
  });

  it('a failed write keeps the previous file intact', async () => {
    const path = join(dir, 'keep.h5');
    await writePatchFeaturesH5(path, { features: Float32Array.from([7, 8]), n: 1, dim: 2 });
    const err = await errorOf(() => writePatchFeaturesH5(path, { features: new Float32Array(5), n: 2, dim: 2 }));
    expect(err.message).toContain('keep.h5');
    expect(err.message).toContain('expected n * dim = 2 * 2');
    expect(Array.from((await readPatchFeaturesH5(path)).features)).toEqual([7, 8]);
    expect((await readdir(dir)).filter((f) => f.startsWith('keep.h5'))).toEqual(['keep.h5']);
  });

  it('string and number attributes come back through readPatchFeaturesAttrsH5 without the data', async () => {
    const path = join(dir, 'attrs.h5');
    const attrs = { encoder: 'tfjs:cnn', weights_hash: 'ab'.repeat(32), extractor_settings: '{"seed":0}', patch_level: 1, mpp: 0.25 };
    await writePatchFeaturesH5(path, { features: new Float32Array(6), n: 3, dim: 2, coords: new Float32Array(6), attrs });
    expect(await readPatchFeaturesAttrsH5(path)).toEqual(attrs);
    await writePatchFeaturesH5(path, { features: new Float32Array(2), n: 1, dim: 2, attrs: { only: 'features' } });
    expect(await readPatchFeaturesAttrsH5(path)).toEqual({ only: 'features' });
  });
});

describe('readPatchFeaturesH5 errors name the file and what was found', () => {
  it('no features dataset lists the datasets present', async () => {
    const path = join(dir, 'feats.h5');
    await writeRaw(path, [
      { name: 'feats', data: new Float32Array(6), shape: [3, 2], dtype: '<f' },
      { name: 'coords', data: new Int32Array(6), shape: [3, 2], dtype: '<i' },
    ]);
    const err = await errorOf(() => readPatchFeaturesH5(path));
    expect(err.message).toBe(`${path}: expected a dataset 'features' of shape [N, D] (or [1, N, D]), found datasets: coords, feats`);
    expect((await errorOf(() => readPatchFeaturesShapeH5(path))).message).toContain('found datasets: coords, feats');
  });

  it("'features' as a group is named as such", async () => {
    await h5wasm.ready;
    const path = join(dir, 'group.h5');
    const f = new h5wasm.File(path, 'w');
    f.create_group('features');
    f.close();
    expect((await errorOf(() => readPatchFeaturesH5(path))).message).toContain("found 'features' as a group, not a dataset");
  });

  it('features of the wrong rank or type, coords of the wrong shape', async () => {
    const rank1 = join(dir, 'rank1.h5');
    await writeRaw(rank1, [{ name: 'features', data: new Float32Array(6), shape: [6], dtype: '<f' }]);
    expect((await errorOf(() => readPatchFeaturesH5(rank1))).message).toContain("found a dataset 'features' of shape [6]");
    const ints = join(dir, 'ints.h5');
    await writeRaw(ints, [{ name: 'features', data: new Int32Array(6), shape: [3, 2], dtype: '<i' }]);
    expect((await errorOf(() => readPatchFeaturesH5(ints))).message).toMatch(/ints\.h5: expected float16\/float32\/float64 'features', found integer/);
    const badCoords = join(dir, 'badcoords.h5');
    await writeRaw(badCoords, [
      { name: 'features', data: new Float32Array(6), shape: [3, 2], dtype: '<f' },
      { name: 'coords', data: new Int32Array(4), shape: [2, 2], dtype: '<i' },
    ]);
    expect((await errorOf(() => readPatchFeaturesH5(badCoords))).message).toContain("expected 'coords' of shape [3, 2] to match 'features' [3, 2], found [2, 2]");
  });

  it('a missing file and a file that is not HDF5', async () => {
    const missing = join(dir, 'nope.h5');
    expect((await errorOf(() => readPatchFeaturesH5(missing))).message).toBe(`${missing}: HDF5 file not found`);
    const text = join(dir, 'text.h5');
    await writeFile(text, 'not hdf5 at all, just text that is long enough to probe');
    expect((await errorOf(() => readPatchFeaturesShapeH5(text))).message).toContain(`${text}: not an HDF5 file`);
  });
});
