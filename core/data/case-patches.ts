/**
 * The patch features of all slides of a case as one row-major matrix, in slide order, optionally a random subset
 * (training-time patch sampling, SurvPath's `maxPatches`).
 *
 * - `patchFeatureWidth(train, where)`: the one feature width of the training slides (an error names every width
 *   found when they differ, or says no slide was seen).
 * - `casePatches(c, dim, where)`: null when the case has no slide or every slide is empty; an error when a slide is
 *   not loaded or has another width. Rows are slide 1's patches, then slide 2's, ...
 * - `samplePatchRows(p, k, random)`: k distinct rows drawn from `random`, kept in their original order; the input
 *   unchanged when it has <= k rows.
 *
 * @example
 * const p = casePatches(c, 1024, ctx.path);                               // { values, rows } or null
 * const x = mode === 'train' && cap !== null ? samplePatchRows(p, cap, rng) : p;
 */
import type { Case } from '../contracts/case.js';
import type { RandomSource } from '../contracts/random-source.js';

export interface PatchRows {
  /** Row-major [rows, dim]. */
  values: Float32Array;
  rows: number;
  dim: number;
}

export function patchFeatureWidth(train: readonly Case[], where: string): number {
  const dims = new Set(train.flatMap((c) => (c.wsi ?? []).map((b) => b.dim)));
  if (dims.size !== 1) {
    throw new Error(
      `${where}: expected one patch feature width across the ${train.length} training cases, found ` +
        `${dims.size === 0 ? 'no slides' : [...dims].join(', ')}`,
    );
  }
  return [...dims][0]!;
}

export function casePatches(c: Case, dim: number, where: string): PatchRows | null {
  const bags = c.wsi ?? [];
  let total = 0;
  for (const b of bags) {
    if (b.dim !== dim) throw new Error(`${where}: case ${c.id}: slide ${b.slideId} has feature width ${b.dim}, the encoder was fitted on ${dim}`);
    if (b.n > 0 && !b.features) throw new Error(`${where}: case ${c.id}: slide ${b.slideId} features are not loaded (loadPatchBag before encoding)`);
    if (b.features && b.features.length !== b.n * dim) {
      throw new Error(`${where}: case ${c.id}: slide ${b.slideId} has ${b.features.length} feature values, expected n * dim = ${b.n} * ${dim}`);
    }
    total += b.n;
  }
  if (total === 0) return null;
  if (bags.length === 1) return { values: bags[0]!.features!, rows: total, dim };
  const values = new Float32Array(total * dim);
  let off = 0;
  for (const b of bags) {
    if (b.n === 0) continue;
    values.set(b.features!, off);
    off += b.n * dim;
  }
  return { values, rows: total, dim };
}

export function samplePatchRows(p: PatchRows, k: number, random: RandomSource): PatchRows {
  if (p.rows <= k) return p;
  const picked = random.sample(p.rows, k).sort((a, b) => a - b);
  const values = new Float32Array(k * p.dim);
  picked.forEach((row, i) => values.set(p.values.subarray(row * p.dim, (row + 1) * p.dim), i * p.dim));
  return { values, rows: k, dim: p.dim };
}
