import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { fitRnaScaler, scaleRna, validateRnaScalerState, type RnaScale, type RnaScalerState } from '../../core/data/rna-scaler.js';
import { Dense } from '../../core/model/dense.js';
import { dropout } from '../../core/model/dropout.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface MlpEncoderOptions {
  dims: number[];
  dropout: number;
  scale: RnaScale;
}

/**
 * RNA MLP: the expression vector (fitted gene order and scaler, core/data/rna-scaler) through
 * [Linear -> ReLU -> Dropout] per entry of `dims`, ReLU after the last layer too (HKKH's RNA branch); one token
 * [1, dims.at(-1)]. Layers are Xavier-normal initialised, biases zero.
 */
export class MlpEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private layers: Dense[] = [];
  private fitted: RnaScalerState | null = null;
  private readonly dropoutRandom: RandomSource;

  constructor(private readonly options: MlpEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'rna') {
      throw new Error(`${ctx.path}: the 'mlp' encoder reads the RNA expression vector, found modality '${this.modality}'. Configure it under encoders.rna.`);
    }
    const dims = options.dims;
    if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${ctx.path}.dims: expected a non-empty array of positive integers, found ${JSON.stringify(dims)}`);
    }
    this.outDim = dims[dims.length - 1]!;
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  fit(train: readonly Case[]): void {
    this.build(fitRnaScaler(train, this.options.scale, this.ctx.path));
  }

  state(): RnaScalerState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    const s = validateRnaScalerState(state, this.ctx.path);
    if (s.scale !== this.options.scale) {
      throw new Error(`${this.ctx.path}: the saved RNA scaler is '${s.scale}' but the options say scale '${this.options.scale}'; use the config the model was trained with`);
    }
    this.build(s);
  }

  private build(state: RnaScalerState): void {
    this.dispose();
    this.fitted = state;
    const explicitTranspose = explicitTransposeIn(this.ctx);
    let inDim = state.geneOrder.length;
    this.layers = this.options.dims.map((outDim, i) => {
      const layer = new Dense({
        inDim, outDim, init: 'glorot-normal', random: this.ctx.random.fork(`layer${i}`), explicitTranspose, name: `${this.ctx.path}.layer${i}`,
      });
      inDim = outDim;
      return layer;
    });
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    if (!this.fitted) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    if (!c.rna) return null;
    const x = scaleRna(c.rna, this.fitted, `${this.ctx.path}: case ${c.id}`);
    return tf.tidy(() => {
      let h = tf.tensor2d(x, [1, x.length]);
      for (const layer of this.layers) h = dropout(tf.relu(layer.apply(h)), this.options.dropout, this.dropoutRandom, mode);
      return h;
    });
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
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
