/**
 * Opening a slide or mask as a resolution pyramid and reading bounded regions of one level.
 *
 * TIFF (tiled, pyramidal, as written by `vips tiffsave --tile --pyramid`, ASAP or most scanners' generic TIFF)
 * goes through sharp (libvips), which decodes only the tiles a region touches. Levels are the TIFF pages whose
 * size is a downsample of page 0 with the same aspect ratio (labels and macro images of other shapes are skipped),
 * sorted from the largest. MetaImage (.mha) files have one level and are read whole (core/slide/mha.ts).
 *
 * Level-0 microns per pixel come from the resolution tags (sharp reports them as `density`, pixels per inch, for
 * either TIFF unit); values outside 0.01..100 um/px (e.g. 72 or 96 dpi defaults of image editors) count as absent.
 */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { readMetaImage } from './mha.js';

export interface PyramidLevel {
  /** 0 = full resolution. */
  index: number;
  width: number;
  height: number;
  /** Level-0 pixels per level pixel (mean of x and y). */
  downsample: number;
}

export interface Region {
  /** Row-major pixels, `channels` per pixel, uint8. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface SlidePyramid {
  readonly path: string;
  readonly format: 'tiff' | 'mha';
  /** Level 0 first, then smaller. */
  readonly levels: readonly PyramidLevel[];
  /** Microns per pixel of level 0 from the file, or null when the file has no physical resolution. */
  readonly fileMpp: number | null;
  /**
   * Pixels of a rectangle of one level (coordinates in that level's pixels, inside its bounds).
   * 'rgb': 3 channels (grey expanded, alpha dropped); 'mask': 1 channel = max over the colour channels.
   */
  readRegion(level: number, left: number, top: number, width: number, height: number, as: 'rgb' | 'mask'): Promise<Region>;
}

const MPP_RANGE: readonly [number, number] = [0.01, 100];
/**
 * No pixel limit (slides are gigapixel); failOn 'warning': with anything laxer libvips turns an undecodable tile
 * into black pixels without an error. libtiff's directory warnings (unknown or unsorted tags) do not trip it.
 */
const SHARP_OPTIONS = { limitInputPixels: false as const, failOn: 'warning' as const };

/** Whether a resolution-derived mpp is a physical microscope value. */
export function plausibleMpp(mpp: number | null | undefined): mpp is number {
  return typeof mpp === 'number' && Number.isFinite(mpp) && mpp >= MPP_RANGE[0] && mpp <= MPP_RANGE[1];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The first bytes, to tell "not a TIFF" from "a damaged TIFF". */
async function magic(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function isTiffMagic(b: Buffer): boolean {
  if (b.length < 4) return false;
  const le = b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0;
  const be = b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43);
  return le || be;
}

function describeStart(b: Buffer): string {
  const text = b.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `${JSON.stringify(text)} (hex ${b.toString('hex')})`;
}

/** (inode, size, mtime) of every file opened in this process, to notice files replaced under the same name. */
const seen = new Map<string, string>();

/**
 * libvips caches decoded regions by file name: a slide rewritten under the same name would read back stale
 * pixels. Flush the cache (keeping its limits) when a file changed since it was last opened.
 */
function noticeChanges(path: string, signature: string): void {
  const before = seen.get(path);
  seen.set(path, signature);
  if (before === undefined || before === signature) return;
  const limits = sharp.cache();
  sharp.cache(false);
  sharp.cache({ memory: limits.memory.max ?? 50, files: limits.files.max, items: limits.items.max });
}

async function checkReadable(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error(`${path}: expected an image file, found a directory or special file`);
    noticeChanges(resolve(path), `${s.ino}:${s.size}:${s.mtimeMs}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path}: file not found`);
    throw err;
  }
}

/** Open a slide or mask. Errors name the file and say what was expected. */
export async function openPyramid(path: string): Promise<SlidePyramid> {
  await checkReadable(path);
  if (/\.mha$/i.test(path)) return mhaPyramid(path);
  const head = await magic(path);
  if (!isTiffMagic(head)) {
    throw new Error(`${path}: not a TIFF: expected a tiled pyramidal TIFF (starting with "II*" or "MM*"), ` +
      `found a file starting with ${describeStart(head)}`);
  }
  let pages: number;
  let first: Metadata;
  try {
    first = await sharp(path, SHARP_OPTIONS).metadata();
    pages = first.pages ?? 1;
  } catch (err) {
    throw new Error(`${path}: a TIFF header, but libvips cannot read it (${message(err)}); the file is truncated or corrupt`);
  }
  const candidates: { page: number; width: number; height: number }[] = [];
  for (let page = 0; page < pages; page++) {
    try {
      const m = page === 0 ? first : await sharp(path, { ...SHARP_OPTIONS, page }).metadata();
      if (m.width && m.height) candidates.push({ page, width: m.width, height: m.height });
    } catch (err) {
      if (page === 0) throw new Error(`${path}: cannot read TIFF page 0 (${message(err)}); the file is truncated or corrupt`);
      // a damaged or exotic extra page (label, macro) does not stop the slide
    }
  }
  const base = candidates[0]!;
  const pyramid = candidates
    .filter((c) => c.page === 0 || sameAspect(base.width, base.height, c.width, c.height))
    .sort((a, b) => b.width - a.width)
    .filter((c, i, all) => i === 0 || c.width < all[i - 1]!.width);
  const levels: PyramidLevel[] = pyramid.map((c, index) => ({
    index, width: c.width, height: c.height,
    downsample: (base.width / c.width + base.height / c.height) / 2,
  }));
  const pageOf = pyramid.map((c) => c.page);
  const grey = (first.channels ?? 3) - (first.hasAlpha ? 1 : 0) === 1;
  const density = first.density;
  const mpp = density && density > 0 ? 25400 / density : null;
  return {
    path, format: 'tiff', levels, fileMpp: plausibleMpp(mpp) ? mpp : null,
    async readRegion(level, left, top, width, height, as) {
      checkRegion(path, levels, level, left, top, width, height);
      try {
        let img = sharp(path, { ...SHARP_OPTIONS, page: pageOf[level]! }).extract({ left, top, width, height }).removeAlpha();
        // grey masks stay one channel (b-w keeps their values); colour masks are reduced by maxChannel
        img = img.toColourspace(as === 'rgb' || !grey ? 'srgb' : 'b-w');
        const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        const region: Region = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: info.channels };
        return as === 'mask' ? maxChannel(region) : region;
      } catch (err) {
        throw new Error(`${path}: cannot read pixels of level ${level} (x ${left}, y ${top}, ${width} x ${height}): ` +
          `${message(err)}; the file is truncated or corrupt`);
      }
    },
  };
}

/** Whether (w, h) is (W, H) downsampled by one factor, up to rounding (1 px or 1 %). */
export function sameAspect(W: number, H: number, w: number, h: number): boolean {
  const byX = Math.round((H * w) / W);
  return Math.abs(byX - h) <= Math.max(1, 0.01 * h);
}

function checkRegion(path: string, levels: readonly PyramidLevel[], level: number, left: number, top: number, width: number, height: number): void {
  const l = levels[level];
  if (!l) throw new Error(`${path}: level ${level} does not exist (levels 0..${levels.length - 1})`);
  if (left < 0 || top < 0 || width < 1 || height < 1 || left + width > l.width || top + height > l.height) {
    throw new Error(`${path}: region (x ${left}, y ${top}, ${width} x ${height}) lies outside level ${level} (${l.width} x ${l.height})`);
  }
}

/** One channel: the maximum over the channels of each pixel (nonzero in any channel = tissue). */
function maxChannel(r: Region): Region {
  if (r.channels === 1) return r;
  const n = r.width * r.height;
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += r.channels) {
    let m = r.data[j]!;
    for (let c = 1; c < r.channels; c++) if (r.data[j + c]! > m) m = r.data[j + c]!;
    out[i] = m;
  }
  return { data: out, width: r.width, height: r.height, channels: 1 };
}

/** An .mha file as a one-level pyramid, held in memory. */
async function mhaPyramid(path: string): Promise<SlidePyramid> {
  const img = await readMetaImage(path);
  const levels: PyramidLevel[] = [{ index: 0, width: img.width, height: img.height, downsample: 1 }];
  const mpp = img.spacingMm ? img.spacingMm * 1000 : null;
  return {
    path, format: 'mha', levels, fileMpp: plausibleMpp(mpp) ? mpp : null,
    async readRegion(level, left, top, width, height, as) {
      checkRegion(path, levels, level, left, top, width, height);
      const c = img.channels;
      const outC = as === 'rgb' ? 3 : 1;
      const out = new Uint8Array(width * height * outC);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const src = ((top + y) * img.width + left + x) * c;
          const dst = (y * width + x) * outC;
          if (as === 'mask') {
            let m = 0;
            for (let k = 0; k < Math.min(c, 3); k++) m = Math.max(m, img.data[src + k]!);
            out[dst] = m;
          } else if (c < 3) {
            out[dst] = out[dst + 1] = out[dst + 2] = img.data[src]!;
          } else {
            out[dst] = img.data[src]!; out[dst + 1] = img.data[src + 1]!; out[dst + 2] = img.data[src + 2]!;
          }
        }
      }
      return { data: out, width, height, channels: outC };
    },
  };
}
