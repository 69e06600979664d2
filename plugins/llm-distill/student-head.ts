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
import { DiscreteTimeHead } from '../../core/model/discrete-time-head.js';
import { riskFromSurvival } from '../../core/survival/predict.js';
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

export class StudentHead extends DiscreteTimeHead implements Head {
  /** Parsed answers by stored text (the same texts come back every epoch). */
  private readonly answers = new Map<string, SurvivalAnswer>();

  constructor(private readonly options: StudentHeadOptions, ctx: BuildContext) {
    super(options, ctx);
    const { distillWeight, combine } = options;
    if (!(distillWeight >= 0) || !Number.isFinite(distillWeight)) throw new Error(`${ctx.path}.distillWeight: expected a finite number >= 0, found ${distillWeight}`);
    if (!(combine >= 0 && combine <= 1)) throw new Error(`${ctx.path}.combine: expected a weight in [0, 1] (1 = hidden-state curve only), found ${combine}`);
  }

  loss(out: tf.Tensor2D, labels: readonly SurvivalLabel[], cases?: readonly Case[]): tf.Scalar {
    const edges = this.edgesFor(out, labels.length);
    const nll = () => this.nll(out, labels);
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
    const { times, rows } = this.survivalRows(out);
    const b = rows.length;
    if (cases && cases.length !== b) throw new Error(`${this.ctx.path}: predict got ${b} rows but ${cases.length} cases; cases[i] must be the case of row i`);
    const w = this.options.combine;
    const result: SurvivalPrediction[] = [];
    for (let i = 0; i < b; i++) {
      const hidden = rows[i]!;
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
