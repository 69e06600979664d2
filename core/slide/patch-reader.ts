/**
 * Pixels of the planned patches, in grid order, as batches of uint8 RGB [b, patchSize, patchSize, 3].
 *
 * Memory stays bounded: one grid row is read at a time, as strips of at most STRIP_BYTES (a strip ends where the
 * row's selected patches leave a gap of more than MAX_GAP cells), never a whole level. Each patch is cut from its
 * strip and, when the level's patch side differs from patchSize, resized on its own with sharp (lanczos3), so a
 * patch's pixels never depend on its neighbours.
 */
import sharp from 'sharp';
import type { SlidePyramid } from './pyramid.js';
import type { TilePlan } from './tile-plan.js';

const STRIP_BYTES = 48 * 1024 * 1024;
const MAX_GAP = 4;

export interface PatchBatch {
  /** [count, patchSize, patchSize, 3] uint8, row-major. */
  pixels: Uint8Array;
  count: number;
  /** Index of the batch's first patch in the plan. */
  start: number;
}

/** Runs of selected columns of one grid row, each read as one strip. */
function strips(cols: number[], size: number): number[][] {
  const maxCells = Math.max(1, Math.floor(STRIP_BYTES / (size * size * 3)));
  const out: number[][] = [];
  for (const c of cols) {
    const cur = out.at(-1);
    if (cur && c - cur.at(-1)! <= MAX_GAP + 1 && c - cur[0]! < maxCells) cur.push(c);
    else out.push([c]);
  }
  return out;
}

/** One patch (size x size) resized to patchSize x patchSize. */
export async function resizePatch(pixels: Uint8Array, size: number, patchSize: number): Promise<Uint8Array> {
  if (size === patchSize) return pixels;
  const out = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .resize(patchSize, patchSize, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export async function* readPatchBatches(
  slide: SlidePyramid, plan: TilePlan, patchSize: number, batchSize: number,
): AsyncGenerator<PatchBatch> {
  const { grid } = plan;
  const s = grid.size;
  const patchBytes = patchSize * patchSize * 3;
  let batch = new Uint8Array(Math.min(batchSize, plan.cells.length) * patchBytes);
  let count = 0;
  let start = 0;
  let next = 0;
  let i = 0;
  while (i < plan.cells.length) {
    const row = Math.floor(plan.cells[i]! / grid.cols);
    const cols: number[] = [];
    while (i < plan.cells.length && Math.floor(plan.cells[i]! / grid.cols) === row) cols.push(plan.cells[i++]! % grid.cols);
    for (const run of strips(cols, s)) {
      const c0 = run[0]!;
      const width = (run.at(-1)! - c0 + 1) * s;
      const strip = await slide.readRegion(plan.level, c0 * s, row * s, width, s, 'rgb');
      const patches = await Promise.all(run.map((c) => {
        const p = new Uint8Array(s * s * 3);
        const x0 = (c - c0) * s;
        for (let y = 0; y < s; y++) p.set(strip.data.subarray((y * width + x0) * 3, (y * width + x0 + s) * 3), y * s * 3);
        return resizePatch(p, s, patchSize);
      }));
      for (const p of patches) {
        batch.set(p, count * patchBytes);
        count++;
        next++;
        if (count * patchBytes === batch.length) {
          yield { pixels: batch, count, start };
          start = next;
          count = 0;
          batch = new Uint8Array(Math.min(batchSize, plan.cells.length - next) * patchBytes);
        }
      }
    }
  }
}
