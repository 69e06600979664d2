import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { fitRnaScaler, scaleRna, validateRnaScalerState, type RnaScale, type RnaScalerState } from '../../core/data/rna-scaler.js';
import { Dense } from '../../core/model/dense.js';
import { alphaDropout } from '../../core/model/dropout.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface SnnEncoderOptions {
  dims: number[];
  dropout: number;
  scale: RnaScale;
}

/**
 * Self-normalising network (Klambauer et al. 2017) over the RNA vector: per entry of `dims` a block
 * Linear -> SELU -> AlphaDropout, LeCun-normal kernels and zero biases; one token [1, dims.at(-1)]. The input is the
 * expression vector in the fitted gene order with the fitted per-gene scaler (core/data/rna-scaler).
 */
export class SnnEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private layers: Dense[] = [];
  private fitted: RnaScalerState | null = null;
  private readonly dropoutRandom: RandomSource;

  constructor(private readonly options: SnnEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'rna') {
      throw new Error(`${ctx.path}: the 'snn' encoder reads the RNA expression vector, found modality '${this.modality}'. Configure it under encoders.rna.`);
    }
    const dims = options.dims;
    if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${ctx.path}.dims: expected a non-empty array of positive integers, found ${JSON.stringify(dims)}`);
    }
    this.outDim = dims[dims.length - 1]!;
    this.dropoutRandom = ctx.random.fork('alpha-dropout');
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
        inDim, outDim, init: 'lecun-normal', random: this.ctx.random.fork(`block${i}`), explicitTranspose, name: `${this.ctx.path}.block${i}`,
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
      for (const layer of this.layers) h = alphaDropout(tf.selu(layer.apply(h)), this.options.dropout, this.dropoutRandom, mode);
      return h;
    });
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
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
