import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { PatchBag } from '../../../core/contracts/case.js';
import { createSlideExtractor } from '../../../core/slide/create-extractor.js';
import { hashModelFolder, loadModelFolder } from '../../../core/slide/tfjs-model-files.js';
import { IHC, applyModel, errorOf, saveSmallCnn, sharpRegion, tempDir, writeRingSlide } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
let ring: Awaited<ReturnType<typeof writeRingSlide>>;
let cnn: tf.LayersModel;

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  ({ dir, cleanup } = await tempDir());
  ring = await writeRingSlide(dir, 'ring', { compression: 'deflate' }); // 1024 x 1024, 0.5 um/px, levels 0.5/1/2/4
  cnn = await saveSmallCnn(join(dir, 'cnn'), 32);
});
afterAll(async () => {
  cnn.dispose();
  await cleanup();
});

const spec = (extra: Record<string, unknown> = {}) => ({ type: 'tfjs', modelDir: 'cnn', patchSize: 32, targetMpp: 1.0, batchSize: 7, ...extra });

describe('model folders without tfjs-node', () => {
  it('a layers model saved with modelFolderSaver loads back with the same weights and the same output', async () => {
    const { model, format, weightsHash } = await loadModelFolder(join(dir, 'cnn'));
    expect(format).toBe('layers');
    expect(weightsHash).toMatch(/^[0-9a-f]{64}$/);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5);
    const a = (cnn.predict(x) as tf.Tensor).dataSync();
    const b = ((model as tf.LayersModel).predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    x.dispose();
    model.dispose();
  });

  it('weightsHash is stable for the same files and changes with the weights', async () => {
    const h1 = await hashModelFolder(join(dir, 'cnn'));
    expect(await hashModelFolder(join(dir, 'cnn'))).toBe(h1);
    const other = await saveSmallCnn(join(dir, 'cnn-seed9'), 32, { seed: 9 });
    other.dispose();
    expect(await hashModelFolder(join(dir, 'cnn-seed9'))).not.toBe(h1);
  });

  it('loads a graph-format model.json (Placeholder -> Mean over H, W -> MatMul)', async () => {
    const gdir = join(dir, 'graph');
    await mkdir(gdir, { recursive: true });
    const w = Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 4);
    const f = { type: 'DT_FLOAT' };
    const modelJson = {
      format: 'graph-model', generatedBy: 'test', convertedBy: 'hand',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: f, shape: { shape: { dim: [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] } } } },
          { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } } } },
          { name: 'w', op: 'Const', attr: { dtype: f, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '4' }] } } } } },
          { name: 'm', op: 'Mean', input: ['x', 'axes'], attr: { T: f, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
          { name: 'y', op: 'MatMul', input: ['m', 'w'], attr: { T: f, transpose_a: { b: false }, transpose_b: { b: false } } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'axes', shape: [2], dtype: 'int32' }, { name: 'w', shape: [3, 4], dtype: 'float32' }] }],
    };
    await writeFile(join(gdir, 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(gdir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(Int32Array.of(1, 2).buffer), Buffer.from(w.buffer)]));
    const ex = await createSlideExtractor({ type: 'tfjs', modelDir: 'graph', patchSize: 16, targetMpp: 2.0, normalise: 'none' }, { baseDir: dir });
    expect(ex.info.dim).toBe(4);
    const bag = await ex.extract({ slideId: 'ring', slidePath: ring.slidePath, maskPath: ring.maskPath }, dir);
    // the features of patch 0 = (mean RGB / 255) @ w, computed here from pixels read straight through sharp
    const px = await sharpRegion(ring.slidePath, 2, bag.coords[0]! / 4, bag.coords[1]! / 4, 16);
    const mean = [0, 1, 2].map((c) => px.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / 256 / 255);
    const expected = [0, 1, 2, 3].map((j) => mean.reduce((acc, m, c) => acc + m * w[c * 4 + j]!, 0));
    expected.forEach((e, j) => expect(bag.features[j]).toBeCloseTo(e, 5));
    ex.dispose();
  });

  it('names a missing model.json and a missing weight shard', async () => {
    expect((await errorOf(() => createSlideExtractor(spec({ modelDir: 'nothing-here' }), { baseDir: dir }))).message)
      .toMatch(/nothing-here\/model\.json: not found: modelDir must be a folder with a TensorFlow\.js model\.json/);
    const broken = join(dir, 'broken');
    const m = await saveSmallCnn(broken, 32);
    m.dispose();
    await rm(join(broken, 'weights.bin'));
    expect((await errorOf(() => createSlideExtractor(spec({ modelDir: 'broken' }), { baseDir: dir }))).message)
      .toMatch(/broken\/weights\.bin: weight shard listed in .*broken\/model\.json is missing/);
  });
});

describe('the tfjs extractor on a synthetic slide', () => {
  it('level 1 (1.0 um/px), the tissue cells as coords, features = the model on the same pixels read independently, no tensor leak', async () => {
    const ex = await createSlideExtractor(spec(), { baseDir: dir });
    expect(ex.info).toMatchObject({ id: 'tfjs:cnn', kind: 'tfjs', dim: 16 });
    expect(ex.info.settings).toEqual({ patchSize: 32, targetMpp: 1.0, baseMpp: null, minTissue: 0.5, maxPatches: 4096, seed: 0, normalise: 'imagenet' });
    const before = tf.memory().numTensors;
    const bag = await ex.extract({ slideId: 'ring', slidePath: ring.slidePath, maskPath: ring.maskPath }, dir);
    expect(tf.memory().numTensors).toBe(before);
    const expectedCoords = ring.tissue.flatMap((t, i) => (t ? [(i % 16) * 64, Math.floor(i / 16) * 64] : []));
    expect(Array.from(bag.coords)).toEqual(expectedCoords);
    expect([bag.n, bag.dim, bag.level, bag.patchSizeLevel0, bag.mpp0, bag.features.length]).toEqual([expectedCoords.length / 2, 16, 1, 64, 0.5, bag.n * 16]);
    expect(bag.warnings).toEqual([]);
    const asBag: PatchBag = bag; // a SlideFeatures goes into Case.wsi as is
    expect(asBag.features).toBe(bag.features);
    for (const i of [0, 5, bag.n - 1]) {
      const px = await sharpRegion(ring.slidePath, 1, bag.coords[2 * i]! / 2, bag.coords[2 * i + 1]! / 2, 32);
      const want = applyModel(cnn, px, 32);
      Array.from(want).forEach((v, j) => expect(bag.features[i * 16 + j]).toBeCloseTo(v, 4));
    }
    // different prototypes give different features; the same prototype similar ones
    const row = (i: number) => Array.from(bag.features.subarray(i * 16, (i + 1) * 16));
    const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, j) => v - b[j]!));
    const protoOf = (i: number) => ring.prototype[(bag.coords[2 * i + 1]! / 64) * 16 + bag.coords[2 * i]! / 64]!;
    const byProto = new Map<number, number[]>();
    for (let i = 0; i < bag.n; i++) byProto.set(protoOf(i), [...(byProto.get(protoOf(i)) ?? []), i]);
    const [a1, a2] = byProto.get(1)!;
    const [b1] = byProto.get(6)!;
    expect(dist(row(a1!), row(a2!))).toBeLessThan(dist(row(a1!), row(b1!)));
    ex.dispose();
  });

  it('reads level 0 and resizes 48-px regions to 32 when the target (0.75) lies between levels', async () => {
    const ex = await createSlideExtractor(spec({ targetMpp: 0.75 }), { baseDir: dir });
    const bag = await ex.extract({ slideId: 'ring', slidePath: ring.slidePath, maskPath: ring.maskPath }, dir);
    expect([bag.level, bag.patchSizeLevel0]).toEqual([0, 48]);
    // 1024 / 48 = 21 columns; coords are multiples of 48
    expect(Array.from(bag.coords).every((c) => c % 48 === 0 && c <= 20 * 48)).toBe(true);
    const i = Math.floor(bag.n / 2);
    const px = await sharpRegion(ring.slidePath, 0, bag.coords[2 * i]!, bag.coords[2 * i + 1]!, 48, 32);
    Array.from(applyModel(cnn, px, 32)).forEach((v, j) => expect(bag.features[i * 16 + j]).toBeCloseTo(v, 4));
    ex.dispose();
  });

  it('flattens a model output that is not rank 2 ([b, 15, 15, 8] -> 1800 per patch)', async () => {
    const m = await saveSmallCnn(join(dir, 'cnn-map'), 32, { pool: false });
    const ex = await createSlideExtractor(spec({ modelDir: 'cnn-map', maxPatches: 3 }), { baseDir: dir });
    expect(ex.info.dim).toBe(15 * 15 * 8);
    const bag = await ex.extract({ slideId: 'ring', slidePath: ring.slidePath, maskPath: ring.maskPath }, dir);
    expect([bag.n, bag.dim]).toEqual([3, 1800]);
    const px = await sharpRegion(ring.slidePath, 1, bag.coords[0]! / 2, bag.coords[1]! / 2, 32);
    Array.from(applyModel(m, px, 32)).forEach((v, j) => expect(bag.features[j]).toBeCloseTo(v, 4));
    m.dispose();
    ex.dispose();
  });

  it('a patchSize the model cannot take is an error at creation', async () => {
    const err = await errorOf(() => createSlideExtractor(spec({ patchSize: 40 }), { baseDir: dir }));
    expect(err.message).toMatch(/cnn\/model\.json: the model failed on a batch of 1 patches \[1, 40, 40, 3\]: .*\n\(patchSize 40 in the spec must match the model's input size\)/);
  });

  it('the real ihc_pyr.tif with baseMpp, no mask: all patches of the grid, with a warning', async () => {
    const ex = await createSlideExtractor(spec({ baseMpp: 0.5 }), { baseDir: dir });
    const started = performance.now();
    const bag = await ex.extract({ slideId: 'ihc', slidePath: IHC }, dir);
    console.log(`ihc_pyr.tif: ${bag.n} patches in ${(performance.now() - started).toFixed(0)} ms`);
    expect([bag.n, bag.level, bag.patchSizeLevel0]).toEqual([64, 1, 64]);
    expect(bag.warnings[0]).toMatch(/no tissue mask; all 64 patches/);
    ex.dispose();
  });
});

describe('spec validation', () => {
  it('names the JSON path, the expected and the found value', async () => {
    const err = await errorOf(() => createSlideExtractor({ type: 'tfjs', modelDir: 3, patchSize: '224', normalise: 'imagnet', colour: 1 }, { baseDir: dir, where: 'enc.json' }));
    expect(err.message).toMatch(/^enc\.json: invalid slide extractor spec, 4 problems:/);
    expect(err.message).toContain('/modelDir: expected string, found number 3');
    expect(err.message).toContain('/patchSize: expected integer, found string "224"');
    expect(err.message).toMatch(/\/normalise: expected one of "imagenet", "none", found "imagnet"; did you mean "imagenet"\?/);
    expect(err.message).toMatch(/\/colour: unknown key 'colour'/);
    expect((await errorOf(() => createSlideExtractor({ type: 'tfj' }, { baseDir: dir }))).message)
      .toMatch(/\/type: expected one of "tfjs", "command", found "tfj"; did you mean "tfjs"\?/);
    expect((await errorOf(() => createSlideExtractor([], { baseDir: dir }))).message).toMatch(/\(root\): expected an object .* found array/);
  });
});
