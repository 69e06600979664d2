/**
 * The patches of one slide: level, grid, tissue selection and the seeded cap, before any pixel of the slide is read.
 *
 * The grid tiles the chosen level from (0, 0) without overlap; partial patches at the right and bottom edges are
 * dropped. Kept patches are those with mask coverage >= minTissue (all of them without a mask). Above maxPatches,
 * a sample drawn with SeededRandom(seed).fork('slide-patches/<slideId>') is kept, in grid order.
 */
import { SeededRandom } from '../services/random.js';
import { chooseLevel, fmt, resolveBaseMpp } from './level-choice.js';
import type { SlidePyramid } from './pyramid.js';
import { checkMaskAspect, maskLevelFor, tissueCoverage, type PatchGrid } from './tissue-mask.js';

export interface TilingSettings {
  patchSize: number;
  targetMpp: number;
  baseMpp: number | null;
  minTissue: number;
  maxPatches: number;
  seed: number;
}

export interface TilePlan {
  level: number;
  levelMpp: number;
  mpp0: number;
  grid: PatchGrid;
  /** Selected grid cells (row * cols + col), ascending = grid order. */
  cells: Int32Array;
  /** [n, 2] level-0 (x, y) of each selected patch's top-left corner. */
  coords: Float32Array;
  patchSizeLevel0: number;
  /** Tissue patches before the cap. */
  tissuePatches: number;
  warnings: string[];
}

export async function planTiles(slide: SlidePyramid, mask: SlidePyramid | null, slideId: string, s: TilingSettings): Promise<TilePlan> {
  const warnings: string[] = [];
  const l0 = slide.levels[0]!;
  const mpp0 = resolveBaseMpp(slide.path, slide.fileMpp, s.baseMpp, warnings);
  const choice = chooseLevel(slide.levels, mpp0, s.targetMpp, s.patchSize);
  if (choice.warning) warnings.push(`${slide.path}: ${choice.warning}`);
  const level = slide.levels[choice.level]!;
  const grid: PatchGrid = {
    cols: Math.floor(level.width / choice.sizeAtLevel),
    rows: Math.floor(level.height / choice.sizeAtLevel),
    size: choice.sizeAtLevel,
    levelWidth: level.width,
    levelHeight: level.height,
  };
  if (grid.cols < 1 || grid.rows < 1) {
    throw new Error(`${slide.path}: the slide (${l0.width} x ${l0.height} px at ${fmt(mpp0)} um/px) is smaller than one patch ` +
      `(${s.patchSize} px at ${s.targetMpp} um/px = ${choice.sizeAtLevel} px of level ${choice.level})`);
  }
  const total = grid.cols * grid.rows;
  let tissue: number[];
  if (mask) {
    checkMaskAspect(mask, l0.width, l0.height);
    const coverage = await tissueCoverage(mask, maskLevelFor(mask, l0.width, choice.sizeLevel0), grid);
    tissue = [];
    let max = 0;
    for (let i = 0; i < total; i++) {
      if (coverage[i]! >= s.minTissue) tissue.push(i);
      if (coverage[i]! > max) max = coverage[i]!;
    }
    if (tissue.length === 0) {
      throw new Error(`${mask.path}: no patch reaches minTissue ${s.minTissue} (max coverage ${max.toFixed(2)}); is this the right mask?`);
    }
  } else {
    tissue = Array.from({ length: total }, (_, i) => i);
    warnings.push(`${slide.path}: no tissue mask; all ${total} patches of the grid are candidates, background included`);
  }
  let chosen = tissue;
  if (tissue.length > s.maxPatches) {
    const rng = new SeededRandom(s.seed).fork(`slide-patches/${slideId}`);
    chosen = rng.sample(tissue.length, s.maxPatches).sort((a, b) => a - b).map((i) => tissue[i]!);
  }
  const cells = Int32Array.from(chosen);
  const coords = new Float32Array(cells.length * 2);
  const dx = l0.width / level.width;
  const dy = l0.height / level.height;
  cells.forEach((cell, i) => {
    const col = cell % grid.cols;
    const row = (cell - col) / grid.cols;
    coords[2 * i] = Math.round(col * grid.size * dx);
    coords[2 * i + 1] = Math.round(row * grid.size * dy);
  });
  return {
    level: choice.level, levelMpp: choice.levelMpp, mpp0, grid, cells, coords,
    patchSizeLevel0: choice.sizeLevel0, tissuePatches: tissue.length, warnings,
  };
}
