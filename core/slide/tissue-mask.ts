/**
 * Tissue coverage of every patch of a grid, from a mask image (nonzero = tissue).
 *
 * The mask may have any size with the slide's aspect ratio (CHIMERA masks are smaller than the slide). Coverage
 * is measured at the coarsest mask level where one patch still spans at least MIN_FOOTPRINT mask pixels (level 0
 * of the mask when none does): the fraction of mask pixels whose centre falls inside the patch. A patch smaller
 * than one mask pixel takes the value of the pixel under its centre. The mask is read in horizontal bands of at
 * most BAND_PIXELS pixels.
 */
import type { SlidePyramid } from './pyramid.js';
import { sameAspect } from './pyramid.js';

export const MIN_FOOTPRINT = 16;
const BAND_PIXELS = 16 * 1024 * 1024;

export interface PatchGrid {
  cols: number;
  rows: number;
  /** Patch side in pixels of the slide level the grid lies on. */
  size: number;
  /** Width and height of that slide level. */
  levelWidth: number;
  levelHeight: number;
}

/** Check the mask fits the slide (same aspect ratio); throws an error naming both sizes. */
export function checkMaskAspect(mask: SlidePyramid, slideWidth: number, slideHeight: number): void {
  const m = mask.levels[0]!;
  if (!sameAspect(slideWidth, slideHeight, m.width, m.height)) {
    throw new Error(`${mask.path}: the mask is ${m.width} x ${m.height} (aspect ${(m.width / m.height).toFixed(3)}) but the slide is ` +
      `${slideWidth} x ${slideHeight} (aspect ${(slideWidth / slideHeight).toFixed(3)}); a tissue mask must cover the whole slide ` +
      'at any scale: is this the slide\'s mask?');
  }
}

/** The mask level coverage is computed on, for patches of `patchLevel0` level-0 pixels on a slide `slideWidth` wide. */
export function maskLevelFor(mask: SlidePyramid, slideWidth: number, patchLevel0: number): number {
  let chosen = 0;
  mask.levels.forEach((l, i) => {
    if ((patchLevel0 * l.width) / slideWidth >= MIN_FOOTPRINT) chosen = i;
  });
  return chosen;
}

/** Index range [from, to) of mask pixels whose centres lie in [a, b); at least the pixel under the centre. */
function pixelRange(a: number, b: number, limit: number): [number, number] {
  let from = Math.max(0, Math.ceil(a - 0.5));
  let to = Math.min(limit, Math.ceil(b - 0.5));
  if (to <= from) {
    from = Math.min(limit - 1, Math.max(0, Math.floor((a + b) / 2)));
    to = from + 1;
  }
  return [from, to];
}

/** Coverage in [0, 1] of every grid cell (row-major), reading `mask` at `maskLevel`. */
export async function tissueCoverage(mask: SlidePyramid, maskLevel: number, grid: PatchGrid): Promise<Float32Array> {
  const ml = mask.levels[maskLevel]!;
  const kx = ml.width / grid.levelWidth;
  const ky = ml.height / grid.levelHeight;
  const colRanges = Array.from({ length: grid.cols }, (_, c) => pixelRange(c * grid.size * kx, (c + 1) * grid.size * kx, ml.width));
  const rowRanges = Array.from({ length: grid.rows }, (_, r) => pixelRange(r * grid.size * ky, (r + 1) * grid.size * ky, ml.height));
  const coverage = new Float32Array(grid.cols * grid.rows);
  const rowsPerBand = Math.max(1, Math.floor(BAND_PIXELS / Math.max(1, ml.width * Math.max(1, grid.size * ky))));
  for (let r0 = 0; r0 < grid.rows; r0 += rowsPerBand) {
    const r1 = Math.min(grid.rows, r0 + rowsPerBand);
    const top = rowRanges[r0]![0];
    const bottom = Math.max(...rowRanges.slice(r0, r1).map((r) => r[1]));
    const band = await mask.readRegion(maskLevel, 0, top, ml.width, bottom - top, 'mask');
    // prefix sums of nonzero pixels along each band row make every cell O(its height)
    const w = ml.width;
    const prefix = new Uint32Array((w + 1) * band.height);
    for (let y = 0; y < band.height; y++) {
      let acc = 0;
      const base = y * (w + 1);
      for (let x = 0; x < w; x++) {
        if (band.data[y * w + x]! !== 0) acc++;
        prefix[base + x + 1] = acc;
      }
    }
    for (let r = r0; r < r1; r++) {
      const [y0, y1] = rowRanges[r]!;
      for (let c = 0; c < grid.cols; c++) {
        const [x0, x1] = colRanges[c]!;
        let on = 0;
        for (let y = y0; y < y1; y++) {
          const base = (y - top) * (w + 1);
          on += prefix[base + x1]! - prefix[base + x0]!;
        }
        coverage[r * grid.cols + c] = on / ((x1 - x0) * (y1 - y0));
      }
    }
  }
  return coverage;
}
