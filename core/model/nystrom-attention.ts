/**
 * Nystrom self-attention (Xiong et al. 2021) as lucidrains' `nystrom_attention.NystromAttention`, the module TransMIL
 * (Shao et al. 2021) uses with dim_head = dim / heads, num_landmarks = dim / 2, pinv_iterations = 6, residual = True
 * (residual_conv_kernel 33) and dropout 0.1:
 *
 *   x [n, dim] is zero-padded at the FRONT to a multiple of m landmarks; q, k, v = x W_qkv (no bias), per head;
 *   q *= dim_head^-0.5; landmarks q~, k~ = means of l = ceil(n/m) consecutive rows (padding rows included);
 *   out = softmax(q k~^T) pinv(softmax(q~ k~^T)) (softmax(q~ k^T) v), where pinv is the Moore-Penrose iteration
 *   (z0 = x^T / (max row-sum |x| * max col-sum |x|), max over all heads; z <- z (13I - xz (15I - xz (7I - xz))) / 4);
 *   out += depthwise 33x1 convolution of v along the sequence, one filter per head (the "residual" of values);
 *   heads merged, Linear(inner, dim) + dropout; the last n rows are kept (the padding rows dropped).
 *
 * `attention: 'exact'` replaces the approximation by softmax(q k^T) v over the n real rows (no padding); the value
 * residual, projections and variables are the same, so a model can switch between the two. 'auto' is exact when
 * n <= m (there the official code pads to m zero rows, whose keys take part of every softmax), Nystrom otherwise.
 *
 * Variables, in order: qkv kernel [dim, 3 * inner], out kernel [inner, dim], out bias [dim], residual filters
 * [33, heads]. Init (choice): the linears Glorot-normal with zero bias (PyTorch: kaiming-uniform), the filters
 * U(+-1/sqrt(33)) as PyTorch's Conv2d.
 *
 * Memory and speed on wasm (where a 4096-patch bag has 4352 padded rows): heads are looped with 2-D matmuls (a
 * rank-3 matmul is ~5x slower there); q, k, v are split by one transpose + unstack (per-head slices would each get a
 * gradient padded to [n, 3 * dim]); the [n, m] softmax matrices are recomputed in the backward pass
 * (core/model/softmax-attend) and the pinv iterations have a hand-written backward (core/model/iterative-pinv).
 * Together these took a TransMIL training step from over the 4 GB wasm heap (a crash) to 2.3 GB.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mode } from '../contracts/encoder.js';
import type { RandomSource } from '../contracts/random-source.js';
import { Dense, matMul } from './dense.js';
import { depthwiseConv2dSame } from './depthwise-conv.js';
import { dropout } from './dropout.js';
import { moorePenroseIterPinv } from './iterative-pinv.js';
import { softmaxAttend } from './softmax-attend.js';

export type AttentionKind = 'auto' | 'nystrom' | 'exact';

export interface NystromAttentionOptions {
  dim: number;
  heads: number;
  /** Number of landmarks m. */
  landmarks: number;
  pinvIterations: number;
  attention: AttentionKind;
  /** Dropout after the output projection. */
  dropout: number;
  /** Length of the value-residual filter along the sequence (odd). Default 33. */
  residualKernel?: number;
  /** Initial weights come from forks of this stream. */
  random: RandomSource;
  explicitTranspose: boolean;
  name: string;
}

function uniformFilter(n: number, bound: number, random: RandomSource): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * random.uniform() - 1) * bound);
}

export class NystromAttention {
  readonly name: string;
  readonly dim: number;
  readonly heads: number;
  readonly dimHead: number;
  readonly landmarks: number;
  readonly variables: tf.Variable[];
  private readonly qkv: Dense;
  private readonly out: Dense;
  /** [residualKernel, heads]: one filter per head along the sequence, no bias (PyTorch init U(-1/sqrt(k), 1/sqrt(k))). */
  private readonly residual: tf.Variable;
  private readonly residualKernel: number;

  constructor(private readonly opts: NystromAttentionOptions) {
    this.name = opts.name;
    const { dim, heads } = opts;
    if (!Number.isInteger(heads) || heads <= 0 || dim % heads !== 0) {
      throw new Error(`${this.name}: dim ${dim} must be a multiple of heads ${heads}`);
    }
    if (!Number.isInteger(opts.landmarks) || opts.landmarks <= 0) throw new Error(`${this.name}: landmarks must be a positive integer, found ${opts.landmarks}`);
    this.dim = dim;
    this.heads = heads;
    this.dimHead = dim / heads;
    this.landmarks = opts.landmarks;
    this.residualKernel = opts.residualKernel ?? 33;
    if (this.residualKernel % 2 !== 1) throw new Error(`${this.name}: residualKernel must be odd, found ${this.residualKernel}`);
    const common = { explicitTranspose: opts.explicitTranspose, init: 'glorot-normal' as const };
    this.qkv = new Dense({ ...common, inDim: dim, outDim: 3 * dim, bias: false, random: opts.random.fork('qkv'), name: `${this.name}.qkv` });
    this.out = new Dense({ ...common, inDim: dim, outDim: dim, random: opts.random.fork('out'), name: `${this.name}.out` });
    const k = this.residualKernel;
    const filters = uniformFilter(k * heads, 1 / Math.sqrt(k), opts.random.fork('residual'));
    this.residual = tf.tidy(() => tf.variable(tf.tensor2d(filters, [k, heads]), true));
    this.variables = [...this.qkv.variables, ...this.out.variables, this.residual];
  }

  /** x [n, dim] -> [n, dim]. `random` draws the dropout mask in 'train' mode. */
  apply(x: tf.Tensor2D, mode: Mode, random: RandomSource): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.dim) throw new Error(`${this.name}: expected [n, ${this.dim}], found [${x.shape.join(', ')}]`);
    const n = x.shape[0];
    const exact = this.opts.attention === 'exact' || (this.opts.attention === 'auto' && n <= this.landmarks);
    return tf.tidy(() => {
      const { heads, dimHead, dim } = this;
      const m = this.landmarks;
      // Heads are looped over with 2-D matmuls: on wasm a batched (rank-3) matmul is ~5x slower than 2-D ones.
      const explicit = this.opts.explicitTranspose;
      const mm = (a: tf.Tensor2D, b: tf.Tensor2D) => matMul(a, b, explicit);
      // q, k, v of the real rows (no bias, so the official zero padding rows have zero q, k, v), split into heads by
      // one transpose + unstack: slicing each head out of [n, 3 * dim] would give every head a gradient padded back to
      // the full [n, 3 * dim] shape (24 such tensors per layer exhausted wasm memory at 4096 patches)
      const qkv = this.qkv.apply(x);
      const v = tf.slice(qkv, [0, 2 * dim], [n, dim]) as tf.Tensor2D;
      const split = (t: tf.Tensor2D, rows: number) => {
        const pieces = tf.unstack(tf.transpose(tf.reshape(t, [rows, 3 * heads, dimHead]), [1, 0, 2])) as tf.Tensor2D[];
        return Array.from({ length: heads }, (_, h) => ({
          q: tf.mul(pieces[h]!, dimHead ** -0.5) as tf.Tensor2D,
          k: pieces[heads + h]!,
          v: pieces[2 * heads + h]!,
        }));
      };
      const outs: tf.Tensor2D[] = [];
      if (exact) {
        for (const { q, k, v: vh } of split(qkv, n)) outs.push(softmaxAttend(q, tf.transpose(k), vh, explicit));
      } else {
        const pad = n % m === 0 ? 0 : m - (n % m);
        const total = n + pad;
        const l = total / m;
        const padded = pad > 0 ? (tf.pad(qkv, [[pad, 0], [0, 0]]) as tf.Tensor2D) : qkv;
        const landmarks = (t: tf.Tensor2D) => tf.div(tf.sum(tf.reshape(t, [m, l, dimHead]), 1), l) as tf.Tensor2D;
        const perHead = split(padded, total).map(({ q, k, v: vh }) => {
          const kL = tf.transpose(landmarks(k));
          const qL = landmarks(q);
          return { q, k, v: vh, kL, qL, attn2: tf.softmax(mm(qL, kL)) };
        });
        const inverses = moorePenroseIterPinv(perHead.map((p) => p.attn2), this.opts.pinvIterations, this.opts.explicitTranspose);
        perHead.forEach(({ q, k, v: vh, kL, qL }, h) => {
          // (attn1 pinv) (attn3 v) evaluated as attn1 (pinv (attn3 v)): the same product, m/dimHead times fewer flops;
          // attn1 = softmax(q kL^T) [total, m] and attn3 = softmax(qL k^T) [m, total] are never kept for the backward
          const o = softmaxAttend(q, kL, mm(inverses[h]!, softmaxAttend(qL, tf.transpose(k), vh, explicit)), explicit);
          outs.push(pad > 0 ? (tf.slice(o, [pad, 0], [n, dimHead]) as tf.Tensor2D) : o);
        });
      }
      // heads merged (head-major columns), plus the value residual computed on the real rows (the official zero
      // padding rows equal the convolution's own zero padding there)
      const merged = tf.add(tf.concat(outs, 1), this.valueResidual(v)) as tf.Tensor2D;
      return dropout(this.out.apply(merged), this.opts.dropout, random, mode);
    });
  }

  /** Per-head filter of length k along the sequence, applied to v [n, inner]. */
  private valueResidual(v: tf.Tensor2D): tf.Tensor2D {
    const k = this.residualKernel;
    const n = v.shape[0];
    const perChannel = tf.reshape(tf.mul(tf.reshape(this.residual, [k, 1, this.heads, 1]), tf.ones([1, 1, 1, this.dimHead])), [k, 1, this.dim]) as tf.Tensor3D;
    return tf.reshape(depthwiseConv2dSame(tf.reshape(v, [n, 1, this.dim]) as tf.Tensor3D, perChannel), [n, this.dim]) as tf.Tensor2D;
  }

  dispose(): void {
    this.qkv.dispose();
    this.out.dispose();
    this.residual.dispose();
  }
}
