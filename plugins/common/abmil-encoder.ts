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
  /** Patches per chunk in eval mode: larger bags are pooled chunk by chunk (online softmax), so memory stays flat. */
  evalChunk: number;
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
 *
 * Inference over very large bags (100k patches) streams: in eval mode a bag of more than `evalChunk` patches goes
 * through the layers `evalChunk` rows at a time, and the softmax pooling is accumulated online (running maximum m of
 * the scores, running sum s of exp(a_i - m) and running weighted sum of h_i, both rescaled by exp(m_old - m_new) when
 * the maximum grows), which is the same z up to rounding, with memory for one chunk instead of the whole bag.
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

  /** Rows [start, end) of the bag, projected (eval mode): h [rows, dim] and the scores a as a JS array. */
  private chunkScores(p: PatchRows, start: number, end: number): { h: tf.Tensor2D; scores: Float32Array } {
    const part: PatchRows = { values: p.values.subarray(start * p.dim, end * p.dim), rows: end - start, dim: p.dim };
    const { h, a } = tf.tidy(() => {
      const x = tf.tensor2d(part.values, [part.rows, part.dim]);
      const hh = tf.relu(this.fc!.apply(x));
      const gated = tf.mul(tf.tanh(this.attV!.apply(hh)), tf.sigmoid(this.attU!.apply(hh))) as tf.Tensor2D;
      return { h: hh, a: this.attW!.apply(gated) };
    });
    const scores = Float32Array.from(a.dataSync() as Float32Array);
    a.dispose();
    return { h, scores };
  }

  /** Eval-mode pooling of a bag larger than evalChunk, one chunk at a time (see the class comment). */
  private encodeStreaming(p: PatchRows): tf.Tensor2D {
    const chunk = this.options.evalChunk;
    let m = -Infinity;
    let s = 0;
    let acc: tf.Tensor2D | null = null;
    for (let start = 0; start < p.rows; start += chunk) {
      const end = Math.min(p.rows, start + chunk);
      const { h, scores } = this.chunkScores(p, start, end);
      let chunkMax = -Infinity;
      for (const v of scores) if (v > chunkMax) chunkMax = v;
      const next = Math.max(m, chunkMax);
      const rescale = Number.isFinite(m) ? Math.exp(m - next) : 0;
      const w = new Float32Array(scores.length);
      let sum = 0;
      for (let i = 0; i < scores.length; i++) {
        w[i] = Math.exp(scores[i]! - next);
        sum += w[i]!;
      }
      const previous: tf.Tensor2D | null = acc;
      acc = tf.tidy(() => {
        const part = matMul(tf.tensor2d(w, [1, w.length]), h, this.fc!.explicitTranspose);
        return previous ? (tf.add(tf.mul(previous, rescale), part) as tf.Tensor2D) : part;
      });
      previous?.dispose();
      h.dispose();
      s = s * rescale + sum;
      m = next;
    }
    const z = tf.div(acc!, s) as tf.Tensor2D;
    acc!.dispose();
    return z;
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    const p = this.patches(c, mode);
    if (!p) return null;
    if (mode === 'eval' && p.rows > this.options.evalChunk) return this.encodeStreaming(p);
    return tf.tidy(() => {
      const { h, alpha } = this.attend(p, mode);
      return matMul(alpha, h, this.fc!.explicitTranspose);
    });
  }

  /** The softmax attention over all patches of the case (eval mode), in slide order; null without patches. */
  explain(c: Case): { attention: Float32Array } | null {
    const p = this.patches(c, 'eval');
    if (!p) return null;
    if (p.rows > this.options.evalChunk) {
      // Scores chunk by chunk, then the softmax over all of them here.
      const scores = new Float32Array(p.rows);
      for (let start = 0; start < p.rows; start += this.options.evalChunk) {
        const end = Math.min(p.rows, start + this.options.evalChunk);
        const part = this.chunkScores(p, start, end);
        part.h.dispose();
        scores.set(part.scores, start);
      }
      let max = -Infinity;
      for (const v of scores) if (v > max) max = v;
      let sum = 0;
      for (const v of scores) sum += Math.exp(v - max);
      return { attention: scores.map((v) => Math.exp(v - max) / sum) };
    }
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
      evalChunk: {
        type: 'integer', minimum: 1, default: 8192,
        description: 'Inference: bags with more patches are pooled this many at a time (online softmax, same result), so a 100k-patch slide needs memory for one chunk',
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new AbmilEncoder(options, ctx),
};
