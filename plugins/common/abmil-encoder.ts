import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { casePatches, patchFeatureWidth, samplePatchRows, type PatchRows } from '../../core/data/case-patches.js';
import { Dense, matMul } from '../../core/model/dense.js';
import { dropout } from '../../core/model/dropout.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface AbmilEncoderOptions {
  dim: number;
  attentionDim: number | null;
  dropout: number;
  maxPatches: number | null;
}

interface AbmilState {
  inDim: number;
}

/**
 * Gated attention MIL (Ilse et al. 2018), over the patches of all slides of a case:
 *   h_i = Dropout(ReLU(W x_i + b)),  a_i = w^T (tanh(V h_i + b_V) * sigmoid(U h_i + b_U)),
 *   alpha = softmax_i(a),  z = sum_i alpha_i h_i  -> one token [1, dim].
 * w has no bias (a constant shift of every a_i leaves the softmax unchanged, so it would never train).
 * Variables, in order: W, b, V, b_V, U, b_U, w. Training samples at most `maxPatches` patches per case.
 */
export class AbmilEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  readonly attentionDim: number;
  private fc: Dense | null = null;
  private attV: Dense | null = null;
  private attU: Dense | null = null;
  private attW: Dense | null = null;
  private fitted: AbmilState | null = null;
  private readonly dropoutRandom: RandomSource;
  private readonly patchRandom: RandomSource;

  constructor(private readonly options: AbmilEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'wsi') {
      throw new Error(`${ctx.path}: the 'abmil' encoder reads slide patch features, found modality '${this.modality}'. Configure it under encoders.wsi.`);
    }
    this.outDim = options.dim;
    this.attentionDim = options.attentionDim ?? Math.max(1, Math.round(options.dim / 2));
    this.dropoutRandom = ctx.random.fork('dropout');
    this.patchRandom = ctx.random.fork('patches');
  }

  get variables(): tf.Variable[] {
    return [this.fc, this.attV, this.attU, this.attW].flatMap((l) => l?.variables ?? []);
  }

  fit(train: readonly Case[]): void {
    this.build({ inDim: patchFeatureWidth(train, this.ctx.path) });
  }

  state(): AbmilState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    const inDim = (state as Partial<AbmilState> | null)?.inDim;
    if (!Number.isInteger(inDim) || inDim! <= 0) {
      throw new Error(`${this.ctx.path}: expected a saved state { inDim: positive integer }, found ${JSON.stringify(state)}`);
    }
    this.build({ inDim: inDim! });
  }

  private build(state: AbmilState): void {
    this.dispose();
    this.fitted = state;
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const layer = (name: string, inDim: number, outDim: number, bias = true) =>
      new Dense({ inDim, outDim, bias, init: 'glorot-normal', random: this.ctx.random.fork(name), explicitTranspose, name: `${this.ctx.path}.${name}` });
    this.fc = layer('fc', state.inDim, this.outDim);
    this.attV = layer('attention.tanh', this.outDim, this.attentionDim);
    this.attU = layer('attention.sigmoid', this.outDim, this.attentionDim);
    this.attW = layer('attention.score', this.attentionDim, 1, false);
  }

  /** The case's (in training possibly sampled) patch rows; null without patches. */
  private patches(c: Case, mode: Mode): PatchRows | null {
    if (!this.fitted || !this.fc) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    const p = casePatches(c, this.fitted.inDim, this.ctx.path);
    const cap = this.options.maxPatches;
    return p && mode === 'train' && cap !== null ? samplePatchRows(p, cap, this.patchRandom) : p;
  }

  /** h [n, dim] and the softmax weights alpha [1, n]; call inside tf.tidy. */
  private attend(p: PatchRows, mode: Mode): { h: tf.Tensor2D; alpha: tf.Tensor2D } {
    const x = tf.tensor2d(p.values, [p.rows, p.dim]);
    const h = dropout(tf.relu(this.fc!.apply(x)), this.options.dropout, this.dropoutRandom, mode);
    const gated = tf.mul(tf.tanh(this.attV!.apply(h)), tf.sigmoid(this.attU!.apply(h))) as tf.Tensor2D;
    const a = tf.reshape(this.attW!.apply(gated), [1, p.rows]) as tf.Tensor2D;
    return { h, alpha: tf.softmax(a) };
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    const p = this.patches(c, mode);
    if (!p) return null;
    return tf.tidy(() => {
      const { h, alpha } = this.attend(p, mode);
      return matMul(alpha, h, this.fc!.explicitTranspose);
    });
  }

  /** The softmax attention over all patches of the case (eval mode), in slide order; null without patches. */
  explain(c: Case): { attention: Float32Array } | null {
    const p = this.patches(c, 'eval');
    if (!p) return null;
    const alpha = tf.tidy(() => this.attend(p, 'eval').alpha);
    const attention = Float32Array.from(alpha.dataSync() as Float32Array);
    alpha.dispose();
    return { attention };
  }

  dispose(): void {
    for (const l of [this.fc, this.attV, this.attU, this.attW]) l?.dispose();
    this.fc = this.attV = this.attU = this.attW = null;
  }
}

export const abmilEncoderSpec: ComponentSpec<'encoder', AbmilEncoderOptions> = {
  id: 'abmil',
  description: 'Gated attention MIL (Ilse 2018): attention-weighted sum of projected patches, one token per case',
  modalities: ['wsi'],
  optionsSchema: {
    type: 'object',
    properties: {
      dim: { type: 'integer', minimum: 1, default: 512, description: 'Width of the projected patches and of the output token' },
      attentionDim: {
        type: ['integer', 'null'], minimum: 1, default: null,
        description: 'Width of the gated attention branches V and U (null: dim / 2, i.e. 256 for dim 512)',
      },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.25, description: 'Dropout rate on the projected patches (training only)' },
      maxPatches: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Random patches per case per step in training (null: all)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new AbmilEncoder(options, ctx),
};
