import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import { dropout } from '../../core/model/dropout.js';
import { RnaStackEncoder, type RnaBlock, type RnaStackOptions } from './rna-stack-encoder.js';

export type MlpEncoderOptions = RnaStackOptions;

/**
 * RNA MLP: the expression vector (fitted gene order and scaler, core/data/rna-scaler) through
 * [Linear -> ReLU -> Dropout] per entry of `dims`, ReLU after the last layer too (HKKH's RNA branch); one token
 * [1, dims.at(-1)]. Layers are Xavier-normal initialised, biases zero.
 */
export const mlpBlock: RnaBlock = {
  id: 'mlp',
  init: 'glorot-normal',
  after: (h, rate, random, mode) => dropout(tf.relu(h), rate, random, mode),
  dropoutLabel: 'dropout',
  layerLabel: 'layer',
};

export class MlpEncoder extends RnaStackEncoder {
  constructor(options: MlpEncoderOptions, ctx: BuildContext) {
    super(mlpBlock, options, ctx);
  }
}

export const mlpEncoderSpec: ComponentSpec<'encoder', MlpEncoderOptions> = {
  id: 'mlp',
  description: 'RNA MLP: scaled expression vector through Linear-ReLU-Dropout layers, one token',
  modalities: ['rna'],
  optionsSchema: {
    type: 'object',
    properties: {
      dims: {
        type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [256, 256],
        description: 'Width of each hidden layer; the last one is the token width (HKKH: [2048, 512, 128])',
      },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.25, description: 'Dropout rate after each layer (training only)' },
      scale: {
        enum: ['none', 'standard', 'minmax'], default: 'standard',
        description: "Per-gene scaling fitted on the training fold: 'standard' (z-score), 'minmax' (to [-1, 1], SurvPath) or 'none'",
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new MlpEncoder(options, ctx),
};
