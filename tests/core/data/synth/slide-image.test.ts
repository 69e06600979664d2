import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKGROUND, PROTOTYPE_COLOURS, writeSyntheticSlide } from '../../../../core/data/synth/slide-image.js';
import { openPyramid } from '../../../../core/slide/pyramid.js';
import { errorOf, tempDir } from '../../slide/support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('mmsurv-synth-slide-')));
afterAll(async () => cleanup());

/** Layout: column c of the 16 x 16 grid has prototype c % 8; rows 0..1 are background. */
const tissue = Array.from({ length: 256 }, (_, i) => Math.floor(i / 16) >= 2);
const prototype = Array.from({ length: 256 }, (_, i) => (i % 16) % 8);

async function cellMean(file: string, col: number, row: number, px = 64): Promise<number[]> {
  const raw = await sharp(file).extract({ left: col * px, top: row * px, width: px, height: px }).raw().toBuffer();
  const sum = [0, 0, 0];
  for (let i = 0; i < raw.length; i++) sum[i % 3]! += raw[i]!;
  return sum.map((s) => s / (px * px));
}

describe('writeSyntheticSlide', () => {
  it('writes a 1024 x 1024 16 x 16-cell slide and its mask in well under a second', async () => {
    const started = performance.now();
    const info = await writeSyntheticSlide({
      slidePath: join(dir, 'fast.tif'), maskPath: join(dir, 'fast_mask.tif'),
      grid: { cols: 16, rows: 16 }, patchPx: 64, tissue, prototype, seed: 1, mpp: 0.5,
    });
    const ms = performance.now() - started;
    console.log(`writeSyntheticSlide 1024 x 1024 + mask: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(info).toEqual({ width: 1024, height: 1024, maskWidth: 256, maskHeight: 256 });
  });

  it('writes a tiled pyramid whose resolution the slide reader reads back as the mpp given', async () => {
    for (const mpp of [0.25, 0.5, 2]) {
      const slidePath = join(dir, `mpp-${mpp}.tif`);
      await writeSyntheticSlide({ slidePath, grid: { cols: 4, rows: 2 }, patchPx: 64, tissue: Array(8).fill(true), prototype: Array(8).fill(3), seed: 1, mpp });
      const p = await openPyramid(slidePath);
      expect(p.fileMpp).toBeCloseTo(mpp, 9);
      expect(p.levels.map((l) => [l.width, l.height])).toEqual([[256, 128], [128, 64]]);
    }
  });

  it('tissue cells carry their prototype colour, background cells are near white, the 8 prototypes differ', async () => {
    const slidePath = join(dir, 'colours.tif');
    await writeSyntheticSlide({ slidePath, grid: { cols: 16, rows: 16 }, patchPx: 64, tissue, prototype, seed: 3, mpp: 0.5, compression: 'deflate' });
    const means: number[][] = [];
    for (let k = 0; k < 8; k++) {
      const m = await cellMean(slidePath, k, 5);
      means.push(m);
      // stripes average out over a cell, up to a few grey levels
      m.forEach((v, c) => expect(Math.abs(v - PROTOTYPE_COLOURS[k]![c]!), `prototype ${k} channel ${c}`).toBeLessThan(12));
    }
    for (const v of await cellMean(slidePath, 3, 0)) expect(Math.abs(v - BACKGROUND)).toBeLessThan(2);
    for (let a = 0; a < 8; a++) {
      for (let b = a + 1; b < 8; b++) expect(Math.hypot(...means[a]!.map((v, c) => v - means[b]![c]!))).toBeGreaterThan(20);
    }
  });

  it('the mask marks exactly the tissue cells (0 / 255), at a quarter of the size', async () => {
    const maskPath = join(dir, 'm_mask.tif');
    await writeSyntheticSlide({ slidePath: join(dir, 'm.tif'), maskPath, grid: { cols: 16, rows: 16 }, patchPx: 64, tissue, prototype, seed: 1, mpp: 0.5 });
    const { data, info } = await sharp(maskPath).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([256, 256]);
    for (let y = 0; y < 256; y += 5) {
      for (let x = 0; x < 256; x += 5) expect(data[y * 256 + x], `${x},${y}`).toBe(tissue[Math.floor(y / 16) * 16 + Math.floor(x / 16)] ? 255 : 0);
    }
  });

  it('is deterministic in the seed', async () => {
    const opts = { grid: { cols: 4, rows: 4 }, patchPx: 32, tissue: Array(16).fill(true), prototype: Array(16).fill(5), mpp: 0.5 };
    await writeSyntheticSlide({ ...opts, slidePath: join(dir, 's1a.tif'), seed: 1 });
    await writeSyntheticSlide({ ...opts, slidePath: join(dir, 's1b.tif'), seed: 1 });
    await writeSyntheticSlide({ ...opts, slidePath: join(dir, 's2.tif'), seed: 2 });
    const px = async (f: string) => Array.from(await sharp(join(dir, f)).raw().toBuffer());
    expect(await px('s1a.tif')).toEqual(await px('s1b.tif'));
    expect(await px('s1a.tif')).not.toEqual(await px('s2.tif'));
  });

  it('rejects inconsistent layouts with a message naming the option', async () => {
    const o = { slidePath: join(dir, 'x.tif'), grid: { cols: 2, rows: 2 }, patchPx: 32, tissue: [true, true, true], prototype: [0, 0, 0, 0], seed: 1, mpp: 0.5 };
    expect((await errorOf(() => writeSyntheticSlide(o))).message).toMatch(/tissue: expected 4 values \(cols \* rows\), found 3/);
    expect((await errorOf(() => writeSyntheticSlide({ ...o, tissue: [true, true, true, true], prototype: [0, 8, 0, 0] }))).message)
      .toMatch(/prototype\[1\]: expected an integer 0\.\.7, found 8/);
  });
});
