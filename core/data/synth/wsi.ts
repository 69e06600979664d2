/**
 * Synthetic WSI patch-feature bags: a mixture of K = 8 tissue prototypes, three of which are prognostic.
 *
 * Prototypes are unit-norm random directions in R^featureDim, shared by the cohort. In a case with latent state z,
 * prognostic prototype k (k = 0, 1, 2, tied to z_k) makes up a fraction p_k = 0.3 * sigmoid(-2 + 1.5 s z_k) of the
 * patches (about 3.6 % each at z_k = 0, up to ~20 % for z_k = +2 at default difficulty); the rest is spread over the
 * five neutral prototypes with case-specific weights (nuisance variation). Each patch is its prototype plus
 * N(0, 0.5^2) noise in every dimension. Coordinates lie on a 224-px grid of a plausible slide, row-major.
 */
import type { RandomSource } from '../../contracts/random-source.js';
import { sigmoid } from './model.js';

export const PROTOTYPES = 8;
/** Indices of the prognostic prototypes; prototype k follows latent component z_k. */
export const PROGNOSTIC_PROTOTYPES: readonly number[] = [0, 1, 2];
export const PATCH_NOISE_SD = 0.5;
export const PATCH_SIZE = 224;

/** K unit-norm prototype vectors, row-major [K, dim]. */
export function makePrototypes(rng: RandomSource, dim: number): Float32Array {
  const out = new Float32Array(PROTOTYPES * dim);
  for (let k = 0; k < PROTOTYPES; k++) {
    const v = Array.from({ length: dim }, () => rng.normal());
    const norm = Math.sqrt(v.reduce((acc, x) => acc + x * x, 0)) || 1;
    for (let d = 0; d < dim; d++) out[k * dim + d] = v[d]! / norm;
  }
  return out;
}

/** Mixture weights of the K prototypes for latent state z at signal s (sums to 1). */
export function prototypeWeights(rng: RandomSource, z: readonly number[], s: number): number[] {
  const w = new Array<number>(PROTOTYPES).fill(0);
  let prognostic = 0;
  PROGNOSTIC_PROTOTYPES.forEach((k, i) => {
    w[k] = 0.3 * sigmoid(-2 + 1.5 * s * z[i]!);
    prognostic += w[k]!;
  });
  const neutral = [];
  for (let k = 0; k < PROTOTYPES; k++) if (!PROGNOSTIC_PROTOTYPES.includes(k)) neutral.push(k);
  const raw = neutral.map(() => 0.5 + rng.uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  neutral.forEach((k, i) => { w[k] = ((1 - prognostic) * raw[i]!) / total; });
  return w;
}

export interface SynthBag {
  n: number;
  dim: number;
  features: Float32Array;
  coords: Int32Array;
  /** Prototype index of each patch (the truth behind the features). */
  types: Uint8Array;
}

/** One bag for latent state z; n uniform in [minPatches, maxPatches]. */
export function drawBag(
  rng: RandomSource,
  z: readonly number[],
  s: number,
  prototypes: Float32Array,
  dim: number,
  minPatches: number,
  maxPatches: number,
): SynthBag {
  const n = minPatches + rng.int(maxPatches - minPatches + 1);
  const weights = prototypeWeights(rng, z, s);
  const cumulative: number[] = [];
  weights.reduce((acc, w, k) => (cumulative[k] = acc + w), 0);
  const types = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform() * cumulative[PROTOTYPES - 1]!;
    let k = 0;
    while (k < PROTOTYPES - 1 && u >= cumulative[k]!) k++;
    types[i] = k;
  }
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const base = types[i]! * dim;
    const row = i * dim;
    for (let d = 0; d < dim; d++) features[row + d] = prototypes[base + d]! + PATCH_NOISE_SD * rng.normal();
  }
  // a tissue region of about 1.6 n grid cells, at a random offset on the slide; patches in row-major order
  const cols = Math.max(1, Math.ceil(Math.sqrt(n * 1.6)));
  const rows = Math.ceil((n * 1.6) / cols) + 1;
  const x0 = 8 + rng.int(40);
  const y0 = 8 + rng.int(40);
  const cells = rng.sample(cols * rows, n).sort((a, b) => a - b);
  const coords = new Int32Array(n * 2);
  cells.forEach((cell, i) => {
    coords[2 * i] = (x0 + (cell % cols)) * PATCH_SIZE;
    coords[2 * i + 1] = (y0 + Math.floor(cell / cols)) * PATCH_SIZE;
  });
  return { n, dim, features, coords, types };
}
