import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeNpy, float16ToFloat32, readNpy, readNpyFloat32, readNpyHeader, readNpyRecords, writeNpy,
} from '../../../core/data/io/npy.js';
import { errorOf, fixtures, pythonMissing, runPython, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

const num = (v: number | bigint): number => Number(v);

describe('committed numpy fixtures', () => {
  it('features_f4.npy: float32 [4, 3] = (3i + j) / 4 - 1', async () => {
    const a = await readNpy(join(fixtures, 'npy', 'features_f4.npy'));
    expect(a.dtype).toBe('<f4');
    expect(a.shape).toEqual([4, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from({ length: 12 }, (_, k) => k * 0.25 - 1));
  });

  it('coords_chimera.npy: the CHIMERA structured coordinates, column by column', async () => {
    const r = await readNpyRecords(join(fixtures, 'npy', 'coords_chimera.npy'));
    expect(r.shape).toEqual([4]);
    expect(r.fields.map((f) => `${f.name}:${f.dtype}`)).toEqual([
      'x:<i8', 'y:<i8', 'tile_size_resized:<i8', 'tile_level:<i8', 'resize_factor:<f8', 'tile_size_lv0:<i8', 'target_spacing:<f8',
    ]);
    const col = (name: string) => Array.from(r.fields.find((f) => f.name === name)!.data as ArrayLike<number | bigint>, num);
    expect(col('x')).toEqual([0, 448, 896, 1344]);
    expect(col('y')).toEqual([224, 672, 1120, 1568]);
    expect(col('resize_factor')).toEqual([2, 2, 2, 2]);
    expect(col('target_spacing')).toEqual([0.5, 0.5, 0.5, 0.5]);
    const h = await readNpyHeader(join(fixtures, 'npy', 'coords_chimera.npy'));
    expect(h.itemSize).toBe(56);
    const plain = await errorOf(() => readNpy(join(fixtures, 'npy', 'coords_chimera.npy')));
    expect(plain.message).toContain('found a structured dtype with fields x, y, tile_size_resized');
  });
});

describe.skipIf(pythonMissing !== null)(`numpy cross-checks (${pythonMissing ?? '/usr/bin/python3 + numpy available'})`, () => {
  it('reads every supported dtype, big-endian, Fortran order and format versions 2.0 and 3.0', async () => {
    runPython(`
import json, sys, numpy as np
from numpy.lib import format as fmt
out = sys.argv[1]
rng = np.random.default_rng(7)
arrays = {
  'f2': rng.normal(size=(3, 4)).astype('<f2'), 'f4': rng.normal(size=(2, 5)).astype('<f4'), 'f8': rng.normal(size=(7,)),
  'i1': rng.integers(-100, 100, size=(4,)).astype('i1'), 'i2': rng.integers(-3000, 3000, size=(2, 3)).astype('<i2'),
  'i4': rng.integers(-10**9, 10**9, size=(5,)).astype('<i4'), 'i8': rng.integers(-10**12, 10**12, size=(3, 2)).astype('<i8'),
  'u1': rng.integers(0, 255, size=(6,)).astype('u1'), 'u2': rng.integers(0, 60000, size=(3,)).astype('<u2'),
  'u4': rng.integers(0, 4 * 10**9, size=(3,)).astype('<u4'), 'b1': rng.random(size=(5,)) > 0.5,
  'bigf4': rng.normal(size=(2, 3)).astype('>f4'), 'bigi8': rng.integers(-10**6, 10**6, size=(4,)).astype('>i8'),
  'fortran': np.asfortranarray(rng.normal(size=(3, 4, 2)).astype('<f4')),
  'empty': np.zeros((0, 5), dtype='<f4'),
}
expected = {}
for k, a in arrays.items():
    np.save(f'{out}/{k}.npy', a)
    expected[k] = {'shape': list(a.shape), 'values': np.ascontiguousarray(a).ravel().astype(float).tolist(), 'descr': fmt.dtype_to_descr(a.dtype)}
v2 = rng.normal(size=(2, 2)).astype('<f4')
with open(f'{out}/v2.npy', 'wb') as f: fmt.write_array(f, v2, version=(2, 0))
expected['v2'] = {'shape': [2, 2], 'values': v2.ravel().astype(float).tolist(), 'descr': '<f4'}
rec = np.array([(1, 2.5), (3, -4.5)], dtype=[('g\u00e8ne', '<i4'), ('v', '<f8')])
with open(f'{out}/v3.npy', 'wb') as f: fmt.write_array(f, rec, version=(3, 0))
json.dump(expected, open(f'{out}/expected.json', 'w'))
`, [dir]);
    const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Record<string, { shape: number[]; values: number[]; descr: string }>;
    expect(Object.keys(expected)).toHaveLength(16);
    for (const [k, e] of Object.entries(expected)) {
      const a = await readNpy(join(dir, `${k}.npy`));
      expect({ k, shape: a.shape, dtype: a.dtype }).toEqual({ k, shape: e.shape, dtype: e.descr });
      expect({ k, values: Array.from(a.data as ArrayLike<number | bigint>, num) }).toEqual({ k, values: e.values });
    }
    const f = await readNpyFloat32(join(dir, 'i8.npy'));
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual(expected.i8!.values.map(Math.fround));
    const v3 = await readNpyRecords(join(dir, 'v3.npy'));
    expect(v3.fields.map((x) => x.name)).toEqual(['gène', 'v']);
    expect(Array.from(v3.fields[0]!.data as Int32Array)).toEqual([1, 3]);
    expect(Array.from(v3.fields[1]!.data as Float64Array)).toEqual([2.5, -4.5]);
  });

  it('writeNpy files load in numpy with the same dtype, shape and values', async () => {
    const path = join(dir, 'w', 'out.npy');
    const f32 = Float32Array.from([0.5, -1.25, 3, 1e-3, 7, 8]);
    await writeNpy(path, f32, [2, 3]);
    await writeNpy(join(dir, 'w', 'i4.npy'), Int32Array.from([-7, 0, 2147483647]), [3]);
    await writeNpy(join(dir, 'w', 'f8.npy'), Float64Array.from([Math.PI, -0]), [1, 2]);
    const out = JSON.parse(runPython(`
import json, sys, numpy as np
r = {}
for name in ['out', 'i4', 'f8']:
    a = np.load(f'{sys.argv[1]}/{name}.npy')
    r[name] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'values': a.ravel().astype(float).tolist()}
print(json.dumps(r))
`, [join(dir, 'w')])) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    expect(out.out).toEqual({ dtype: '<f4', shape: [2, 3], values: Array.from(f32) });
    expect(out.i4).toEqual({ dtype: '<i4', shape: [3], values: [-7, 0, 2147483647] });
    expect(out.f8).toEqual({ dtype: '<f8', shape: [1, 2], values: [Math.PI, -0] }); // the sign of zero survives
    expect((await readdir(join(dir, 'w'))).sort()).toEqual(['f8.npy', 'i4.npy', 'out.npy']);
  });
});

describe('npy without python', () => {
  it('writeNpy -> readNpy round trip; the header is 64-byte aligned', async () => {
    const path = join(dir, 'rt.npy');
    await writeNpy(path, Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const h = await readNpyHeader(path);
    expect(h.dataOffset % 64).toBe(0);
    expect(h.shape).toEqual([3, 2]);
    const a = await readNpy(path);
    expect(Array.from(a.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('decodes float16 bit patterns', () => {
    const bits = Uint16Array.from([0x0000, 0x3c00, 0xc000, 0x3400, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00]);
    const f = Array.from(float16ToFloat32(bits));
    expect(f.slice(0, 7)).toEqual([0, 1, -2, 0.25, 65504, 2 ** -24, Infinity]);
    expect(f[7]).toBe(-Infinity);
    expect(f[8]).toBeNaN();
  });

  it('errors: shape/data mismatch, not npy, truncated data, unsupported dtype', async () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow('shape [2, 3] holds 6 values, but the data has 5');
    const notNpy = join(dir, 'bad.npy');
    await writeFile(notNpy, 'hello world, not numpy');
    expect((await errorOf(() => readNpy(notNpy))).message).toBe(`${notNpy}: not a NumPy .npy file (expected the magic string \\x93NUMPY at the start)`);
    const full = encodeNpy(Float32Array.from([1, 2, 3, 4]), [4]);
    const trunc = join(dir, 'trunc.npy');
    await writeFile(trunc, full.subarray(0, full.length - 3));
    expect((await errorOf(() => readNpy(trunc))).message).toMatch(/trunc\.npy: truncated \.npy data: shape \[4\] needs 16 bytes, found 13/);
    const c8 = join(dir, 'complex.npy');
    const text = encodeNpy(Float32Array.from([1, 2]), [2]);
    const header = new TextDecoder('latin1').decode(text.subarray(10, 74)).replace("'<f4'", "'<c8'");
    const patched = new Uint8Array(text);
    patched.set(new TextEncoder().encode(header), 10);
    await writeFile(c8, patched);
    expect((await errorOf(() => readNpy(c8))).message).toContain(`${c8}: unsupported NumPy dtype '<c8'`);
    const missing = join(dir, 'missing.npy');
    expect((await errorOf(() => readNpyHeader(missing))).message).toBe(`${missing}: cannot open the .npy file (ENOENT)`);
  });
});
