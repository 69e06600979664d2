/**
 * SurvPath's multimodal attention layer (Jaume et al., CVPR 2024; mahmoodlab/SurvPath `MMAttentionLayer` with one
 * head, no residual), followed by the model's FeedForward and LayerNorm. Shared by the `survpath` and
 * `survpgc.dual-path` fusions.
 *
 * Inputs: A [n_a, inDim] query-side tokens (pathways, clinical sentences) and P [n_p, inDim] patch tokens.
 * - X = LayerNorm([A; P]); q, k, v = X W_qkv (one Linear inDim -> 3*dim, no bias; q, k, v are its column blocks);
 *   q is scaled by dim^-1/2.
 * - A rows: softmax over the concatenated scores [q_A k_A^T, q_A k_P^T] (one softmax over A and P) @ [v_A; v_P].
 * - P rows: softmax(q_P k_A^T) @ v_A. The P->P block is dropped and never formed (memory O(n_p * n_a)).
 * - No output projection, no residual. Then, per token, the post block `FeedForwardNorm`: FeedForward (LayerNorm ->
 *   Linear -> GELU -> Dropout -> Linear, no residual) -> LayerNorm. SurvPGC shares one post block between its two
 *   paths: pass `post` to share one; the layer then does not own (save or dispose) it.
 *
 * Outputs: `a` [n_a, dim], `p` [n_p, dim], `aToP` [n_p] = softmax weight each patch gets, summed over the A rows (the
 * scores SurvPGC accumulates for heatmaps; sum over patches = n_a minus the mass A keeps on A), `pToA` [n_p, n_a]
 * (rows sum to 1). The SurvPath repo returns pre-softmax scores; here they are probabilities (choice).
 *
 * Missing side (choice): without P, the A rows attend to A only (the joint softmax with the P columns masked out);
 * without A, a patch has nothing to attend to and its output is its own value vector v_P (as if it attended to
 * itself). Either way the post block still runs; the missing side is null.
 *
 * GELU: the exact form 0.5 x (1 + erf(x / sqrt 2)), PyTorch nn.GELU()'s default. tfjs has no gelu op, but Erf has a
 * kernel and a gradient on cpu, wasm and tfjs-node (cpu/wasm: Abramowitz-Stegun 7.1.26, |error| <= 1.5e-7).
 * Initialisation (choice): Glorot-uniform kernels, zero biases; LayerNorm gamma 1, beta 0.
 *
 * @example
 * const layer = new SurvPathAttention({ inDim: 256, dim: 128, random: rng.fork('attn'), explicitTranspose: false });
 * const { a, p, aToP } = layer.apply(pathwayTokens, patchTokens, 'train');
 */
import * as tf from '@tensorflow/tfjs';
import type { Mode } from '../contracts/encoder.js';
import type { RandomSource } from '../contracts/random-source.js';
import { Dense, matMul } from './dense.js';
import { dropout } from './dropout.js';
import { LayerNorm } from './layer-norm.js';
import { matMulT } from './multi-head-attention.js';

/** GELU, erf form (PyTorch nn.GELU(approximate='none')). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T);
}

export interface FeedForwardNormOptions {
  dim: number;
  /** Dropout after the GELU. Default 0.1 (SurvPath, SurvPGC). */
  dropout?: number;
  /** Initial weights (forks 'ff1', 'ff2') and dropout masks (fork 'dropout'). */
  random: RandomSource;
  explicitTranspose: boolean;
  name?: string;
}

/** SurvPath's FeedForward(dim) (LayerNorm -> Linear -> GELU -> Dropout -> Linear, no residual) then LayerNorm(dim). */
export class FeedForwardNorm {
  readonly name: string;
  readonly dim: number;
  readonly rate: number;
  readonly ffNorm: LayerNorm;
  readonly ff1: Dense;
  readonly ff2: Dense;
  readonly norm: LayerNorm;
  /** ffNorm, ff1, ff2, norm. */
  readonly variables: tf.Variable[];
  private readonly dropoutRandom: RandomSource;

  constructor(opts: FeedForwardNormOptions) {
    this.name = opts.name ?? 'feed-forward';
    this.dim = opts.dim;
    this.rate = opts.dropout ?? 0.1;
    const common = { inDim: opts.dim, outDim: opts.dim, init: 'glorot-uniform' as const, explicitTranspose: opts.explicitTranspose };
    this.ffNorm = new LayerNorm({ dim: opts.dim, name: `${this.name}.ff-norm` });
    this.ff1 = new Dense({ ...common, random: opts.random.fork('ff1'), name: `${this.name}.ff1` });
    this.ff2 = new Dense({ ...common, random: opts.random.fork('ff2'), name: `${this.name}.ff2` });
    this.norm = new LayerNorm({ dim: opts.dim, name: `${this.name}.norm` });
    this.dropoutRandom = opts.random.fork('dropout');
    this.variables = [...this.ffNorm.variables, ...this.ff1.variables, ...this.ff2.variables, ...this.norm.variables];
  }

  apply(x: tf.Tensor2D, mode: Mode): tf.Tensor2D {
    return tf.tidy(() => {
      const h = gelu(this.ff1.apply(this.ffNorm.apply(x)));
      return this.norm.apply(this.ff2.apply(dropout(h, this.rate, this.dropoutRandom, mode)));
    });
  }

  dispose(): void {
    for (const layer of [this.ffNorm, this.ff1, this.ff2, this.norm]) layer.dispose();
  }
}

export interface SurvPathAttentionOptions {
  /** Width of the A and P tokens (SurvPath: 256). */
  inDim: number;
  /** Head width, also the output width (SurvPath: inDim / 2 = 128). */
  dim: number;
  /** FeedForward dropout of an owned post block. Default 0.1. */
  dropout?: number;
  /** Initial weights: forks 'qkv' and 'post'. */
  random: RandomSource;
  explicitTranspose: boolean;
  name?: string;
  /** A post block shared with another layer (SurvPGC); its width must be `dim`. Default: the layer owns one. */
  post?: FeedForwardNorm;
}

export interface SurvPathAttentionOutput {
  /** A-side output [n_a, dim]; null when A was missing. */
  a: tf.Tensor2D | null;
  /** P-side output [n_p, dim]; null when P was missing. */
  p: tf.Tensor2D | null;
  /** [n_p]: A->P softmax weights summed over the A rows; null unless both sides are present. */
  aToP: tf.Tensor1D | null;
  /** [n_p, n_a]: P->A softmax weights (rows sum to 1); null unless both sides are present. */
  pToA: tf.Tensor2D | null;
}

export class SurvPathAttention {
  readonly name: string;
  readonly inDim: number;
  readonly dim: number;
  readonly explicitTranspose: boolean;
  readonly norm: LayerNorm;
  /** to_qkv: [inDim, 3*dim], no bias; columns [0, dim) are q, [dim, 2dim) k, [2dim, 3dim) v. */
  readonly qkv: Dense;
  readonly post: FeedForwardNorm;
  private readonly ownsPost: boolean;

  constructor(opts: SurvPathAttentionOptions) {
    this.name = opts.name ?? 'survpath-attention';
    for (const key of ['inDim', 'dim'] as const) {
      if (!Number.isInteger(opts[key]) || opts[key] <= 0) throw new Error(`${this.name}: ${key} must be a positive integer, found ${opts[key]}`);
    }
    if (opts.post && opts.post.dim !== opts.dim) {
      throw new Error(`${this.name}: the shared post block has width ${opts.post.dim}, expected dim ${opts.dim}`);
    }
    this.inDim = opts.inDim;
    this.dim = opts.dim;
    this.explicitTranspose = opts.explicitTranspose;
    this.norm = new LayerNorm({ dim: opts.inDim, name: `${this.name}.norm` });
    this.qkv = new Dense({
      inDim: opts.inDim, outDim: 3 * opts.dim, bias: false, init: 'glorot-uniform',
      random: opts.random.fork('qkv'), explicitTranspose: opts.explicitTranspose, name: `${this.name}.to-qkv`,
    });
    this.ownsPost = !opts.post;
    this.post = opts.post ?? new FeedForwardNorm({
      dim: opts.dim, dropout: opts.dropout ?? 0.1, random: opts.random.fork('post'),
      explicitTranspose: opts.explicitTranspose, name: `${this.name}.post`,
    });
  }

  /** norm, qkv, then the post block's variables when the layer owns it. */
  get variables(): tf.Variable[] {
    return [...this.norm.variables, ...this.qkv.variables, ...(this.ownsPost ? this.post.variables : [])];
  }

  apply(a: tf.Tensor2D | null, p: tf.Tensor2D | null, mode: Mode): SurvPathAttentionOutput {
    if (!a && !p) throw new Error(`${this.name}: both the query-side tokens (A) and the patch tokens (P) are missing; at least one is needed`);
    for (const [side, x] of [['A', a], ['P', p]] as const) {
      if (x && (x.rank !== 2 || x.shape[1] !== this.inDim || x.shape[0] < 1)) {
        throw new Error(`${this.name}: ${side} tokens must have shape [n >= 1, ${this.inDim}], found [${x.shape.join(', ')}]`);
      }
    }
    const ex = this.explicitTranspose;
    // tidy keeps every tensor inside the returned object (null entries are skipped)
    const out = tf.tidy(() => {
      const project = (x: tf.Tensor2D) => {
        const y = this.qkv.apply(this.norm.apply(x));
        const n = x.shape[0];
        const q = tf.mul(tf.slice(y, [0, 0], [n, this.dim]), 1 / Math.sqrt(this.dim)) as tf.Tensor2D;
        return { q, k: tf.slice(y, [0, this.dim], [n, this.dim]) as tf.Tensor2D, v: tf.slice(y, [0, 2 * this.dim], [n, this.dim]) as tf.Tensor2D };
      };
      const A = a ? project(a) : null;
      const P = p ? project(p) : null;
      let outA: tf.Tensor2D | null = null;
      let outP: tf.Tensor2D | null = null;
      let aToP: tf.Tensor1D | null = null;
      let pToA: tf.Tensor2D | null = null;
      if (A && P) {
        const nA = a!.shape[0];
        const nP = p!.shape[0];
        const wA = tf.softmax(tf.concat([matMulT(A.q, A.k, ex), matMulT(A.q, P.k, ex)], 1)) as tf.Tensor2D; // [nA, nA + nP]
        outA = matMul(wA, tf.concat([A.v, P.v], 0) as tf.Tensor2D, ex);
        aToP = tf.sum(tf.slice(wA, [0, nA], [nA, nP]), 0) as tf.Tensor1D;
        pToA = tf.softmax(matMulT(P.q, A.k, ex)) as tf.Tensor2D; // [nP, nA]
        outP = matMul(pToA, A.v, ex);
      } else if (A) {
        outA = matMul(tf.softmax(matMulT(A.q, A.k, ex)) as tf.Tensor2D, A.v, ex);
      } else {
        outP = P!.v;
      }
      return {
        a: outA ? this.post.apply(outA, mode) : null,
        p: outP ? this.post.apply(outP, mode) : null,
        aToP,
        pToA,
      } as unknown as tf.TensorContainer;
    });
    return out as unknown as SurvPathAttentionOutput;
  }

  dispose(): void {
    this.norm.dispose();
    this.qkv.dispose();
    if (this.ownsPost) this.post.dispose();
  }
}
