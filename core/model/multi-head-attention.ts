/**
 * Multi-head scaled dot-product attention and the Transformer encoder layer, as PyTorch's nn.MultiheadAttention and
 * nn.TransformerEncoderLayer (defaults: post-norm, ReLU feed-forward), for token sets of one case (no batch axis).
 *
 * MultiHeadAttention(query [n_q, queryDim], keyValue [n_k, keyDim]):
 *   q = query W_q + b_q, k = keyValue W_k, v = keyValue W_v + b_v (each -> dim); per head h (width dim/heads):
 *   w_h = softmax(q_h k_h^T / sqrt(dim/heads)), o_h = dropout(w_h) v_h; out = concat_h(o_h) W_o + b_o.
 *   `weights` [n_q, n_k] is the mean of w_h over heads before dropout (PyTorch's average_attn_weights).
 *   Heads are column slices and 2-D matmuls (explicit transposes on wasm: no matmul with a transposed operand, which
 *   is slow there, in the value or the gradients), and only ops with gradients on every backend.
 *
 * TransformerEncoderLayer(x): x = LayerNorm(x + dropout(selfAttention(x))); x = LayerNorm(x + dropout(W2 dropout(
 *   ReLU(W1 x)))). Dropout applies to the attention weights, after the ReLU and on both residual branches (PyTorch).
 *
 * k has no bias: PyTorch's b_k adds q.b_k to a whole row of scores, which the softmax ignores, so its gradient is zero
 * and it never trains (dropping it changes no output). Initialisation (choice, as PyTorch's MultiheadAttention):
 * Glorot-uniform projections, zero biases.
 *
 * @example
 * const layer = new TransformerEncoderLayer({ dim: 256, heads: 8, feedForward: 512, dropout: 0.25,
 *                                              random: rng.fork('layer0'), explicitTranspose: false });
 * const y = layer.apply(tokens, 'train');   // [n, 256]
 */
import * as tf from '@tensorflow/tfjs';
import type { Mode } from '../contracts/encoder.js';
import type { RandomSource } from '../contracts/random-source.js';
import { Dense, matMul } from './dense.js';
import { dropout } from './dropout.js';
import { LayerNorm } from './layer-norm.js';

/**
 * x @ y^T. With `explicitTranspose` (wasm) an explicit transpose feeds the explicit-gradient matMul of core/model/dense,
 * so neither the value nor the gradients use the slow transposed-operand matmul; elsewhere tf.matMul(x, y, false, true).
 */
export function matMulT(x: tf.Tensor2D, y: tf.Tensor2D, explicitTranspose: boolean): tf.Tensor2D {
  return explicitTranspose ? matMul(x, tf.transpose(y), true) : tf.matMul(x, y, false, true);
}

export interface MultiHeadAttentionOptions {
  /** Model width (of q, k, v and the output); divisible by `heads`. */
  dim: number;
  heads: number;
  /** Width of the query tokens. Default dim. */
  queryDim?: number;
  /** Width of the key/value tokens. Default dim. */
  keyDim?: number;
  /** Dropout on the attention weights. Default 0. */
  dropout?: number;
  /** Initial weights (forks 'q', 'k', 'v', 'out') and dropout masks (fork 'dropout'). */
  random: RandomSource;
  explicitTranspose: boolean;
  name?: string;
}

export interface AttentionOutput {
  /** [n_q, dim] */
  out: tf.Tensor2D;
  /** [n_q, n_k]: softmax weights averaged over heads (rows sum to 1), before dropout. */
  weights: tf.Tensor2D;
}

export class MultiHeadAttention {
  readonly name: string;
  readonly dim: number;
  readonly heads: number;
  readonly rate: number;
  readonly q: Dense;
  readonly k: Dense;
  readonly v: Dense;
  readonly out: Dense;
  /** q kernel, bias; k kernel; v kernel, bias; out kernel, bias. */
  readonly variables: tf.Variable[];
  private readonly explicitTranspose: boolean;
  private readonly dropoutRandom: RandomSource;

  constructor(opts: MultiHeadAttentionOptions) {
    this.name = opts.name ?? 'attention';
    if (!Number.isInteger(opts.heads) || opts.heads <= 0 || !Number.isInteger(opts.dim) || opts.dim % opts.heads !== 0) {
      throw new Error(`${this.name}: dim must be a positive multiple of heads, found dim ${opts.dim} and heads ${opts.heads}`);
    }
    this.dim = opts.dim;
    this.heads = opts.heads;
    this.rate = opts.dropout ?? 0;
    this.explicitTranspose = opts.explicitTranspose;
    const make = (label: string, inDim: number, bias = true) =>
      new Dense({ inDim, outDim: opts.dim, bias, init: 'glorot-uniform', random: opts.random.fork(label), explicitTranspose: opts.explicitTranspose, name: `${this.name}.${label}` });
    this.q = make('q', opts.queryDim ?? opts.dim);
    this.k = make('k', opts.keyDim ?? opts.dim, false);
    this.v = make('v', opts.keyDim ?? opts.dim);
    this.out = make('out', opts.dim);
    this.dropoutRandom = opts.random.fork('dropout');
    this.variables = [...this.q.variables, ...this.k.variables, ...this.v.variables, ...this.out.variables];
  }

  apply(query: tf.Tensor2D, keyValue: tf.Tensor2D, mode: Mode): AttentionOutput {
    const ex = this.explicitTranspose;
    return tf.tidy(() => {
      const q = this.q.apply(query);
      const k = this.k.apply(keyValue);
      const v = this.v.apply(keyValue);
      const [nq, nk] = [query.shape[0], keyValue.shape[0]];
      const dh = this.dim / this.heads;
      const outs: tf.Tensor2D[] = [];
      let sum: tf.Tensor2D | null = null;
      for (let h = 0; h < this.heads; h++) {
        const qh = tf.mul(tf.slice(q, [0, h * dh], [nq, dh]), 1 / Math.sqrt(dh)) as tf.Tensor2D;
        const kh = tf.slice(k, [0, h * dh], [nk, dh]) as tf.Tensor2D;
        const vh = tf.slice(v, [0, h * dh], [nk, dh]) as tf.Tensor2D;
        const w = tf.softmax(matMulT(qh, kh, ex)) as tf.Tensor2D;
        sum = sum ? (tf.add(sum, w) as tf.Tensor2D) : w;
        outs.push(matMul(dropout(w, this.rate, this.dropoutRandom, mode), vh, ex));
      }
      const merged = outs.length === 1 ? outs[0]! : (tf.concat(outs, 1) as tf.Tensor2D);
      return { out: this.out.apply(merged), weights: this.heads === 1 ? sum! : (tf.div(sum!, this.heads) as tf.Tensor2D) };
    });
  }

  dispose(): void {
    for (const d of [this.q, this.k, this.v, this.out]) d.dispose();
  }
}

export interface TransformerEncoderLayerOptions {
  dim: number;
  heads: number;
  /** Hidden width of the feed-forward block (PyTorch dim_feedforward). */
  feedForward: number;
  /** Dropout on the attention weights, after the ReLU and on both residual branches. */
  dropout: number;
  /** Initial weights (forks 'attention', 'linear1', 'linear2') and dropout masks (fork 'dropout'). */
  random: RandomSource;
  explicitTranspose: boolean;
  name?: string;
}

/** nn.TransformerEncoderLayer(d_model=dim, nhead=heads, dim_feedforward, dropout, activation='relu'), post-norm. */
export class TransformerEncoderLayer {
  readonly name: string;
  readonly rate: number;
  readonly attention: MultiHeadAttention;
  readonly linear1: Dense;
  readonly linear2: Dense;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  /** attention, linear1, linear2, norm1, norm2. */
  readonly variables: tf.Variable[];
  private readonly dropoutRandom: RandomSource;

  constructor(opts: TransformerEncoderLayerOptions) {
    this.name = opts.name ?? 'transformer-layer';
    this.rate = opts.dropout;
    const ex = opts.explicitTranspose;
    this.attention = new MultiHeadAttention({
      dim: opts.dim, heads: opts.heads, dropout: opts.dropout, random: opts.random.fork('attention'), explicitTranspose: ex, name: `${this.name}.attention`,
    });
    this.linear1 = new Dense({ inDim: opts.dim, outDim: opts.feedForward, init: 'glorot-uniform', random: opts.random.fork('linear1'), explicitTranspose: ex, name: `${this.name}.linear1` });
    this.linear2 = new Dense({ inDim: opts.feedForward, outDim: opts.dim, init: 'glorot-uniform', random: opts.random.fork('linear2'), explicitTranspose: ex, name: `${this.name}.linear2` });
    this.norm1 = new LayerNorm({ dim: opts.dim, name: `${this.name}.norm1` });
    this.norm2 = new LayerNorm({ dim: opts.dim, name: `${this.name}.norm2` });
    this.dropoutRandom = opts.random.fork('dropout');
    this.variables = [...this.attention.variables, ...this.linear1.variables, ...this.linear2.variables, ...this.norm1.variables, ...this.norm2.variables];
  }

  apply(x: tf.Tensor2D, mode: Mode): tf.Tensor2D {
    const drop = (t: tf.Tensor2D) => dropout(t, this.rate, this.dropoutRandom, mode);
    return tf.tidy(() => {
      const h = this.norm1.apply(tf.add(x, drop(this.attention.apply(x, x, mode).out)) as tf.Tensor2D);
      const ff = this.linear2.apply(drop(tf.relu(this.linear1.apply(h))));
      return this.norm2.apply(tf.add(h, drop(ff)) as tf.Tensor2D);
    });
  }

  dispose(): void {
    for (const m of [this.attention, this.linear1, this.linear2, this.norm1, this.norm2]) m.dispose();
  }
}
