/**
 * Synthetic whole-slide images: a grid of patchPx x patchPx cells written as a tiled pyramidal TIFF (128 px tiles,
 * JPEG or deflate), plus a tissue mask TIFF (0 / 255, one channel, also pyramidal, `maskDownsample` times smaller).
 *
 * A tissue cell shows its prototype k (0..7): a base colour from PROTOTYPE_COLOURS and sine stripes of period
 * 3 + 2k px at angle k * 22.5 degrees (amplitude 60), in the cell's own coordinates, plus seeded pixel noise
 * (sd 6). Background cells are near white (242 +- noise). Level 0 carries `mpp` as TIFF resolution (pixels per
 * cm), which core/slide reads back. The whole level 0 is rendered in memory (W x H x 3 bytes).
 */
import { rename, rm, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { RandomSource } from '../../contracts/random-source.js';
import { SeededRandom } from '../../services/random.js';

export const SLIDE_PROTOTYPES = 8;
/** Base RGB of the 8 prototypes: distinct hues in a stained-tissue range. */
export const PROTOTYPE_COLOURS: readonly (readonly [number, number, number])[] = [
  [200, 80, 150], [120, 60, 170], [230, 150, 190], [90, 110, 200],
  [180, 120, 80], [150, 40, 90], [100, 160, 150], [210, 190, 120],
];
export const BACKGROUND = 242;
const STRIPE_AMPLITUDE = 60;
const NOISE_SD = 6;

export interface SyntheticSlideOptions {
  slidePath: string;
  /** Written when given. */
  maskPath?: string;
  grid: { cols: number; rows: number };
  /** Side of one cell in level-0 pixels. */
  patchPx: number;
  /** Per cell, row-major (cols * rows): tissue or background. */
  tissue: readonly boolean[];
  /** Per cell, row-major: prototype 0..7 (read only for tissue cells). */
  prototype: readonly number[];
  seed: number;
  /** Microns per pixel of level 0, written as the TIFF resolution. */
  mpp: number;
  /** Mask level 0 is the slide divided by this (integer >= 1, default 4). */
  maskDownsample?: number;
  /** Slide tile compression (default 'jpeg', quality 90); the mask is always deflate. */
  compression?: 'jpeg' | 'deflate';
}

export interface SyntheticSlideInfo {
  width: number;
  height: number;
  maskWidth: number;
  maskHeight: number;
}

let tmpCounter = 0;

function check(o: SyntheticSlideOptions): void {
  const { cols, rows } = o.grid;
  const cells = cols * rows;
  const where = `writeSyntheticSlide(${o.slidePath})`;
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) throw new Error(`${where}: grid: expected positive integers, found ${cols} x ${rows}`);
  if (!Number.isInteger(o.patchPx) || o.patchPx < 8) throw new Error(`${where}: patchPx: expected an integer >= 8, found ${o.patchPx}`);
  if (o.tissue.length !== cells) throw new Error(`${where}: tissue: expected ${cells} values (cols * rows), found ${o.tissue.length}`);
  if (o.prototype.length !== cells) throw new Error(`${where}: prototype: expected ${cells} values (cols * rows), found ${o.prototype.length}`);
  const bad = o.prototype.findIndex((k) => !Number.isInteger(k) || k < 0 || k >= SLIDE_PROTOTYPES);
  if (bad >= 0) throw new Error(`${where}: prototype[${bad}]: expected an integer 0..7, found ${o.prototype[bad]}`);
  if (!(o.mpp > 0)) throw new Error(`${where}: mpp: expected a positive number, found ${o.mpp}`);
  const ds = o.maskDownsample ?? 4;
  if (!Number.isInteger(ds) || ds < 1) throw new Error(`${where}: maskDownsample: expected an integer >= 1, found ${ds}`);
}

/** Cell texture of prototype k at cell-local (x, y), before noise: [r, g, b]. */
function textureTable(k: number, patchPx: number): Float32Array {
  const period = 3 + 2 * k;
  const angle = (k * Math.PI) / 8;
  const cx = Math.cos(angle);
  const sy = Math.sin(angle);
  const colour = PROTOTYPE_COLOURS[k]!;
  const out = new Float32Array(patchPx * patchPx * 3);
  for (let y = 0; y < patchPx; y++) {
    for (let x = 0; x < patchPx; x++) {
      const s = STRIPE_AMPLITUDE * Math.sin((2 * Math.PI * (x * cx + y * sy)) / period);
      const i = (y * patchPx + x) * 3;
      out[i] = colour[0] + s; out[i + 1] = colour[1] + s * 0.6; out[i + 2] = colour[2] - s * 0.4;
    }
  }
  return out;
}

async function writeAtomic(img: Sharp, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${tmpCounter++}.tif`;
  try {
    await img.toFile(tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Render and write a synthetic slide (and its mask). Deterministic in `seed`. */
export async function writeSyntheticSlide(o: SyntheticSlideOptions): Promise<SyntheticSlideInfo> {
  check(o);
  const { cols, rows } = o.grid;
  const P = o.patchPx;
  const width = cols * P;
  const height = rows * P;
  const noise = pixelNoise(new SeededRandom(o.seed).fork('synthetic-slide'));
  const tables = new Map<number, Float32Array>();
  const pixels = Buffer.alloc(width * height * 3);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const cell = r * cols + c;
      const k = o.prototype[cell]!;
      let table: Float32Array | undefined;
      if (o.tissue[cell]) {
        table = tables.get(k);
        if (!table) { table = textureTable(k, P); tables.set(k, table); }
      }
      for (let y = 0; y < P; y++) {
        let dst = ((r * P + y) * width + c * P) * 3;
        for (let x = 0; x < P; x++, dst += 3) {
          const e = noise();
          if (table) {
            const src = (y * P + x) * 3;
            pixels[dst] = clamp(table[src]! + e);
            pixels[dst + 1] = clamp(table[src + 1]! + e);
            pixels[dst + 2] = clamp(table[src + 2]! + e);
          } else {
            pixels[dst] = pixels[dst + 1] = pixels[dst + 2] = clamp(BACKGROUND + e);
          }
        }
      }
    }
  }
  const compression = o.compression ?? 'jpeg';
  const pxPerMm = 1000 / o.mpp;
  await writeAtomic(
    sharp(pixels, { raw: { width, height, channels: 3 } }).tiff({
      tile: true, pyramid: true, tileWidth: 128, tileHeight: 128, compression,
      ...(compression === 'jpeg' ? { quality: 90 } : {}),
      xres: pxPerMm, yres: pxPerMm, resolutionUnit: 'cm',
    }),
    o.slidePath,
  );
  const ds = o.maskDownsample ?? 4;
  const maskWidth = Math.max(1, Math.round(width / ds));
  const maskHeight = Math.max(1, Math.round(height / ds));
  if (o.maskPath) {
    const mask = Buffer.alloc(maskWidth * maskHeight);
    for (let y = 0; y < maskHeight; y++) {
      const r = Math.min(rows - 1, Math.floor(((y + 0.5) * height) / maskHeight / P));
      for (let x = 0; x < maskWidth; x++) {
        const c = Math.min(cols - 1, Math.floor(((x + 0.5) * width) / maskWidth / P));
        if (o.tissue[r * cols + c]) mask[y * maskWidth + x] = 255;
      }
    }
    const maskPxPerMm = pxPerMm * (maskWidth / width);
    await writeAtomic(
      sharp(mask, { raw: { width: maskWidth, height: maskHeight, channels: 1 } }).toColourspace('b-w').tiff({
        tile: true, pyramid: true, tileWidth: 128, tileHeight: 128, compression: 'deflate',
        xres: maskPxPerMm, yres: maskPxPerMm, resolutionUnit: 'cm',
      }),
      o.maskPath,
    );
  }
  return { width, height, maskWidth, maskHeight };
}

/**
 * Per-pixel noise with sd NOISE_SD: the sum of the 4 bytes of a xorshift32 word (seeded from `rng`), centred.
 * Four times cheaper than drawing uniforms from the RandomSource for each of the millions of pixels.
 */
function pixelNoise(rng: RandomSource): () => number {
  let state = (Math.floor(rng.uniform() * 0xffffffff) | 1) >>> 0;
  const scale = NOISE_SD / Math.sqrt((4 * (256 * 256 - 1)) / 12);
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return ((state & 255) + ((state >>> 8) & 255) + ((state >>> 16) & 255) + (state >>> 24) - 510) * scale;
  };
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
