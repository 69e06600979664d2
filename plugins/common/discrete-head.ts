import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Head } from '../../core/contracts/head.js';
import type { SurvivalLabel } from '../../core/contracts/survival-label.js';
import type { SurvivalPrediction } from '../../core/contracts/survival-prediction.js';
import { discreteNll } from '../../core/survival/discrete-nll.js';
import { riskFromSurvival, survivalFromHazards } from '../../core/survival/predict.js';
import { binsOf, timeBinsFromEvents, validateTimeBins, type TimeBins } from '../../core/survival/time-bins.js';
import { Dense } from '../../core/model/dense.js';
import { denseStack } from '../../core/model/dense-stack.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface DiscreteHeadOptions {
  bins: number;
  hidden: number | null;
  alpha: number;
}

/**
 * Discrete-time survival head (SurvPath, MCAT, PORPOISE): [b, inDim] -> `bins` hazard logits, through
 * ReLU(Linear(inDim -> hidden)) first when `hidden` is set. `fit(train)` cuts the bins at the quartiles (K-quantiles)
 * of the training fold's event times (core/survival/time-bins); the loss is the SurvPath NLL with `alpha`, averaged
 * over the batch; predict gives S_k = prod_{j<=k} (1 - sigmoid(h_j)) at the upper bin edges and risk = -sum S_k.
 * Variables, in order: [hidden kernel, hidden bias,] kernel, bias.
 */
export class DiscreteHead implements Head {
  private layers: Dense[] = [];
  private bins: TimeBins | null = null;

  constructor(private readonly options: DiscreteHeadOptions, private readonly ctx: BuildContext) {
    if (!Number.isInteger(options.bins) || options.bins < 1) throw new Error(`${ctx.path}.bins: expected an integer >= 1, found ${options.bins}`);
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  build(inDim: number): void {
    this.dispose();
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const { hidden, bins } = this.options;
    const layer = (name: string, i: number, o: number) =>
      new Dense({ inDim: i, outDim: o, init: 'glorot-normal', random: this.ctx.random.fork(name), explicitTranspose, name: `${this.ctx.path}.${name}` });
    this.layers = hidden === null ? [layer('logits', inDim, bins)] : [layer('hidden', inDim, hidden), layer('logits', hidden, bins)];
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

  private requireBins(): TimeBins {
    if (!this.bins) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before loss/predict: the time bins are cut from the training fold`);
    return this.bins;
  }

  private checkOut(out: tf.Tensor2D, rows?: number): void {
    if (out.rank !== 2 || out.shape[1] !== this.options.bins || (rows !== undefined && out.shape[0] !== rows)) {
      throw new Error(`${this.ctx.path}: expected logits of shape [${rows ?? 'b'}, ${this.options.bins}], found [${out.shape.join(', ')}]`);
    }
  }

  loss(out: tf.Tensor2D, labels: readonly SurvivalLabel[]): tf.Scalar {
    const { edges } = this.requireBins();
    this.checkOut(out, labels.length);
    const bin = binsOf(edges, labels.map((l) => l.time));
    const censored = labels.map((l) => !l.event);
    return discreteNll(out, bin, censored, { alpha: this.options.alpha });
  }

  predict(out: tf.Tensor2D): SurvivalPrediction[] {
    const { edges } = this.requireBins();
    this.checkOut(out);
    const [b, k] = out.shape;
    const logits = out.dataSync();
    const times = Float64Array.from(edges.slice(1));
    const result: SurvivalPrediction[] = [];
    for (let i = 0; i < b; i++) {
      const hazards = Array.from(logits.subarray(i * k, (i + 1) * k), (h) => 1 / (1 + Math.exp(-h)));
      const survival = survivalFromHazards(hazards);
      result.push({ risk: riskFromSurvival(survival), times: times.slice(), survival });
    }
    return result;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }
}

export const discreteHeadSpec: ComponentSpec<'head', DiscreteHeadOptions> = {
  id: 'discrete',
  description: 'Discrete-time hazard head: logits over time bins at event-time quantiles, SurvPath NLL loss',
  optionsSchema: {
    type: 'object',
    properties: {
      bins: { type: 'integer', minimum: 1, default: 4, description: 'Number of time bins, cut at quantiles of the training event times' },
      hidden: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Width of a hidden Linear + ReLU before the logits (null: none)' },
      alpha: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'Extra weight on the uncensored term of the NLL (SurvPath trains with 0.5)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new DiscreteHead(options, ctx),
};
