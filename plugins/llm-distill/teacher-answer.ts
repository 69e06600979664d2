/**
 * The verbalised survival answer of a teacher (or student) LLM: its JSON schema, parsing, the stored canonical text,
 * and the exponential survival curve fitted to the stated probabilities (Gogl & Yau: "teacher outputs are turned
 * into curves by fitting an exponential").
 *
 * What the model is asked for (`answerSchema(horizons)`), a JSON object with exactly these keys:
 *   { "survival": [p_1, .., p_H],  "explanation": "..." }
 * p_i in [0, 1] is the stated probability of being event-free at horizons[i] (months by default, 12/24/36/60: the
 * cohort's time unit; the labels must use the same unit), exactly H = horizons.length numbers; the explanation has
 * at most 300 characters. The probabilities are NOT required to be non-increasing: a grammar cannot enforce it and
 * the least-squares fit below accepts any answer (a non-monotone answer simply fits worse).
 *
 * What a knowledge text stores (`answerText`): the canonical JSON.stringify({ horizons, survival, explanation }),
 * so a reader (the student head) needs no options to interpret it; `readAnswerText` parses and checks it.
 *
 * The exponential fit (`answerCurve`), S(t) = exp(-lambda t), lambda >= 0: least squares on the cumulative hazard
 * -log S through the origin,
 *   minimise sum_i (lambda t_i - y_i)^2  with  y_i = -log(clamp(p_i, 1e-3, 1 - 1e-3))
 *   =>  lambda = sum_i t_i y_i / sum_i t_i^2.
 * The clamp keeps y_i finite (p = 0 would be an infinite hazard) and lambda > 0 (p = 1 everywhere would mean
 * "never an event", a flat curve the exponential family cannot take). Choice here: the fit is on the log scale
 * (closed form, the standard linearisation) rather than on the probabilities themselves.
 *
 * @example
 * const answer = parseAnswer('{"survival":[0.9,0.8,0.7,0.5],"explanation":"Low grade."}', [12, 24, 36, 60], 'case 3A_001');
 * const curve = answerCurve(answer, answer.horizons);   // curve.lambda ~ 0.0106
 * curve.at(48);                                            // S(48) = exp(-48 lambda)
 */
import type { JsonSchemaObject } from '../../core/contracts/language-model.js';
import { schemaProblem } from '../../core/llm/generate-json.js';

/** Default horizons of the stated probabilities, in months. */
export const DEFAULT_HORIZONS: readonly number[] = [12, 24, 36, 60];

/** Longest explanation the schema accepts (characters). */
export const EXPLANATION_MAX_LENGTH = 300;

/** Probabilities are clamped into [CLAMP, 1 - CLAMP] before the log in the exponential fit. */
export const SURVIVAL_CLAMP = 1e-3;

/** A parsed answer, with the horizons it refers to. */
export interface SurvivalAnswer {
  /** Strictly increasing times > 0 of the stated probabilities. */
  horizons: number[];
  /** P(event-free at horizons[i]) in [0, 1], one per horizon. */
  survival: number[];
  explanation: string;
}

/** S(t) = exp(-lambda t), fitted to an answer. */
export interface ExponentialCurve {
  lambda: number;
  /** S(t) for t >= 0. */
  at(t: number): number;
  /** S at each of `times`. */
  on(times: ArrayLike<number>): Float64Array;
}

/** Check horizons: a non-empty array of finite, strictly increasing numbers > 0. */
export function checkHorizons(horizons: unknown, where: string): number[] {
  if (!Array.isArray(horizons) || horizons.length === 0) {
    throw new Error(`${where}: horizons must be a non-empty array of times > 0 (e.g. [12, 24, 36, 60] months), found ${JSON.stringify(horizons)}`);
  }
  horizons.forEach((h, i) => {
    if (typeof h !== 'number' || !Number.isFinite(h) || h <= 0) throw new Error(`${where}: horizons[${i}] must be a finite number > 0, found ${JSON.stringify(h)}`);
    if (i > 0 && !(h > (horizons[i - 1] as number))) {
      throw new Error(`${where}: horizons must be strictly increasing, found ${horizons[i - 1]} then ${h} at index ${i}`);
    }
  });
  return horizons.slice() as number[];
}

/** The JSON schema of an answer for these horizons (what the model is constrained to and validated against). */
export function answerSchema(horizons: readonly number[]): JsonSchemaObject {
  return {
    type: 'object',
    properties: {
      survival: {
        type: 'array',
        items: { type: 'number', minimum: 0, maximum: 1 },
        minItems: horizons.length,
        maxItems: horizons.length,
      },
      explanation: { type: 'string', maxLength: EXPLANATION_MAX_LENGTH },
    },
    required: ['survival', 'explanation'],
    additionalProperties: false,
  };
}

/**
 * Parse a model's answer text ({ survival, explanation }) for these horizons; throws an error that says what is
 * wrong with it (not JSON, wrong length, a probability outside [0, 1], extra keys ...) and where.
 */
export function parseAnswer(text: string, horizons: readonly number[], where: string): SurvivalAnswer {
  const h = checkHorizons(horizons as unknown, where);
  const { value, problem } = schemaProblem(text, answerSchema(h));
  if (problem) {
    const clip = text.length > 160 ? `${text.slice(0, 160)}...` : text;
    throw new Error(`${where}: expected a survival answer {"survival": [${h.length} probabilities in [0, 1]], "explanation": "<= ${EXPLANATION_MAX_LENGTH} characters"}, found ${JSON.stringify(clip)}: ${problem}`);
  }
  const v = value as { survival: number[]; explanation: string };
  return { horizons: h, survival: v.survival.slice(), explanation: v.explanation };
}

/** The canonical stored text of an answer: JSON.stringify({ horizons, survival, explanation }). */
export function answerText(answer: SurvivalAnswer): string {
  return JSON.stringify({ horizons: answer.horizons, survival: answer.survival, explanation: answer.explanation });
}

/** Parse a stored answer text (see `answerText`), e.g. a knowledge text of role 'teacher' or 'verbalised'. */
export function readAnswerText(text: string, where: string): SurvivalAnswer {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: expected a stored survival answer (JSON {"horizons", "survival", "explanation"}), found text that is not JSON (${(err as Error).message}); rebuild the knowledge with the llm-distill sources`);
  }
  const o = value as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new Error(`${where}: expected a stored survival answer object {"horizons", "survival", "explanation"}, found ${JSON.stringify(value)}`);
  }
  const horizons = checkHorizons(o['horizons'], `${where}: horizons`);
  const { horizons: _h, ...rest } = o;
  return parseAnswer(JSON.stringify(rest), horizons, where);
}

/** lambda of the exponential fit (see the file comment); horizons and survival aligned. */
export function exponentialRate(horizons: ArrayLike<number>, survival: ArrayLike<number>): number {
  if (horizons.length !== survival.length || horizons.length === 0) {
    throw new Error(`exponentialRate: expected one probability per horizon, found ${survival.length} probabilities for ${horizons.length} horizons`);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < horizons.length; i++) {
    const t = horizons[i]!;
    const p = survival[i]!;
    if (!(t > 0) || !Number.isFinite(t)) throw new Error(`exponentialRate: horizons[${i}] must be a finite number > 0, found ${t}`);
    if (!(p >= 0 && p <= 1)) throw new Error(`exponentialRate: survival[${i}] must be a probability in [0, 1], found ${p}`);
    const s = Math.min(Math.max(p, SURVIVAL_CLAMP), 1 - SURVIVAL_CLAMP);
    num += t * -Math.log(s);
    den += t * t;
  }
  return num / den;
}

/** The curve S(t) = exp(-lambda t) with the given rate. */
export function exponentialCurve(lambda: number): ExponentialCurve {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`exponentialCurve: lambda must be a finite number >= 0, found ${lambda}`);
  const at = (t: number): number => {
    if (!(t >= 0) || Number.isNaN(t)) throw new Error(`exponential curve: time must be >= 0, found ${t}`);
    return Math.exp(-lambda * t);
  };
  return { lambda, at, on: (times) => Float64Array.from(times, at) };
}

/** The exponential survival curve fitted to an answer's probabilities at `horizons`. */
export function answerCurve(answer: Pick<SurvivalAnswer, 'survival'>, horizons: readonly number[]): ExponentialCurve {
  return exponentialCurve(exponentialRate(horizons, answer.survival));
}
