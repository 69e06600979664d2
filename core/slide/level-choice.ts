/**
 * Which pyramid level to read patches from, and how many of its pixels make one patch.
 *
 * Rule: among the levels whose mpp is at most 1.1 x targetMpp (at most 10 % coarser than asked), take the one
 * closest to targetMpp on a log scale; when every level is coarser than that, take level 0 and upsample (with a
 * warning). A patch covers patchSize x targetMpp microns: `sizeAtLevel = round(patchSize * targetMpp / levelMpp)`
 * level pixels, resized to patchSize when they differ.
 */
import type { PyramidLevel } from './pyramid.js';

export const COARSER_TOLERANCE = 1.1;

export interface LevelChoice {
  level: number;
  /** Microns per pixel of the chosen level. */
  levelMpp: number;
  /** Patch side in pixels of the chosen level. */
  sizeAtLevel: number;
  /** Patch side in level-0 pixels. */
  sizeLevel0: number;
  /** Set when even level 0 is coarser than the target: patches are upsampled. */
  warning?: string;
}

/** Microns per pixel of level 0: the file's tags, else the spec's baseMpp, else an error saying what to do. */
export function resolveBaseMpp(
  path: string, fileMpp: number | null, baseMpp: number | null, warnings: string[],
): number {
  if (fileMpp !== null) {
    if (baseMpp !== null && Math.abs(baseMpp / fileMpp - 1) > 0.05) {
      warnings.push(`${path}: the TIFF says ${fmt(fileMpp)} um/px at level 0; baseMpp ${baseMpp} of the spec is ignored (it applies only to files without resolution tags)`);
    }
    return fileMpp;
  }
  if (baseMpp !== null) return baseMpp;
  throw new Error(`${path}: the slide has no physical resolution (no TIFF resolution tags, or only a screen default such as 72/96 dpi), ` +
    'so its microns per pixel are unknown: set "baseMpp" in the extractor spec (e.g. 0.25 for a 40x scan, 0.5 for 20x)');
}

export function chooseLevel(
  levels: readonly PyramidLevel[], mpp0: number, targetMpp: number, patchSize: number,
): LevelChoice {
  let best = -1;
  let bestDistance = Infinity;
  levels.forEach((l, i) => {
    const mpp = mpp0 * l.downsample;
    if (mpp > targetMpp * COARSER_TOLERANCE) return;
    const distance = Math.abs(Math.log(mpp / targetMpp));
    if (distance < bestDistance) { best = i; bestDistance = distance; }
  });
  let warning: string | undefined;
  if (best < 0) {
    best = 0;
    warning = `level 0 is ${fmt(mpp0)} um/px, coarser than the target ${targetMpp} um/px: patches are upsampled ` +
      `(${fmt(mpp0 / targetMpp)}x), which adds no detail`;
  }
  const level = levels[best]!;
  const levelMpp = mpp0 * level.downsample;
  const sizeAtLevel = Math.max(1, Math.round((patchSize * targetMpp) / levelMpp));
  return {
    level: best, levelMpp, sizeAtLevel,
    sizeLevel0: Math.round(sizeAtLevel * level.downsample),
    ...(warning ? { warning } : {}),
  };
}

export function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}
