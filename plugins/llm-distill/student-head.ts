/**
 * The student's hidden-state survival head (Gogl & Yau, pathway 1) with calibration-corrected distillation toward the
 * teacher, and the convex combination with the student's verbalised curve (pathway 2) at prediction.
 *
 * - forward: [b, inDim] -> K hazard logits (through ReLU(Linear(inDim -> hidden)) first when `hidden` is set); the
 *   time bins are cut by `fit` at the K-quantiles of the training fold's event times (core/survival/time-bins).
 * - loss(out, labels, cases) = NLL(alpha) + distillWeight * (1/b) sum_i mask_i D_i: the SurvPath NLL
 *   (core/survival/discrete-nll), plus the Bernoulli KL between the student's S at the upper bin edges and the
 *   teacher's exponential curve at the same edges (distill-loss.ts). The teacher is the case's knowledge text of
 *   role 'teacher' (teacher-source.ts; the first one when several); mask_i from distill-mask.ts with the row's label.
 *   Without cases, without teacher texts, with every mask 0 or distillWeight 0, the loss is the plain NLL.
 * - predict(out, cases): S_h = prod (1 - sigmoid(h)) at the upper bin edges; when the case has a knowledge text of
 *   role 'verbalised', S = combine * S_h + (1 - combine) * S_v with S_v that answer's exponential curve at the same
 *   times (a convex combination of two non-increasing curves in [0, 1] is one too); risk = -sum S (as the discrete
 *   head); `curves` { hidden, verbalised? }; `explanation` the verbalised answer's, else the teacher's.
 * Choices here: the student LLM is frozen (GGUF models cannot be fine-tuned in llama.cpp), so this head is trained on
 * its pooled hidden-state embedding (text-embedding encoder, embedder 'llm'); `combine` is a fixed option (the paper
 * picks the weight on validation, a later step).
 * Variables, in order: [hidden kernel, hidden bias,] kernel, bias. state() = the time bins.
 *
 * @example
 * "head": { "type": "llm-distill.student", "bins": 4, "distillWeight": 0.5, "combine": 0.8 }
 */
import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Head } from '../../core/contracts/head.js';
import type { SurvivalLabel } from '../../core/contracts/survival-label.js';
import type { SurvivalPrediction } from '../../core/contracts/survival-prediction.js';
import { Dense } from '../../core/model/dense.js';
import { denseStack } from '../../core/model/dense-stack.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { discreteNll } from '../../core/survival/discrete-nll.js';
import { riskFromSurvival, survivalFromHazards } from '../../core/survival/predict.js';
import { binsOf, timeBinsFromEvents, validateTimeBins, type TimeBins } from '../../core/survival/time-bins.js';
import { distillationTerm } from './distill-loss.js';
import { distillMask } from './distill-mask.js';
import { answerCurve, readAnswerText, type SurvivalAnswer } from './teacher-answer.js';

export interface StudentHeadOptions {
  bins: number;
  hidden: number | null;
  alpha: number;
  distillWeight: number;
  combine: number;
}

export class StudentHead implements Head {
  private layers: Dense[] = [];
  private bins: TimeBins | null = null;
  /** Parsed answers by stored text (the same texts come back every epoch). */
  private readonly answers = new Map<string, SurvivalAnswer>();

  constructor(private readonly options: StudentHeadOptions, private readonly ctx: BuildContext) {
    const { bins, distillWeight, combine } = options;
    if (!Number.isInteger(bins) || bins < 1) throw new Error(`${ctx.path}.bins: expected an integer >= 1, found ${bins}`);
    if (!(distillWeight >= 0) || !Number.isFinite(distillWeight)) throw new Error(`${ctx.path}.distillWeight: expected a finite number >= 0, found ${distillWeight}`);
    if (!(combine >= 0 && combine <= 1)) throw new Error(`${ctx.path}.combine: expected a weight in [0, 1] (1 = hidden-state curve only), found ${combine}`);
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  build(inDim: number): void {
    this.dispose();
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const dense = (name: string, i: number, o: number) =>
      new Dense({ inDim: i, outDim: o, init: 'glorot-normal', random: this.ctx.random.fork(name), explicitTranspose, name: `${this.ctx.path}.${name}` });
    const { hidden, bins } = this.options;
    this.layers = hidden === null ? [dense('logits', inDim, bins)] : [dense('hidden', inDim, hidden), dense('logits', hidden, bins)];
  }

  fit(train: readonly Case[]): void {
    const labels = train.map((c) => {
      if (!c.label) throw new Error(`${this.ctx.path}: training case ${c.id} has no label; the time bins are cut from labelled training cases`);
      return c.label;
    });
    try {
      this.bins = timeBinsFromEvents(labels.map((l) => l.time), labels.map((l) => l.event), { bins: this.options.bins });
    } catch (err) {
      throw new Error(`${this.ctx.path}: ${(err as Error).message} (option ${this.ctx.path}.bins)`);
    }
  }

  /** The fitted time bins, { edges } (K + 1 numbers). */
  state(): TimeBins | null {
    return this.bins;
  }

  restore(state: unknown): void {
    const bins = validateTimeBins(state, `${this.ctx.path}: saved time bins`);
    if (bins.edges.length !== this.options.bins + 1) {
      throw new Error(`${this.ctx.path}: the saved time bins have ${bins.edges.length - 1} bins but the options say bins: ${this.options.bins}`);
    }
    this.bins = bins;
  }

  forward(z: tf.Tensor2D): tf.Tensor2D {
    return denseStack(this.layers, z, this.ctx.path);
  }

  loss(out: tf.Tensor2D, labels: readonly SurvivalLabel[], cases?: readonly Case[]): tf.Scalar {
    const edges = this.checkOut(out, labels.length);
    const nll = () => discreteNll(out, binsOf(edges, labels.map((l) => l.time)), labels.map((l) => !l.event), { alpha: this.options.alpha });
    if (!cases || this.options.distillWeight === 0) return nll();
    if (cases.length !== labels.length) throw new Error(`${this.ctx.path}: loss got ${labels.length} labels but ${cases.length} cases; cases[i] must be the case of row i`);
    const { teacher, mask } = this.teacherTargets(edges, labels, cases);
    if (!mask.some((m) => m === 1)) return nll();
    return tf.tidy(() => tf.add(nll(), tf.mul(this.options.distillWeight, distillationTerm(out, teacher, mask, this.ctx.path))) as tf.Scalar);
  }

  /**
   * The teacher's survival at the upper bin edges ([b, K] row-major; zeros where unused) and the calibration mask of
   * each row (0 without a teacher answer or when it contradicts the outcome).
   */
  teacherTargets(edges: readonly number[], labels: readonly SurvivalLabel[], cases: readonly Case[]): { teacher: Float32Array; mask: Uint8Array } {
    const k = edges.length - 1;
    const teacher = new Float32Array(labels.length * k);
    const mask = new Uint8Array(labels.length);
    labels.forEach((label, i) => {
      const answer = this.answerOf(cases[i]!, 'teacher');
      if (!answer) return;
      const curve = answerCurve(answer, answer.horizons);
      mask[i] = distillMask(label, curve.at);
      for (let j = 0; j < k; j++) teacher[i * k + j] = curve.at(edges[j + 1]!);
    });
    return { teacher, mask };
  }

  predict(out: tf.Tensor2D, cases?: readonly Case[]): SurvivalPrediction[] {
    const edges = this.checkOut(out);
    const [b, k] = out.shape;
    if (cases && cases.length !== b) throw new Error(`${this.ctx.path}: predict got ${b} rows but ${cases.length} cases; cases[i] must be the case of row i`);
    const logits = out.dataSync();
    const times = Float64Array.from(edges.slice(1));
    const w = this.options.combine;
    const result: SurvivalPrediction[] = [];
    for (let i = 0; i < b; i++) {
      const hidden = survivalFromHazards(Array.from(logits.subarray(i * k, (i + 1) * k), (h) => 1 / (1 + Math.exp(-h))));
      const c = cases?.[i];
      const verbalisedAnswer = c ? this.answerOf(c, 'verbalised') : null;
      const teacherAnswer = c ? this.answerOf(c, 'teacher') : null;
      let survival = hidden.slice();
      const curves: Record<string, Float64Array> = { hidden };
      if (verbalisedAnswer) {
        const verbalised = answerCurve(verbalisedAnswer, verbalisedAnswer.horizons).on(times);
        survival = hidden.map((s, j) => Math.min(1, Math.max(0, w * s + (1 - w) * verbalised[j]!)));
        curves['verbalised'] = verbalised;
      }
      const explanation = verbalisedAnswer?.explanation ?? teacherAnswer?.explanation;
      result.push({
        risk: riskFromSurvival(survival),
        times: times.slice(),
        survival,
        curves,
        ...(explanation !== undefined ? { explanation } : {}),
      });
    }
    return result;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }

  private answerOf(c: Case, role: 'teacher' | 'verbalised'): SurvivalAnswer | null {
    const text = c.knowledge?.find((t) => t.role === role)?.text;
    if (text === undefined) return null;
    let answer = this.answers.get(text);
    if (!answer) {
      answer = readAnswerText(text, `${this.ctx.path}: case ${c.id}, knowledge text of role '${role}'`);
      this.answers.set(text, answer);
    }
    return answer;
  }

  /** The bin edges, after checking `out` is [rows, bins]. */
  private checkOut(out: tf.Tensor2D, rows?: number): number[] {
    if (!this.bins) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before loss/predict: the time bins are cut from the training fold`);
    if (out.rank !== 2 || out.shape[1] !== this.options.bins || (rows !== undefined && out.shape[0] !== rows)) {
      throw new Error(`${this.ctx.path}: expected logits of shape [${rows ?? 'b'}, ${this.options.bins}], found [${out.shape.join(', ')}]`);
    }
    return this.bins.edges;
  }
}

export const studentHeadSpec: ComponentSpec<'head', StudentHeadOptions> = {
  id: 'llm-distill.student',
  description: 'LLM-distillation student head: discrete-time NLL plus a calibration-masked distillation term toward the teacher curve; predicts a convex combination with the verbalised curve',
  optionsSchema: {
    type: 'object',
    properties: {
      bins: { type: 'integer', minimum: 1, default: 4, description: 'Number of time bins, cut at quantiles of the training event times' },
      hidden: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Width of a hidden Linear + ReLU before the logits (null: none)' },
      alpha: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'Extra weight on the uncensored term of the NLL (SurvPath uses 0.5)' },
      distillWeight: {
        type: 'number', minimum: 0, default: 0.5,
        description: "Weight of the distillation term (Bernoulli KL to the teacher's curve at the bin edges, masked where the teacher contradicts the outcome); 0: plain NLL",
      },
      combine: {
        type: 'number', minimum: 0, maximum: 1, default: 0.8,
        description: "Prediction S = combine * S_hidden + (1 - combine) * S_verbalised for cases with a 'verbalised' knowledge text (1: hidden-state curve only)",
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new StudentHead(options, ctx),
};
