/**
 * Gated-attention pooling of a token set (Ilse et al. 2018; MCAT's `Attn_Net_Gated` + `rho`), as one layer:
 *   a_i = w^T (Dropout(tanh(V x_i + b_V)) * Dropout(sigmoid(U x_i + b_U))),  alpha = softmax_i(a),
 *   pooled = sum_i alpha_i x_i,  out = Dropout(ReLU(R pooled + b_R))   (R: the `rho` projection, optional)
 * w has no bias: a constant shift of every a_i leaves the softmax unchanged, so it would never train.
 * Variables, in order: V, b_V, U, b_U, w, then R, b_R when `rho` is on. Init (choice): Glorot-normal, zero biases.
 *
 * @example
 * const pool = new GatedAttentionPool({ inDim: 256, hidden: 256, rho: true, dropout: 0.25, random: rng.fork('pool'),
 *                                       explicitTranspose: false });
 * const { pooled, weights } = pool.apply(tokens, 'train');   // [1, 256], [n]
 */
import * as tf from '@tensorflow/tfjs';
import type { Mode } from '../contracts/encoder.js';
import type { RandomSource } from '../contracts/random-source.js';
import { Dense, matMul } from './dense.js';
import { dropout } from './dropout.js';

export interface GatedAttentionPoolOptions {
  inDim: number;
  /** Width of the tanh and sigmoid branches (MCAT: inDim; ABMIL: inDim / 2). */
  hidden: number;
  /** Follow the pooling with rho = Linear(inDim, inDim) + ReLU + Dropout (MCAT). */
  rho: boolean;
  dropout: number;
  /** Initial weights (forks 'tanh', 'sigmoid', 'score', 'rho') and dropout masks (fork 'dropout'). */
  random: RandomSource;
  explicitTranspose: boolean;
  name?: string;
}

export class GatedAttentionPool {
  readonly name: string;
  readonly inDim: number;
  readonly rate: number;
  readonly tanhBranch: Dense;
  readonly sigmoidBranch: Dense;
  readonly score: Dense;
  readonly rho: Dense | null;
  readonly variables: tf.Variable[];
  private readonly explicitTranspose: boolean;
  private readonly dropoutRandom: RandomSource;

  constructor(opts: GatedAttentionPoolOptions) {
    this.name = opts.name ?? 'gated-attention-pool';
    this.inDim = opts.inDim;
    this.rate = opts.dropout;
    this.explicitTranspose = opts.explicitTranspose;
    const layer = (label: string, inDim: number, outDim: number, bias = true) =>
      new Dense({ inDim, outDim, bias, init: 'glorot-normal', random: opts.random.fork(label), explicitTranspose: opts.explicitTranspose, name: `${this.name}.${label}` });
    this.tanhBranch = layer('tanh', opts.inDim, opts.hidden);
    this.sigmoidBranch = layer('sigmoid', opts.inDim, opts.hidden);
    this.score = layer('score', opts.hidden, 1, false);
    this.rho = opts.rho ? layer('rho', opts.inDim, opts.inDim) : null;
    this.dropoutRandom = opts.random.fork('dropout');
    this.variables = [this.tanhBranch, this.sigmoidBranch, this.score, ...(this.rho ? [this.rho] : [])].flatMap((l) => l.variables);
  }

  /** x [n, inDim] -> pooled [1, inDim] (after rho when on) and the softmax weights [n]. */
  apply(x: tf.Tensor2D, mode: Mode): { pooled: tf.Tensor2D; weights: tf.Tensor1D } {
    if (x.rank !== 2 || x.shape[1] !== this.inDim || x.shape[0] < 1) {
      throw new Error(`${this.name}: expected tokens of shape [n >= 1, ${this.inDim}], found [${x.shape.join(', ')}]`);
    }
    const drop = <T extends tf.Tensor>(t: T) => dropout(t, this.rate, this.dropoutRandom, mode);
    return tf.tidy(() => {
      const gate = tf.mul(drop(tf.tanh(this.tanhBranch.apply(x))), drop(tf.sigmoid(this.sigmoidBranch.apply(x)))) as tf.Tensor2D;
      const alpha = tf.softmax(tf.reshape(this.score.apply(gate), [1, x.shape[0]])) as tf.Tensor2D; // [1, n]
      let pooled = matMul(alpha, x, this.explicitTranspose);
      if (this.rho) pooled = drop(tf.relu(this.rho.apply(pooled)));
      return { pooled, weights: tf.reshape(alpha, [x.shape[0]]) as tf.Tensor1D };
    });
  }

  dispose(): void {
    for (const l of [this.tanhBranch, this.sigmoidBranch, this.score, this.rho]) l?.dispose();
  }
}
