/**
 * The generative model of the synthetic cohort: options, difficulty, latent state, true risk and survival time.
 * See index.ts for the whole model in words.
 */
import type { RandomSource } from '../../contracts/random-source.js';

export type SynthLayout = 'manifest' | 'chimera-task3' | 'chimera-task3-input' | 'chimera-task2-input';
export type SynthDifficulty = 'easy' | 'default' | 'hard';

/** Bump when the generator changes what a seed produces; written into synth.json. */
export const SYNTH_GENERATOR_VERSION = 1;

/** Signal multiplier s per difficulty: scales the true risk and every modality's dependence on the latent state. */
export const DIFFICULTY_SIGNAL: Record<SynthDifficulty, number> = { easy: 1.6, default: 1.0, hard: 0.5 };

/** Weights of the latent state in the true risk. */
export const BETA: readonly [number, number, number] = [0.9, 0.6, 0.4];
const BETA_NORM = Math.hypot(...BETA);

/** Log-hazard contributions of the clinical variables that enter the true risk. */
export const CLINICAL_EFFECT = { stageT1HG: 0.3, gradeG3: 0.25 } as const;

/**
 * Weibull time-to-event: shape 1.3 and baseline scale 160 months (median T 120 months at true risk 0). Chosen with
 * the censoring below so that at default difficulty ~44 % of cases have the event (easy ~48 %, hard ~38 %; CHIMERA
 * Task 3: 36 %) and the median observed time is ~44 months; 40 months as a median event time would give ~70 %
 * events under this follow-up.
 */
export const WEIBULL_SHAPE = 1.3;
export const WEIBULL_SCALE0 = 160;

/** Censoring: uniform follow-up in [6, 160] months; administrative end of the study at 200 months. */
export const CENSOR_MIN = 6;
export const CENSOR_MAX = 160;
export const ADMIN_END = 200;

export interface SynthOptions {
  /** Output folder: new, empty, or a previous synth output (whose files are then replaced). */
  out: string;
  /** Number of patients. */
  cases: number;
  seed: number;
  layout: SynthLayout;
  difficulty?: SynthDifficulty;
  /** Patch feature width. Default 64 (UNI: 1024). */
  featureDim?: number;
  /** Number of RNA genes. Default 400 (at least 20: one per pathway). */
  genes?: number;
  /** Smallest bag. Default 60. */
  minPatches?: number;
  /** Largest bag. Default 400. */
  maxPatches?: number;
  /**
   * Write each case's slide as a pyramidal TIFF (+ tissue mask) instead of patch features: one grid cell per patch,
   * painted with the patch's prototype (core/data/synth/slide-image.ts). Always on for the '-input' layouts.
   */
  slides?: boolean;
  /** Side of one slide grid cell in pixels (slides only). Default 32. */
  slidePatchPx?: number;
  /** Microns per pixel written into the slides (slides only). Default 1. */
  slideMpp?: number;
  /**
   * Index of the first case (default 0). Cases are drawn per index from the seed's cohort model, so offset
   * cohorts of one seed are disjoint draws from the same model: e.g. training cases 0..119 and test inputs 120..149.
   */
  firstCase?: number;
}

export type ResolvedSynthOptions = Required<SynthOptions>;

const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/** Fill defaults and check every option; errors say which option, what was expected and what was found. */
export function resolveSynthOptions(o: SynthOptions): ResolvedSynthOptions {
  const r: ResolvedSynthOptions = {
    out: o.out,
    cases: o.cases,
    seed: o.seed,
    layout: o.layout,
    difficulty: o.difficulty ?? 'default',
    featureDim: o.featureDim ?? 64,
    genes: o.genes ?? 400,
    minPatches: o.minPatches ?? 60,
    maxPatches: o.maxPatches ?? 400,
    slides: o.slides ?? o.layout.endsWith('-input'),
    slidePatchPx: o.slidePatchPx ?? 32,
    slideMpp: o.slideMpp ?? 1,
    firstCase: o.firstCase ?? 0,
  };
  const bad = (what: string, found: unknown): never => {
    throw new Error(`synthesizeCohort: ${what}, found ${JSON.stringify(found)}`);
  };
  if (typeof r.out !== 'string' || r.out === '') bad('out must be a folder path', r.out);
  if (!isPosInt(r.cases) || r.cases < 2) bad('cases must be an integer >= 2', r.cases);
  if (!Number.isInteger(r.seed)) bad('seed must be an integer', r.seed);
  if (!['manifest', 'chimera-task3', 'chimera-task3-input', 'chimera-task2-input'].includes(r.layout)) {
    bad("layout must be 'manifest', 'chimera-task3', 'chimera-task3-input' or 'chimera-task2-input'", r.layout);
  }
  if (r.layout.endsWith('-input') && !r.slides) bad(`the '${r.layout}' layout always writes slides: slides must be true`, r.slides);
  if (r.slides && r.layout === 'manifest') bad("slides are written in the 'chimera-task3' and '-input' layouts, not 'manifest'", r.layout);
  if (!isPosInt(r.slidePatchPx) || r.slidePatchPx < 8) bad('slidePatchPx must be an integer >= 8', r.slidePatchPx);
  if (!(typeof r.slideMpp === 'number' && r.slideMpp > 0 && r.slideMpp <= 100)) bad('slideMpp must be a number in (0, 100]', r.slideMpp);
  if (!Number.isInteger(r.firstCase) || r.firstCase < 0) bad('firstCase must be an integer >= 0', r.firstCase);
  if (!Object.hasOwn(DIFFICULTY_SIGNAL, r.difficulty)) bad("difficulty must be 'easy', 'default' or 'hard'", r.difficulty);
  if (!isPosInt(r.featureDim) || r.featureDim < 2) bad('featureDim must be an integer >= 2', r.featureDim);
  if (!isPosInt(r.genes) || r.genes < 20) bad('genes must be an integer >= 20 (one per pathway at least)', r.genes);
  if (!isPosInt(r.minPatches)) bad('minPatches must be an integer >= 1', r.minPatches);
  if (!isPosInt(r.maxPatches) || r.maxPatches < r.minPatches) {
    bad(`maxPatches must be an integer >= minPatches (${r.minPatches})`, r.maxPatches);
  }
  if (r.layout !== 'manifest' && r.firstCase + r.cases > 999) bad(`the '${r.layout}' layout numbers patients 001..999: firstCase + cases must be <= 999`, r.firstCase + r.cases);
  return r;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Latent state z ~ N(0, I_3) of one case. */
export function drawLatent(rng: RandomSource): [number, number, number] {
  return [rng.normal(), rng.normal(), rng.normal()];
}

/** beta . z / |beta|: the latent prognosis on a unit-variance scale (drives clinical and report wording). */
export function latentPrognosis(z: readonly number[]): number {
  return (BETA[0] * z[0]! + BETA[1] * z[1]! + BETA[2] * z[2]!) / BETA_NORM;
}

/** true_risk = s * (beta . z + 0.3 [stage T1HG] + 0.25 [grade G3]) : the log-hazard ratio of the case. */
export function trueRisk(z: readonly number[], stageT1HG: boolean, gradeG3: boolean, signal: number): number {
  const latent = BETA[0] * z[0]! + BETA[1] * z[1]! + BETA[2] * z[2]!;
  const clinical = (stageT1HG ? CLINICAL_EFFECT.stageT1HG : 0) + (gradeG3 ? CLINICAL_EFFECT.gradeG3 : 0);
  return signal * (latent + clinical);
}

export interface Outcome {
  /** Observed time in months: min(T, C, 200) rounded to 0.1, at least 0.5. */
  time: number;
  /** Whether the event was observed: T <= min(C, 200). */
  event: boolean;
  /** The latent event time T (unrounded), for diagnostics. */
  eventTime: number;
}

/**
 * T ~ Weibull(shape k, scale lambda0 * exp(-risk / k)), so the hazard is proportional to exp(risk);
 * C ~ Uniform(6, 160); administrative end 200.
 */
export function drawOutcome(rng: RandomSource, risk: number): Outcome {
  const scale = WEIBULL_SCALE0 * Math.exp(-risk / WEIBULL_SHAPE);
  let u = rng.uniform();
  while (u === 0) u = rng.uniform();
  const eventTime = scale * (-Math.log(u)) ** (1 / WEIBULL_SHAPE);
  const censorTime = CENSOR_MIN + (CENSOR_MAX - CENSOR_MIN) * rng.uniform();
  const end = Math.min(censorTime, ADMIN_END);
  const event = eventTime <= end;
  const observed = Math.min(eventTime, end);
  const time = Math.max(0.5, Math.round(observed * 10) / 10);
  return { time, event, eventTime };
}
