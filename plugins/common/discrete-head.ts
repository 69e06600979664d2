import type * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Head } from '../../core/contracts/head.js';
import type { SurvivalLabel } from '../../core/contracts/survival-label.js';
import type { SurvivalPrediction } from '../../core/contracts/survival-prediction.js';
import { DiscreteTimeHead } from '../../core/model/discrete-time-head.js';
import { riskFromSurvival } from '../../core/survival/predict.js';

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
export class DiscreteHead extends DiscreteTimeHead implements Head {
  constructor(options: DiscreteHeadOptions, ctx: BuildContext) {
    super(options, ctx);
  }

  loss(out: tf.Tensor2D, labels: readonly SurvivalLabel[]): tf.Scalar {
    return this.nll(out, labels);
  }

  predict(out: tf.Tensor2D): SurvivalPrediction[] {
    const { times, rows } = this.survivalRows(out);
    return rows.map((survival) => ({ risk: riskFromSurvival(survival), times: times.slice(), survival }));
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
