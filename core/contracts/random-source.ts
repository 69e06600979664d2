/**
 * RandomSource: the only source of randomness in mmsurv. Injected as TOKENS.Random, seeded per run.
 *
 * Invariants
 * - Same seed -> the same sequence, on every platform (a pure-JS generator, no Math.random).
 * - `fork(label)` returns an independent stream determined by (seed, label): adding a draw in one part of the
 *   program never shifts another part's sequence (splits, initialisation and patch sampling each fork their own).
 * - `uniform()` is in [0, 1); `int(n)` is in [0, n); `shuffle` permutes in place and returns its argument.
 *
 * @example
 * const rng = random.fork('splits');
 * const order = rng.shuffle([...ids]);
 */
export interface RandomSource {
  readonly seed: number;
  uniform(): number;
  normal(mean?: number, sd?: number): number;
  int(n: number): number;
  shuffle<T>(items: T[]): T[];
  /** k distinct indices from [0, n), in random order (k <= n). */
  sample(n: number, k: number): number[];
  /**
   * A dropout keep-mask in bulk: out[i] = value (default 1) where a fresh uniform() >= rate, else 0, for every i.
   * Draws exactly what out.length calls of uniform() would (same masks, same state after), only faster.
   */
  fillMask(out: Float32Array, rate: number, value?: number): Float32Array;
  fork(label: string): RandomSource;
}
