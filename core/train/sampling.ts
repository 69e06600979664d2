/**
 * What a training epoch draws: the order of the training cases and, per case, a random subset of its patches.
 * Both take a stream forked for the epoch, so an epoch draws the same whether or not the run was resumed.
 *
 * @example
 * const order = epochOrder(train, 'balanced', rng.fork('order'));
 * const small = samplePatches(c, 4096, rng.fork(`patches/${c.id}`));
 */
import type { TargetKind } from '../contracts/binary-label.js';
import type { Case, PatchBag } from '../contracts/case.js';
import type { RandomSource } from '../contracts/random-source.js';

/**
 * 'shuffle': a permutation. 'balanced': n draws with replacement, each picking the event or the censored class with
 * probability 1/2 and then a case of that class uniformly (PyTorch WeightedRandomSampler with weights 1/class size).
 * With target 'binary' the two classes are the positive and the negative cases.
 */
export function epochOrder<T extends Case>(cases: readonly T[], mode: 'shuffle' | 'balanced', random: RandomSource, target: TargetKind = 'survival'): T[] {
  if (mode === 'shuffle') return random.shuffle(cases.slice());
  const inClass = (c: Case) => (target === 'binary' ? c.binary?.positive === true : c.label?.event === true);
  const events = cases.filter(inClass);
  const censored = cases.filter((c) => !inClass(c));
  if (events.length === 0 || censored.length === 0) return random.shuffle(cases.slice());
  return cases.map(() => {
    const pool = random.uniform() < 0.5 ? events : censored;
    return pool[random.int(pool.length)]!;
  });
}

/** The case with at most `max` patches over all its slides (a uniform subset, original order kept). */
export function samplePatches(c: Case, max: number | null, random: RandomSource): Case {
  if (max === null || !c.wsi || c.wsi.length === 0) return c;
  const total = c.wsi.reduce((a, b) => a + b.n, 0);
  if (total <= max) return c;
  const picked = random.sample(total, max).sort((a, b) => a - b);
  const wsi: PatchBag[] = [];
  let offset = 0;
  let k = 0;
  for (const bag of c.wsi) {
    const rows: number[] = [];
    while (k < picked.length && picked[k]! < offset + bag.n) rows.push(picked[k++]! - offset);
    offset += bag.n;
    if (rows.length === 0) continue;
    if (!bag.features) throw new Error(`case ${c.id}: slide ${bag.slideId} features are not loaded (loadPatchBag before training)`);
    const features = new Float32Array(rows.length * bag.dim);
    rows.forEach((r, i) => features.set(bag.features!.subarray(r * bag.dim, (r + 1) * bag.dim), i * bag.dim));
    const sub: PatchBag = { ...bag, n: rows.length, features };
    if (bag.coords) {
      const coords = new Float32Array(rows.length * 2);
      rows.forEach((r, i) => coords.set(bag.coords!.subarray(r * 2, r * 2 + 2), i * 2));
      sub.coords = coords;
    }
    wsi.push(sub);
  }
  return { ...c, wsi };
}
