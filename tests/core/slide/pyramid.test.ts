import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSlide } from '../../../core/data/synth/slide-image.js';
import { openPyramid, sameAspect } from '../../../core/slide/pyramid.js';
import { IHC, errorOf, tempDir, writeRingSlide } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(async () => cleanup());

describe('openPyramid on the real ihc_pyr.tif (vips tiffsave --tile --pyramid)', () => {
  it('lists the 3 levels 512/256/128 with downsamples 1, 2, 4 and no physical mpp (96 dpi is a screen default)', async () => {
    const p = await openPyramid(IHC);
    expect(p.format).toBe('tiff');
    expect(p.levels.map((l) => [l.width, l.height, l.downsample])).toEqual([[512, 512, 1], [256, 256, 2], [128, 128, 4]]);
    expect(p.fileMpp).toBeNull();
  });

  it('reads a region of level 0 equal to the same pixels cut from the whole decoded page', async () => {
    const p = await openPyramid(IHC);
    const r = await p.readRegion(0, 130, 70, 40, 30, 'rgb');
    expect([r.width, r.height, r.channels, r.data.length]).toEqual([40, 30, 3, 40 * 30 * 3]);
    const whole = await sharp(IHC, { page: 0 }).raw().toBuffer();
    let maxDiff = 0;
    for (let y = 0; y < 30; y++) {
      for (let x = 0; x < 40; x++) {
        for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(r.data[(y * 40 + x) * 3 + c]! - whole[((70 + y) * 512 + 130 + x) * 3 + c]!));
      }
    }
    expect(maxDiff).toBe(0);
  });

  it('level 1 is level 0 at half the size (mean absolute difference of a 2x2 box average < 6 grey levels)', async () => {
    const p = await openPyramid(IHC);
    const l0 = await p.readRegion(0, 0, 0, 512, 512, 'rgb');
    const l1 = await p.readRegion(1, 0, 0, 256, 256, 'rgb');
    let sum = 0;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        for (let c = 0; c < 3; c++) {
          const box = [0, 1].flatMap((dy) => [0, 1].map((dx) => l0.data[((2 * y + dy) * 512 + 2 * x + dx) * 3 + c]!));
          sum += Math.abs(l1.data[(y * 256 + x) * 3 + c]! - box.reduce((a, b) => a + b, 0) / 4);
        }
      }
    }
    expect(sum / (256 * 256 * 3)).toBeLessThan(6);
  });

  it('rejects a region outside the level', async () => {
    const p = await openPyramid(IHC);
    expect((await errorOf(() => p.readRegion(1, 200, 0, 100, 10, 'rgb'))).message).toMatch(/region \(x 200, y 0, 100 x 10\) lies outside level 1 \(256 x 256\)/);
  });
});

describe('openPyramid on synthetic slides and masks', () => {
  it('recovers the mpp written as TIFF resolution, at level 0 of the slide and of the 4x smaller mask', async () => {
    const { slidePath, maskPath } = await writeRingSlide(dir, 'mpp', { mpp: 0.25 });
    const slide = await openPyramid(slidePath);
    expect(slide.fileMpp).toBeCloseTo(0.25, 9);
    expect(slide.levels.map((l) => l.width)).toEqual([1024, 512, 256, 128]);
    const mask = await openPyramid(maskPath);
    expect(mask.levels[0]!.width).toBe(256);
    expect(mask.fileMpp).toBeCloseTo(1.0, 9);
    const m = await mask.readRegion(0, 0, 0, 256, 256, 'mask');
    expect(m.channels).toBe(1);
    expect(new Set(m.data)).toEqual(new Set([0, 255]));
    // the top-left 2 x 2 block of 64-px cells is tissue: mask pixels 0..31; cell (2, 0) is not
    expect(m.data[5 * 256 + 5]).toBe(255);
    expect(m.data[5 * 256 + 40]).toBe(0);
  });

  it('a slide rewritten under the same name reads back its new pixels (libvips caches by file name)', async () => {
    const o = { slidePath: join(dir, 'rewritten.tif'), grid: { cols: 2, rows: 2 }, patchPx: 64, tissue: [true, true, true, true], mpp: 0.5, seed: 1, compression: 'deflate' as const };
    await writeSyntheticSlide({ ...o, prototype: [0, 0, 0, 0] });
    const first = await (await openPyramid(o.slidePath)).readRegion(0, 0, 0, 64, 64, 'rgb');
    await writeSyntheticSlide({ ...o, prototype: [5, 5, 5, 5] });
    const second = await (await openPyramid(o.slidePath)).readRegion(0, 0, 0, 64, 64, 'rgb');
    const mean = (r: typeof first) => r.data.reduce((a, b) => a + b, 0) / r.data.length;
    expect(Math.abs(mean(first) - mean(second))).toBeGreaterThan(20);
  });

  it('sameAspect allows 1 px of rounding, not more', () => {
    expect(sameAspect(100001, 50001, 1563, 781)).toBe(true);
    expect(sameAspect(1000, 500, 100, 52)).toBe(false);
  });
});

describe('bad files give errors that name the file', () => {
  it('a missing file', async () => {
    const missing = join(dir, 'nope.tif');
    expect((await errorOf(() => openPyramid(missing))).message).toBe(`${missing}: file not found`);
  });

  it('a file that is not a TIFF (a PNG renamed .tif)', async () => {
    const f = join(dir, 'fake.tif');
    await writeFile(f, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer());
    const err = await errorOf(() => openPyramid(f));
    expect(err.message).toMatch(new RegExp(`^${f}: not a TIFF: expected a tiled pyramidal TIFF .* found a file starting with ".PNG`));
  });

  it('a TIFF truncated to its first 40 %: named as truncated or corrupt', async () => {
    const f = join(dir, 'truncated.tif');
    const bytes = await readFile(IHC);
    await writeFile(f, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
    const err = await errorOf(async () => {
      const p = await openPyramid(f);
      await p.readRegion(0, 0, 0, 512, 512, 'rgb');
    });
    expect(err.message).toMatch(new RegExp(`^${f}: .*truncated or corrupt`));
  });

  it('a TIFF whose first tile is garbage: the read names the level and region', async () => {
    const { slidePath } = await writeRingSlide(dir, 'cut', { compression: 'deflate' });
    const bytes = Buffer.from(await readFile(slidePath));
    const [offset, count] = firstTile(bytes);
    bytes.fill(0x5a, offset, offset + count);
    const f = join(dir, 'damaged.tif');
    await writeFile(f, bytes);
    const p = await openPyramid(f);
    expect(p.levels.length).toBe(4);
    const err = await errorOf(() => p.readRegion(0, 0, 0, 128, 128, 'rgb'));
    expect(err.message).toMatch(new RegExp(`^${f}: cannot read pixels of level 0 \\(x 0, y 0, 128 x 128\\): .*; the file is truncated or corrupt$`));
  });
});

/** Offset and byte count of the first tile of the first IFD of a little-endian classic TIFF (tags 324, 325). */
function firstTile(b: Buffer): [number, number] {
  expect(b.toString('latin1', 0, 2)).toBe('II');
  const ifd = b.readUInt32LE(4);
  const entries = b.readUInt16LE(ifd);
  const value = (tag: number): number => {
    for (let i = 0; i < entries; i++) {
      const e = ifd + 2 + 12 * i;
      if (b.readUInt16LE(e) !== tag) continue;
      const count = b.readUInt32LE(e + 4);
      const at = count === 1 ? e + 8 : b.readUInt32LE(e + 8);
      return b.readUInt16LE(e + 2) === 3 ? b.readUInt16LE(at) : b.readUInt32LE(at);
    }
    throw new Error(`tag ${tag} not found`);
  };
  return [value(324), value(325)];
}

describe('MetaImage (.mha)', () => {
  function mha(header: Record<string, string>, data: Buffer): Buffer {
    const lines = Object.entries(header).map(([k, v]) => `${k} = ${v}`).join('\n');
    return Buffer.concat([Buffer.from(`${lines}\nElementDataFile = LOCAL\n`), data]);
  }

  it('reads raw and zlib-compressed uint8 images, RGB and grey, with ElementSpacing in mm as mpp', async () => {
    const w = 6;
    const h = 4;
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7) % 256;
    const base = { ObjectType: 'Image', NDims: '2', DimSize: `${w} ${h}`, ElementType: 'MET_UCHAR', ElementSpacing: '0.0005 0.0005' };
    await writeFile(join(dir, 'rgb.mha'), mha({ ...base, ElementNumberOfChannels: '3' }, rgb));
    await writeFile(join(dir, 'rgbz.mha'), mha({ ...base, ElementNumberOfChannels: '3', CompressedData: 'True' }, deflateSync(rgb)));
    for (const name of ['rgb.mha', 'rgbz.mha']) {
      const p = await openPyramid(join(dir, name));
      expect(p.format).toBe('mha');
      expect(p.fileMpp).toBeCloseTo(0.5, 9);
      const r = await p.readRegion(0, 1, 2, 3, 2, 'rgb');
      const expected = [2, 3].flatMap((y) => [1, 2, 3].flatMap((x) => [0, 1, 2].map((c) => rgb[(y * w + x) * 3 + c]!)));
      expect(Array.from(r.data)).toEqual(expected);
    }
    const grey = Buffer.from([0, 0, 1, 0, 0, 9, 0, 0, 0, 0, 0, 0]);
    await writeFile(join(dir, 'mask.mha'), mha({ ...base, DimSize: '4 3' }, grey));
    const m = await openPyramid(join(dir, 'mask.mha'));
    expect(Array.from((await m.readRegion(0, 0, 0, 4, 3, 'mask')).data)).toEqual(Array.from(grey));
  });

  it('names what is wrong with a bad header or short data', async () => {
    await writeFile(join(dir, 'bad.mha'), mha({ NDims: '3', DimSize: '4 4 4', ElementType: 'MET_UCHAR' }, Buffer.alloc(64)));
    expect((await errorOf(() => openPyramid(join(dir, 'bad.mha')))).message).toMatch(/bad\.mha: expected a 2-D image .* found DimSize "4 4 4"/);
    await writeFile(join(dir, 'short.mha'), mha({ NDims: '2', DimSize: '4 4', ElementType: 'MET_UCHAR' }, Buffer.alloc(10)));
    expect((await errorOf(() => openPyramid(join(dir, 'short.mha')))).message).toMatch(/short\.mha: expected 16 bytes of pixel data .* found 10; the file is truncated/);
    await writeFile(join(dir, 'float.mha'), mha({ NDims: '2', DimSize: '2 2', ElementType: 'MET_FLOAT' }, Buffer.alloc(16)));
    expect((await errorOf(() => openPyramid(join(dir, 'float.mha')))).message).toMatch(/expected ElementType MET_UCHAR or MET_USHORT, found "MET_FLOAT"/);
  });
});
