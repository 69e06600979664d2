/**
 * Percentile bootstrap confidence interval for a concordance-type metric (default: Harrell's C).
 *
 * Each replicate draws n cases with replacement (core/services/random SeededRandom, so the same seed gives the same
 * interval on every platform) and recomputes the metric. Replicates in which the metric is undefined because no
 * pair is comparable (the metric throws NoComparablePairsError, e.g. a resample without events) are skipped and
 * counted in `skipped`; any other error propagates. The interval is the (1 - level) / 2 and (1 + level) / 2
 * quantiles of the valid replicate values, with linear interpolation between order statistics (R's
 * quantile(type = 7)). `estimate` is the metric on the full sample.
 *
 * Not an R function: R's boot::boot.ci(type = "perc") interpolates order statistics differently; this module
 * documents its own rule instead of claiming equality.
 *
 * @example
 * const ci = bootstrapCI(time, event, risk, { seed: 7 });               // Harrell's C, 1,000 replicates, 95 %
 * const uno = bootstrapCI(time, event, risk, { seed: 7, metric: (t, e, r) => unoC(t, e, r, { tau }).cIndex });
 */
import { SeededRandom } from '../services/random.js';
import { harrellC } from './concordance.js';
import { finiteArray, NoComparablePairsError, survivalLabels } from './guards.js';

export type SurvivalMetric = (time: Float64Array, event: Uint8Array, risk: Float64Array) => number;

export interface BootstrapOptions {
  /** Default: Harrell's C. */
  metric?: SurvivalMetric;
  /** Number of resamples. Default 1000. */
  replicates?: number;
  /** Confidence level. Default 0.95. */
  level?: number;
  /** Seed of the SeededRandom stream (required: no hidden randomness). */
  seed: number;
}

export interface BootstrapResult {
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  replicates: number;
  /** Replicates that produced a value. */
  used: number;
  /** Replicates without a comparable pair (skipped). */
  skipped: number;
}

/** Quantile with linear interpolation between order statistics (R type 7) of an ascending array. */
function quantile7(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Percentile bootstrap interval (see the file comment). */
export function bootstrapCI(
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  risk: ArrayLike<number>,
  options: BootstrapOptions,
): BootstrapResult {
  const fn = 'bootstrapCI';
  const { n, time: T, event: E } = survivalLabels(fn, time, event, { risk: risk.length });
  const R = finiteArray(fn, 'risk', risk);
  const metric: SurvivalMetric = options.metric ?? ((t, e, r) => harrellC(t, e, r).cIndex);
  const replicates = options.replicates ?? 1000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(options.seed)) throw new Error(`${fn}: seed must be an integer, found ${String(options.seed)}`);
  if (!Number.isInteger(replicates) || replicates < 1) {
    throw new Error(`${fn}: replicates must be a positive integer, found ${String(replicates)}`);
  }
  if (!(level > 0 && level < 1)) throw new Error(`${fn}: level must be in (0, 1), e.g. 0.95, found ${String(level)}`);
  const estimate = metric(T, E, R);
  const rng = new SeededRandom(options.seed).fork('bootstrap');
  const values: number[] = [];
  let skipped = 0;
  const bt = new Float64Array(n);
  const be = new Uint8Array(n);
  const br = new Float64Array(n);
  for (let b = 0; b < replicates; b++) {
    for (let q = 0; q < n; q++) {
      const i = rng.int(n);
      bt[q] = T[i]!;
      be[q] = E[i]!;
      br[q] = R[i]!;
    }
    try {
      values.push(metric(bt, be, br));
    } catch (err) {
      if (err instanceof NoComparablePairsError) skipped++;
      else throw err;
    }
  }
  if (values.length === 0) {
    throw new NoComparablePairsError(
      `${fn}: all ${replicates} replicates lacked a comparable pair; the cohort is too small or has too few events`,
    );
  }
  const sorted = Float64Array.from(values).sort();
  const alpha = (1 - level) / 2;
  return {
    estimate,
    lower: quantile7(sorted, alpha),
    upper: quantile7(sorted, 1 - alpha),
    level,
    replicates,
    used: values.length,
    skipped,
  };
}
