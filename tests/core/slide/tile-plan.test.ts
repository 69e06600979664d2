import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSlide } from '../../../core/data/synth/slide-image.js';
import { openPyramid } from '../../../core/slide/pyramid.js';
import { planTiles, type TilingSettings } from '../../../core/slide/tile-plan.js';
import { IHC, errorOf, tempDir, writeRingSlide } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
let ring: Awaited<ReturnType<typeof writeRingSlide>>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  ring = await writeRingSlide(dir, 'ring'); // 16 x 16 cells of 64 px, 0.5 um/px, mask 4x smaller
});
afterAll(async () => cleanup());

const base: TilingSettings = { patchSize: 64, targetMpp: 0.5, baseMpp: null, minTissue: 0.5, maxPatches: 10000, seed: 0 };

/** (x, y) of the tissue cells of the ring layout, in grid order, for cells of `cell` level-0 px. */
function tissueCoords(cell = 64): number[] {
  return ring.tissue.flatMap((t, i) => (t ? [(i % 16) * cell, Math.floor(i / 16) * cell] : []));
}

async function plan(settings: Partial<TilingSettings>, opts: { mask?: boolean; slideId?: string } = {}) {
  const slide = await openPyramid(ring.slidePath);
  const mask = opts.mask === false ? null : await openPyramid(ring.maskPath);
  return planTiles(slide, mask, opts.slideId ?? 'ring', { ...base, ...settings });
}

describe('planTiles on a synthetic slide with a known tissue layout', () => {
  it('at the slide mpp: level 0, a 16 x 16 grid, exactly the tissue cells, in grid order', async () => {
    const p = await plan({});
    expect([p.level, p.levelMpp, p.mpp0, p.grid.cols, p.grid.rows, p.grid.size, p.patchSizeLevel0]).toEqual([0, 0.5, 0.5, 16, 16, 64, 64]);
    expect(Array.from(p.coords)).toEqual(tissueCoords());
    expect(p.tissuePatches).toBe(ring.tissue.filter(Boolean).length);
    expect(p.warnings).toEqual([]);
  });

  it('at 1.0 um/px with 32-px patches: level 1 (1.0 um/px), same cells, level-0 coords unchanged', async () => {
    const p = await plan({ targetMpp: 1.0, patchSize: 32 });
    expect([p.level, p.levelMpp, p.grid.size, p.patchSizeLevel0]).toEqual([1, 1.0, 32, 64]);
    expect(Array.from(p.coords)).toEqual(tissueCoords());
  });

  it('at 1.0 um/px with 64-px patches each patch covers 2 x 2 cells; minTissue picks by the tissue fraction', async () => {
    for (const minTissue of [0.25, 0.5, 0.75, 1]) {
      const p = await plan({ targetMpp: 1.0, patchSize: 64, minTissue });
      expect([p.level, p.grid.cols, p.patchSizeLevel0]).toEqual([1, 8, 128]);
      const expected: number[] = [];
      for (let r = 0; r < 8; r++) {
        for (let c = 0; c < 8; c++) {
          const cells = [0, 1].flatMap((dy) => [0, 1].map((dx) => ring.tissue[(2 * r + dy) * 16 + 2 * c + dx]!));
          if (cells.filter(Boolean).length / 4 >= minTissue) expected.push(c * 128, r * 128);
        }
      }
      expect(Array.from(p.coords), `minTissue ${minTissue}`).toEqual(expected);
    }
  });

  it('caps at maxPatches with a seeded sample: a subset of the tissue cells, in grid order, same per seed, different across seeds and slides', async () => {
    const all = tissueCoords();
    const pairs = (c: Float32Array) => Array.from({ length: c.length / 2 }, (_, i) => `${c[2 * i]},${c[2 * i + 1]}`);
    const allPairs = new Set(pairs(Float32Array.from(all)));
    const a = await plan({ maxPatches: 10, seed: 1 });
    const b = await plan({ maxPatches: 10, seed: 1 });
    const c = await plan({ maxPatches: 10, seed: 2 });
    const d = await plan({ maxPatches: 10, seed: 1 }, { slideId: 'other' });
    expect(a.cells.length).toBe(10);
    expect(Array.from(a.coords)).toEqual(Array.from(b.coords));
    expect(Array.from(a.coords)).not.toEqual(Array.from(c.coords));
    expect(Array.from(a.coords)).not.toEqual(Array.from(d.coords));
    for (const p of [a, c, d]) {
      expect(pairs(p.coords).every((q) => allPairs.has(q))).toBe(true);
      expect(Array.from(p.cells)).toEqual([...p.cells].sort((x, y) => x - y));
    }
    expect(a.tissuePatches).toBe(all.length / 2);
  });

  it('without a mask keeps every patch and says so', async () => {
    const p = await plan({}, { mask: false });
    expect(p.cells.length).toBe(256);
    expect(p.warnings).toEqual([`${ring.slidePath}: no tissue mask; all 256 patches of the grid are candidates, background included`]);
  });
});

describe('planTiles errors', () => {
  it('a mask without tissue', async () => {
    const slidePath = join(dir, 'empty.tif');
    const maskPath = join(dir, 'empty_mask.tif');
    await writeSyntheticSlide({ slidePath, maskPath, grid: { cols: 4, rows: 4 }, patchPx: 32, tissue: Array(16).fill(false), prototype: Array(16).fill(0), seed: 1, mpp: 0.5 });
    const err = await errorOf(async () => planTiles(await openPyramid(slidePath), await openPyramid(maskPath), 'empty', { ...base, patchSize: 32 }));
    expect(err.message).toBe(`${maskPath}: no patch reaches minTissue 0.5 (max coverage 0.00); is this the right mask?`);
  });

  it('a mask of another aspect ratio', async () => {
    const other = join(dir, 'wide.tif');
    const otherMask = join(dir, 'wide_mask.tif');
    await writeSyntheticSlide({ slidePath: other, maskPath: otherMask, grid: { cols: 8, rows: 4 }, patchPx: 32, tissue: Array(32).fill(true), prototype: Array(32).fill(1), seed: 1, mpp: 0.5 });
    const err = await errorOf(async () => planTiles(await openPyramid(ring.slidePath), await openPyramid(otherMask), 'ring', base));
    expect(err.message).toMatch(new RegExp(`^${otherMask}: the mask is 64 x 32 \\(aspect 2\\.000\\) but the slide is 1024 x 1024 \\(aspect 1\\.000\\); .*is this the slide's mask\\?$`));
  });

  it('a slide without physical resolution needs baseMpp; with it, the real ihc_pyr.tif tiles at the right level', async () => {
    const slide = await openPyramid(IHC);
    const err = await errorOf(() => planTiles(slide, null, 'ihc', base));
    expect(err.message).toMatch(new RegExp(`^${IHC}: the slide has no physical resolution .*set "baseMpp"`));
    const p = await planTiles(slide, null, 'ihc', { ...base, baseMpp: 0.5, targetMpp: 1.0, patchSize: 64 });
    expect([p.level, p.mpp0, p.levelMpp, p.grid.cols, p.grid.rows, p.patchSizeLevel0]).toEqual([1, 0.5, 1.0, 4, 4, 128]);
    expect(p.coords.length).toBe(32);
  });

  it('a slide smaller than one patch', async () => {
    const slide = await openPyramid(IHC);
    const err = await errorOf(() => planTiles(slide, null, 'ihc', { ...base, baseMpp: 0.5, targetMpp: 4.0, patchSize: 224 }));
    expect(err.message).toMatch(/is smaller than one patch \(224 px at 4 um\/px = 448 px of level 2\)/);
  });
});
