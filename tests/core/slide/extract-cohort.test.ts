import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { writeSyntheticSlide } from '../../../core/data/synth/slide-image.js';
import { readPatchFeaturesH5 } from '../../../core/data/io/hdf5.js';
import type { ProgressReporter } from '../../../core/contracts/progress.js';
import { extractCohort, ExtractCohortError, type ExtractRecord } from '../../../core/slide/extract-cohort.js';
import { findSlides } from '../../../core/slide/find-slides.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { IHC, errorOf, saveSmallCnn, tempDir, writeRingSlide } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
let cohort: string;
const spec = { type: 'tfjs', modelDir: 'cnn', patchSize: 32, targetMpp: 1.0, maxPatches: 40 };

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  ({ dir, cleanup } = await tempDir('mmsurv-extract-'));
  (await saveSmallCnn(join(dir, 'cnn'), 32)).dispose();
  // CHIMERA training layout: <pid>/<pid>_HE.tif + <pid>_HE_mask.tif
  cohort = join(dir, 'cohort');
  for (const pid of ['3A_001', '3B_002']) {
    await mkdir(join(cohort, pid), { recursive: true });
    await writeRingSlide(join(cohort, pid), `${pid}_HE`, { seed: pid.length });
  }
});
afterAll(async () => cleanup());

function recordingProgress(): ProgressReporter & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    start(label, total) {
      events.push(`start ${label} ${total}`);
      return { tick: (n = 1, status) => events.push(`tick ${n} ${status ?? ''}`), done: () => events.push('done') };
    },
  };
}

describe('findSlides', () => {
  it('pairs <id>_mask.tif beside each slide, or masks from a folder by <id> or <id>_mask, and warns on a missing one', async () => {
    const { slides, warnings } = await findSlides(cohort);
    expect(slides.map((s) => [s.slideId, s.maskPath?.replace(cohort, '')])).toEqual([
      ['3A_001_HE', '/3A_001/3A_001_HE_mask.tif'], ['3B_002_HE', '/3B_002/3B_002_HE_mask.tif'],
    ]);
    expect(warnings).toEqual([]);
    const flat = join(dir, 'flat');
    const masks = join(flat, 'masks');
    await mkdir(masks, { recursive: true });
    await copyFile(join(cohort, '3A_001', '3A_001_HE.tif'), join(flat, 'a.tif'));
    await copyFile(join(cohort, '3A_001', '3A_001_HE.tif'), join(flat, 'b.TIFF'));
    await copyFile(join(cohort, '3A_001', '3A_001_HE_mask.tif'), join(masks, 'a.tif'));
    const r = await findSlides(flat, masks);
    expect(r.slides.map((s) => [s.slideId, s.maskPath?.replace(flat, '')])).toEqual([['a', '/masks/a.tif'], ['b', undefined]]);
    expect(r.warnings).toEqual([`${join(flat, 'b.TIFF')}: no mask in ${masks} (looked for b.* and b_mask.*); tiled without a mask`]);
  });

  it('says what it looked for when there are no slides, and refuses duplicate ids', async () => {
    await mkdir(join(dir, 'empty'), { recursive: true });
    expect((await errorOf(() => findSlides(join(dir, 'empty')))).message).toMatch(/empty: no slides found: expected files ending in \.tif, \.tiff, \.svs, \.mha/);
    const dup = join(dir, 'dup');
    await mkdir(join(dup, 'x'), { recursive: true });
    await copyFile(IHC, join(dup, 's.tif'));
    await copyFile(IHC, join(dup, 'x', 's.tif'));
    expect((await errorOf(() => findSlides(dup))).message).toMatch(/two slides have the id 's': s\.tif and x\/s\.tif/);
  });
});

describe('extractCohort', () => {
  const out = () => join(dir, 'features');

  it('writes <slide>.h5 (CLAM layout + extractor attributes) and extract.json, with progress', async () => {
    const progress = recordingProgress();
    const logger = new MemoryLogger();
    const r = await extractCohort({ slides: cohort, out: out(), spec, baseDir: dir, progress, logger });
    expect(r.extracted).toEqual(['3A_001_HE', '3B_002_HE']);
    expect(r.skipped).toEqual([]);
    expect(progress.events).toEqual(['start extracting slides 2', 'tick 1 3A_001_HE 40 patches', 'tick 1 3B_002_HE 40 patches', 'done']);
    const h5 = await readPatchFeaturesH5(join(out(), '3A_001_HE.h5'));
    expect([h5.n, h5.dim]).toEqual([40, 16]);
    expect(h5.attrs).toMatchObject({
      encoder: 'tfjs:cnn', encoder_kind: 'tfjs', weights_hash: r.record.extractor.weightsHash, patch_level: 1,
      patch_size: 32, patch_size_level0: 64, mpp: 0.5, target_mpp: 1,
    });
    expect(JSON.parse(h5.attrs.extractor_settings as string)).toEqual(r.record.extractor.settings);
    // coords are cells of the ring layout (multiples of 64 px at level 0)
    expect(Array.from(h5.coords!).every((c) => c % 64 === 0)).toBe(true);
    const record = JSON.parse(await readFile(join(out(), 'extract.json'), 'utf8')) as ExtractRecord;
    expect(record.extractor).toMatchObject({ id: 'tfjs:cnn', kind: 'tfjs', dim: 16, spec });
    expect(record.slides['3A_001_HE']).toMatchObject({ status: 'done', n: 40, dim: 16, level: 1, patchSizeLevel0: 64, warnings: [] });
    expect(record.slides['3A_001_HE']!.mask).toMatch(/3A_001_HE_mask\.tif$/);
  });

  it('resumes: finished slides are skipped (file untouched), a new slide is extracted', async () => {
    const file = join(out(), '3A_001_HE.h5');
    const before = (await stat(file)).mtimeMs;
    await mkdir(join(cohort, '3C_003'), { recursive: true });
    await writeRingSlide(join(cohort, '3C_003'), '3C_003_HE', { seed: 3 });
    const r = await extractCohort({ slides: cohort, out: out(), spec, baseDir: dir });
    expect(r.skipped).toEqual(['3A_001_HE', '3B_002_HE']);
    expect(r.extracted).toEqual(['3C_003_HE']);
    expect((await stat(file)).mtimeMs).toBe(before);
    const record = JSON.parse(await readFile(join(out(), 'extract.json'), 'utf8')) as ExtractRecord;
    expect(Object.keys(record.slides).sort()).toEqual(['3A_001_HE', '3B_002_HE', '3C_003_HE']);
  });

  it('other settings in the same folder are an error unless overwrite, which re-extracts every slide', async () => {
    const other = { ...spec, seed: 5 };
    const err = await errorOf(() => extractCohort({ slides: cohort, out: out(), spec: other, baseDir: dir }));
    expect(err.message).toMatch(/extract\.json: the features in .* come from tfjs:cnn \(weights [0-9a-f]{12}, settings .*"seed":0.*\), but the spec now gives tfjs:cnn \(.*"seed":5.*\); pass --overwrite to replace them, or choose another --out/);
    const r = await extractCohort({ slides: cohort, out: out(), spec: other, baseDir: dir, overwrite: true });
    expect(r.extracted.length).toBe(3);
    const h5 = await readPatchFeaturesH5(join(out(), '3A_001_HE.h5'));
    expect(JSON.parse(h5.attrs.extractor_settings as string).seed).toBe(5);
  });

  it('a bad slide fails alone: the others are extracted, extract.json records the error, the run ends in an error listing it', async () => {
    const mixed = join(dir, 'mixed');
    await mkdir(mixed, { recursive: true });
    await writeRingSlide(mixed, 'good');
    await writeSyntheticSlide({ slidePath: join(mixed, 'blank.tif'), maskPath: join(mixed, 'blank_mask.tif'), grid: { cols: 4, rows: 4 }, patchPx: 64, tissue: Array(16).fill(false), prototype: Array(16).fill(0), seed: 1, mpp: 0.5 });
    await writeFile(join(mixed, 'notes.tif'), 'not an image');
    const err = await errorOf(() => extractCohort({ slides: mixed, out: join(dir, 'mixed-out'), spec, baseDir: dir }));
    expect(err).toBeInstanceOf(ExtractCohortError);
    const result = (err as ExtractCohortError).result;
    expect(result.extracted).toEqual(['good']);
    expect(result.failed.map((f) => f.slideId)).toEqual(['blank', 'notes']);
    expect(err.message).toContain(`blank: ${join(mixed, 'blank_mask.tif')}: no patch reaches minTissue 0.5 (max coverage 0.00); is this the right mask?`);
    expect(err.message).toMatch(/notes: .*notes\.tif: not a TIFF/);
    const record = JSON.parse(await readFile(join(dir, 'mixed-out', 'extract.json'), 'utf8')) as ExtractRecord;
    expect(record.slides.blank).toMatchObject({ status: 'failed' });
    expect(record.slides.good).toMatchObject({ status: 'done', n: 40 });
  });
});
