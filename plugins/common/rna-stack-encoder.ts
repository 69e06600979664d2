/**
 * The encoders that read the RNA expression vector as one input (fitted gene order and scaler, core/data/rna-scaler)
 * through a stack of dense blocks and give one token [1, dims.at(-1)]: `mlp` (Linear -> ReLU -> Dropout) and `snn`
 * (Linear -> SELU -> AlphaDropout). They differ only in their `RnaBlock`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { fitRnaScaler, scaleRna, validateRnaScalerState, type RnaScale, type RnaScalerState } from '../../core/data/rna-scaler.js';
import { Dense } from '../../core/model/dense.js';
import type { DenseInit } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface RnaStackOptions {
  dims: number[];
  dropout: number;
  scale: RnaScale;
}

/** What one block of the stack is: its id (in errors), init, activation + dropout, and the labels of its streams. */
export interface RnaBlock {
  id: string;
  init: DenseInit;
  /** Activation and (training) dropout after each dense layer; call inside tf.tidy. */
  after(h: tf.Tensor2D, rate: number, random: RandomSource, mode: Mode): tf.Tensor2D;
  /** Random-stream and layer-name labels (kept per encoder so saved weights and seeds stay as they were). */
  dropoutLabel: string;
  layerLabel: string;
}

export class RnaStackEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private layers: Dense[] = [];
  private fitted: RnaScalerState | null = null;
  private readonly dropoutRandom: RandomSource;

  constructor(private readonly block: RnaBlock, private readonly options: RnaStackOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'rna') {
      throw new Error(`${ctx.path}: the '${block.id}' encoder reads the RNA expression vector, found modality '${this.modality}'. Configure it under encoders.rna.`);
    }
    const dims = options.dims;
    if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${ctx.path}.dims: expected a non-empty array of positive integers, found ${JSON.stringify(dims)}`);
    }
    this.outDim = dims[dims.length - 1]!;
    this.dropoutRandom = ctx.random.fork(block.dropoutLabel);
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
        inDim, outDim, init: this.block.init, random: this.ctx.random.fork(`${this.block.layerLabel}${i}`), explicitTranspose, name: `${this.ctx.path}.${this.block.layerLabel}${i}`,
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
      for (const layer of this.layers) h = this.block.after(layer.apply(h), this.options.dropout, this.dropoutRandom, mode);
      return h;
    });
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }
}
