import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Head } from '../../core/contracts/head.js';
import type { SurvivalLabel } from '../../core/contracts/survival-label.js';
import type { SurvivalPrediction } from '../../core/contracts/survival-prediction.js';
import { coxPartialLikelihoodLoss, type CoxTies } from '../../core/survival/cox-loss.js';
import { breslowBaseline, coxSurvival, cumHazardAt, type CoxBaseline } from '../../core/survival/predict.js';
import { Dense } from '../../core/model/dense.js';
import { denseStack } from '../../core/model/dense-stack.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface CoxHeadOptions {
  hidden: number | null;
  ties: CoxTies;
  gridSize: number;
}

/** What a Cox head saves: the baseline on its survival grid, or null before `fitBaseline`. */
export interface CoxHeadState {
  baseline: CoxBaseline | null;
}

/**
 * Cox proportional-hazards head (HKKH, CHIMERA baselines): [b, inDim] -> risk [b, 1] (higher = earlier event), through
 * ReLU(Linear(inDim -> hidden)) first when `hidden` is set. The risk layer has no bias: the partial likelihood is
 * unchanged by a constant shift, so a bias would never train. Loss: the negative Cox partial log-likelihood per
 * event (core/survival/cox-loss) with `ties`; a batch of one case or without event gives 0 and a warning (the first
 * through logger.warn, later ones through logger.debug with a count).
 *
 * Survival curves: after training, the trainer calls `fitBaseline(risks, labels)` with the model's risks of the
 * training-fold cases. It fits the Breslow (or Efron, with ties 'efron') cumulative baseline hazard and keeps it at
 * up to `gridSize` of its distinct event times (quantiles of them when there are more), which `state()` persists.
 * From then on predict adds times (that grid) and survival S(t | r) = exp(-H0(t) e^r); before, it gives risk only.
 * Variables, in order: [hidden kernel, hidden bias,] risk kernel.
 */
export class CoxHead implements Head {
  private layers: Dense[] = [];
  private baseline: CoxBaseline | null = null;
  private degenerateBatches = 0;

  constructor(private readonly options: CoxHeadOptions, private readonly ctx: BuildContext) {}

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  build(inDim: number): void {
    this.dispose();
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const layer = (name: string, i: number, o: number, bias: boolean) =>
      new Dense({ inDim: i, outDim: o, bias, init: 'glorot-normal', random: this.ctx.random.fork(name), explicitTranspose, name: `${this.ctx.path}.${name}` });
    const { hidden } = this.options;
    this.layers = hidden === null ? [layer('risk', inDim, 1, false)] : [layer('hidden', inDim, hidden, true), layer('risk', hidden, 1, false)];
  }

  forward(z: tf.Tensor2D): tf.Tensor2D {
    return denseStack(this.layers, z, this.ctx.path);
  }

  loss(out: tf.Tensor2D, labels: readonly SurvivalLabel[]): tf.Scalar {
    if (out.rank !== 2 || out.shape[1] !== 1 || out.shape[0] !== labels.length) {
      throw new Error(`${this.ctx.path}: expected risks of shape [${labels.length}, 1] (one per label), found [${out.shape.join(', ')}]`);
    }
    return coxPartialLikelihoodLoss(out, labels.map((l) => l.time), labels.map((l) => l.event), {
      ties: this.options.ties,
      onWarning: (message) => {
        this.degenerateBatches++;
        if (this.degenerateBatches === 1) this.ctx.logger.warn(`${this.ctx.path}: ${message} (further such batches are logged at debug level)`);
        else this.ctx.logger.debug(`${this.ctx.path}: degenerate Cox batch #${this.degenerateBatches}: ${message}`);
      },
    });
  }

  /**
   * Fit the baseline hazard from the training-fold risks (this head's outputs after training) and labels; call it once
   * after training, before saving. A fold without events keeps no baseline (a warning): predict then gives risk only.
   */
  fitBaseline(risks: ArrayLike<number>, labels: readonly SurvivalLabel[]): void {
    if (risks.length !== labels.length) {
      throw new Error(`${this.ctx.path}: fitBaseline needs one risk per label, found ${risks.length} risks and ${labels.length} labels`);
    }
    if (!labels.some((l) => l.event)) {
      this.ctx.logger.warn(`${this.ctx.path}: no event among the ${labels.length} training cases, so no baseline hazard; predictions carry a risk but no survival curve`);
      this.baseline = null;
      return;
    }
    const full = breslowBaseline(labels.map((l) => l.time), labels.map((l) => l.event), risks, { ties: this.options.ties });
    const grid = eventTimeGrid(labels, this.options.gridSize);
    this.baseline = { ties: full.ties, time: grid, cumHazard: grid.map((t) => cumHazardAt(full, t)) };
  }

  state(): CoxHeadState {
    return { baseline: this.baseline };
  }

  restore(state: unknown): void {
    const b = (state as Partial<CoxHeadState> | null)?.baseline;
    if (b === null) {
      this.baseline = null;
      return;
    }
    const where = `${this.ctx.path}: saved Cox baseline`;
    if (!b || !Array.isArray(b.time) || !Array.isArray(b.cumHazard) || b.time.length !== b.cumHazard.length || b.time.length === 0) {
      throw new Error(`${where}: expected { baseline: { ties, time: number[], cumHazard: number[] } | null } with equal non-empty arrays, found ${JSON.stringify(state)?.slice(0, 200)}`);
    }
    for (let k = 0; k < b.time.length; k++) {
      const t = b.time[k]!;
      const h = b.cumHazard[k]!;
      if (!(Number.isFinite(t) && t > 0 && (k === 0 || t > b.time[k - 1]!))) throw new Error(`${where}: time must be finite, > 0 and strictly increasing; time[${k}] = ${t}`);
      if (!(Number.isFinite(h) && h >= 0 && (k === 0 || h >= b.cumHazard[k - 1]!))) throw new Error(`${where}: cumHazard must be finite, >= 0 and non-decreasing; cumHazard[${k}] = ${h}`);
    }
    this.baseline = { ties: b.ties === 'efron' ? 'efron' : 'breslow', time: [...b.time], cumHazard: [...b.cumHazard] };
  }

  predict(out: tf.Tensor2D): SurvivalPrediction[] {
    if (out.rank !== 2 || out.shape[1] !== 1) throw new Error(`${this.ctx.path}: expected risks of shape [b, 1], found [${out.shape.join(', ')}]`);
    const risks = out.dataSync();
    const base = this.baseline;
    return Array.from(risks, (risk, i) => {
      if (!Number.isFinite(risk)) throw new Error(`${this.ctx.path}: row ${i} has a non-finite risk (${risk}); the model diverged or its input has NaN`);
      if (!base) return { risk };
      return { risk, times: Float64Array.from(base.time), survival: coxSurvival(base, risk, base.time) };
    });
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }
}

/** The distinct event times, increasing, or `size` of them at evenly spaced ranks (first and last included). */
export function eventTimeGrid(labels: readonly SurvivalLabel[], size: number): number[] {
  const events = [...new Set(labels.filter((l) => l.event).map((l) => l.time))].sort((a, b) => a - b);
  if (events.length <= size) return events;
  if (size === 1) return [events[events.length - 1]!];
  const picked = new Set<number>();
  for (let k = 0; k < size; k++) picked.add(Math.round((k * (events.length - 1)) / (size - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => events[i]!);
}

export const coxHeadSpec: ComponentSpec<'head', CoxHeadOptions> = {
  id: 'cox',
  description: 'Cox proportional-hazards head: one risk per case, partial-likelihood loss, Breslow baseline curves',
  optionsSchema: {
    type: 'object',
    properties: {
      hidden: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Width of a hidden Linear + ReLU before the risk (null: none)' },
      ties: { enum: ['breslow', 'efron'], default: 'breslow', description: 'Handling of tied event times in the loss and the baseline hazard' },
      gridSize: {
        type: 'integer', minimum: 1, default: 50,
        description: 'Most time points of predicted survival curves (event-time quantiles of the training fold)',
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new CoxHead(options, ctx),
};
