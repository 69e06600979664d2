import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import { alphaDropout } from '../../core/model/dropout.js';
import { RnaStackEncoder, type RnaBlock, type RnaStackOptions } from './rna-stack-encoder.js';

export type SnnEncoderOptions = RnaStackOptions;

/**
 * Self-normalising network (Klambauer et al. 2017) over the RNA vector: per entry of `dims` a block
 * Linear -> SELU -> AlphaDropout, LeCun-normal kernels and zero biases; one token [1, dims.at(-1)]. The input is the
 * expression vector in the fitted gene order with the fitted per-gene scaler (core/data/rna-scaler).
 */
export const snnBlock: RnaBlock = {
  id: 'snn',
  init: 'lecun-normal',
  after: (h, rate, random, mode) => alphaDropout(tf.selu(h), rate, random, mode),
  dropoutLabel: 'alpha-dropout',
  layerLabel: 'block',
};

export class SnnEncoder extends RnaStackEncoder {
  constructor(options: SnnEncoderOptions, ctx: BuildContext) {
    super(snnBlock, options, ctx);
  }
}

export const snnEncoderSpec: ComponentSpec<'encoder', SnnEncoderOptions> = {
  id: 'snn',
  description: 'Self-normalising network over RNA (Klambauer 2017): Linear-SELU-AlphaDropout blocks, one token',
  modalities: ['rna'],
  optionsSchema: {
    type: 'object',
    properties: {
      dims: {
        type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [256, 256],
        description: 'Width of each SNN block; the last one is the token width',
      },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.25, description: 'AlphaDropout rate after each block (training only)' },
      scale: {
        enum: ['none', 'standard', 'minmax'], default: 'standard',
        description: "Per-gene scaling fitted on the training fold: 'standard' (z-score), 'minmax' (to [-1, 1], SurvPath) or 'none'",
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new SnnEncoder(options, ctx),
};
