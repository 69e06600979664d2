/**
 * The mechanics every discrete-time survival head shares (SurvPath, MCAT, PORPOISE, the LLM-distillation student):
 * [b, inDim] -> `bins` hazard logits through ReLU(Linear(inDim -> hidden)) first when `hidden` is set; `fit(train)`
 * cuts the bins at the K-quantiles of the training fold's event times (core/survival/time-bins) and `state()` /
 * `restore()` carry them; the SurvPath NLL with `alpha`; S_k = prod_{j<=k} (1 - sigmoid(h_j)) at the upper bin edges.
 * Heads extend it and add their loss terms and prediction.
 * Variables, in order: [hidden kernel, hidden bias,] kernel, bias.
 *
 * @example
 * class MyHead extends DiscreteTimeHead implements Head {
 *   loss(out, labels) { return this.nll(out, labels); }
 *   predict(out) { const { times, rows } = this.survivalRows(out); ... }
 * }
 */
import type * as tf from '@tensorflow/tfjs';
import type { Case } from '../contracts/case.js';
import type { BuildContext } from '../contracts/component.js';
import type { SurvivalLabel } from '../contracts/survival-label.js';
import { discreteNll } from '../survival/discrete-nll.js';
import { survivalFromHazards } from '../survival/predict.js';
import { binsOf, timeBinsFromEvents, validateTimeBins, type TimeBins } from '../survival/time-bins.js';
import { Dense } from './dense.js';
import { denseStack } from './dense-stack.js';
import { explicitTransposeIn } from './explicit-transpose.js';

export interface DiscreteTimeOptions {
  bins: number;
  hidden: number | null;
  alpha: number;
}

export class DiscreteTimeHead {
  private layers: Dense[] = [];
  private bins: TimeBins | null = null;

  constructor(private readonly shape: DiscreteTimeOptions, protected readonly ctx: BuildContext) {
    if (!Number.isInteger(shape.bins) || shape.bins < 1) throw new Error(`${ctx.path}.bins: expected an integer >= 1, found ${shape.bins}`);
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  build(inDim: number): void {
    this.dispose();
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const { hidden, bins } = this.shape;
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
      this.bins = timeBinsFromEvents(labels.map((l) => l.time), labels.map((l) => l.event), { bins: this.shape.bins });
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
    if (bins.edges.length !== this.shape.bins + 1) {
      throw new Error(`${this.ctx.path}: the saved time bins have ${bins.edges.length - 1} bins but the options say bins: ${this.shape.bins}`);
    }
    this.bins = bins;
  }

  forward(z: tf.Tensor2D): tf.Tensor2D {
    return denseStack(this.layers, z, this.ctx.path);
  }

  /** The bin edges, after checking that `out` is [rows, bins] and that the bins were fitted. */
  protected edgesFor(out: tf.Tensor2D, rows?: number): number[] {
    if (!this.bins) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before loss/predict: the time bins are cut from the training fold`);
    if (out.rank !== 2 || out.shape[1] !== this.shape.bins || (rows !== undefined && out.shape[0] !== rows)) {
      throw new Error(`${this.ctx.path}: expected logits of shape [${rows ?? 'b'}, ${this.shape.bins}], found [${out.shape.join(', ')}]`);
    }
    return this.bins.edges;
  }

  /** The SurvPath NLL of a batch (mean over rows). */
  protected nll(out: tf.Tensor2D, labels: readonly SurvivalLabel[]): tf.Scalar {
    const edges = this.edgesFor(out, labels.length);
    return discreteNll(out, binsOf(edges, labels.map((l) => l.time)), labels.map((l) => !l.event), { alpha: this.shape.alpha });
  }

  /** S at the upper bin edges for each row of `out` (plain arrays). */
  protected survivalRows(out: tf.Tensor2D): { times: Float64Array; rows: Float64Array[] } {
    const edges = this.edgesFor(out);
    const [b, k] = out.shape;
    const logits = out.dataSync();
    const rows: Float64Array[] = [];
    for (let i = 0; i < b; i++) rows.push(survivalFromHazards(Array.from(logits.subarray(i * k, (i + 1) * k), (h) => 1 / (1 + Math.exp(-h)))));
    return { times: Float64Array.from(edges.slice(1)), rows };
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }
}
