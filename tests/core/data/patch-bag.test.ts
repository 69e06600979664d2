import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePatchFeaturesH5 } from '../../../core/data/io/hdf5.js';
import { writeNpy } from '../../../core/data/io/npy.js';
import { bagFromFile, loadPatchBag, readCoordsNpy } from '../../../core/data/patch-bag.js';
import { errorOf, fixtures, tempDir } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

const h5Fixture = join(fixtures, 'h5', 'clam_h5py.h5');
const npyFeatures = join(fixtures, 'npy', 'features_f4.npy');
const chimeraCoords = join(fixtures, 'npy', 'coords_chimera.npy');

describe('bagFromFile', () => {
  it('h5: shape only, slide id from the file name, absolute source', async () => {
    const bag = await bagFromFile(h5Fixture);
    expect(bag).toEqual({ slideId: 'clam_h5py', n: 7, dim: 5, source: { path: h5Fixture, format: 'h5' } });
    expect(bag.features).toBeUndefined();
  });

  it('npy with a separate CHIMERA coordinates file and an explicit slide id', async () => {
    const bag = await bagFromFile(npyFeatures, 'S1', { coordsPath: chimeraCoords });
    expect(bag).toEqual({ slideId: 'S1', n: 4, dim: 3, source: { path: npyFeatures, format: 'npy', coordsPath: chimeraCoords } });
  });

  it('.pt is refused with the conversion command; unknown extensions list the supported ones', async () => {
    const pt = join(dir, '3A_001_HE.pt');
    await writeFile(pt, 'PK not really');
    const err = await errorOf(() => bagFromFile(pt));
    expect(err.message).toContain(`${pt}: PyTorch .pt files are pickles and are not supported`);
    expect(err.message).toContain(`python -c "import torch,numpy; numpy.save('${join(dir, '3A_001_HE.npy')}', torch.load('${pt}'`);
    const csv = join(dir, 'f.csv');
    await writeFile(csv, '1,2');
    expect((await errorOf(() => bagFromFile(csv))).message).toContain(`${csv}: unsupported patch-feature file '.csv'; expected .h5/.hdf5`);
  });

  it('coordinate count must match the features; npy features must be 2-D', async () => {
    const coords = join(dir, 'c5.npy');
    await writeNpy(coords, new Int32Array(10), [5, 2]);
    expect((await errorOf(() => bagFromFile(npyFeatures, undefined, { coordsPath: coords }))).message)
      .toBe(`${coords}: 5 coordinates, but the features file ${npyFeatures} has 4 patches; they must match row for row`);
    const flat = join(dir, 'flat.npy');
    await writeNpy(flat, new Float32Array(6), [6]);
    expect((await errorOf(() => bagFromFile(flat))).message).toBe(`${flat}: expected a numeric array of shape [N, D] (or [1, N, D]), found shape [6]`);
  });
});

describe('loadPatchBag', () => {
  it('h5: features and coords from the file; the input bag is not modified', async () => {
    const bag = await bagFromFile(h5Fixture);
    const loaded = await loadPatchBag(bag);
    expect(bag.features).toBeUndefined();
    expect(loaded.features!.length).toBe(35);
    expect(loaded.features![5 * 3 + 2]).toBe(Math.fround(3.2));
    expect(Array.from(loaded.coords!.subarray(0, 4))).toEqual([0, 1, 224, 449]);
  });

  it('npy features + structured CHIMERA coords -> interleaved x, y', async () => {
    const loaded = await loadPatchBag(await bagFromFile(npyFeatures, 'S', { coordsPath: chimeraCoords }));
    expect(Array.from(loaded.features!)).toEqual(Array.from({ length: 12 }, (_, k) => k * 0.25 - 1));
    expect(Array.from(loaded.coords!)).toEqual([0, 224, 448, 672, 896, 1120, 1344, 1568]);
  });

  it('npy [1, N, D] and plain [N, 2] int coords', async () => {
    const f = join(dir, 'lead.npy');
    await writeNpy(f, Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
    const c = join(dir, 'lead_coords.npy');
    await writeNpy(c, Int32Array.from([10, 20, 30, 40]), [2, 2]);
    const loaded = await loadPatchBag(await bagFromFile(f, undefined, { coordsPath: c }));
    expect([loaded.n, loaded.dim]).toEqual([2, 3]);
    expect(Array.from(loaded.coords!)).toEqual([10, 20, 30, 40]);
    expect(await readCoordsNpy(c)).toEqual({ coords: Float32Array.from([10, 20, 30, 40]), n: 2 });
  });

  it('a file that changed since the header was read is an error naming both shapes', async () => {
    const p = join(dir, 'changing.h5');
    await copyFile(h5Fixture, p);
    const bag = await bagFromFile(p);
    await writePatchFeaturesH5(p, { features: new Float32Array(8), n: 2, dim: 4 });
    expect((await errorOf(() => loadPatchBag(bag))).message).toBe(`${p}: slide changing: expected [7, 5] as recorded when the cohort ` +
      'was read, found [2, 4] (did the file change? read the cohort again)');
  });

  it('bags without a source: a copy when features are present, else an error', async () => {
    const inMemory = { slideId: 'm', n: 1, dim: 2, features: Float32Array.from([1, 2]) };
    const copy = await loadPatchBag(inMemory);
    expect(copy).toEqual(inMemory);
    expect(copy).not.toBe(inMemory);
    expect((await errorOf(() => loadPatchBag({ slideId: 'z', n: 1, dim: 1 }))).message)
      .toBe('slide z: the bag has neither features nor a source file to load them from');
  });
});
