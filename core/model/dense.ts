/**
 * The shared dense layer and the matmul every layer should use.
 *
 * On the wasm backend, matMul with a transposed operand takes a slow path (x^T @ g is ~15x slower than x @ W plus
 * an explicit transpose), and tfjs's own matMul gradient uses the transposed forms. `matMul(x, w, true)` computes
 * the same value and gradients with explicit transposes instead. On the cpu backend the trick is slower: pick it
 * per backend with `explicitTransposeFor(name)` (or `Backend.explicitTransposeGrad`). Where the wasm backend's
 * matmul is the native sgemm (core/backend/native-matmul), transposed operands are free and the stock path is used.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../contracts/backend.js';
import type { RandomSource } from '../contracts/random-source.js';
import { nativeMatmulStatus } from '../backend/native-matmul.js';

/**
 * True where explicit-transpose gradients are faster than tfjs's stock ones: the wasm backend, unless its matmul is
 * the native sgemm (which takes transposed operands as flags).
 */
export function explicitTransposeFor(backendName: BackendName | string): boolean {
  return backendName === 'wasm' && !nativeMatmulStatus().active;
}

/** x @ w whose gradients are dy @ transpose(w) and transpose(x) @ dy, with explicit transposes (no transposeA/B). */
const explicitTransposeMatMul = tf.customGrad<tf.Tensor2D>((...args) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)];
    },
  };
});

/** [n, k] @ [k, m]. `explicitTranspose` selects the gradient path (true on wasm); values are identical. */
export function matMul(x: tf.Tensor2D, w: tf.Tensor2D, explicitTranspose: boolean): tf.Tensor2D {
  return explicitTranspose ? explicitTransposeMatMul(x, w) : tf.matMul(x, w);
}

export type DenseInit = 'glorot-normal' | 'glorot-uniform' | 'lecun-normal' | 'he-normal' | 'zeros';

export interface DenseOptions {
  inDim: number;
  outDim: number;
  /** Add a bias vector (initialised to zeros). Default true. */
  bias?: boolean;
  /** Kernel initialisation. Default 'glorot-normal'. */
  init?: DenseInit;
  /**
   * Where the initial kernel comes from: inDim*outDim draws, row-major. Pass a stream forked for this layer
   * (`random.fork('encoder.wsi/attention')`): two layers given the same stream state get the same weights.
   */
  random: RandomSource;
  explicitTranspose: boolean;
  /** Used in error messages and saved weights. */
  name?: string;
}

export interface DenseWeights {
  /** [inDim, outDim], row-major (y = x @ kernel + bias, like Keras; PyTorch's Linear.weight is its transpose). */
  kernel: Float32Array;
  bias?: Float32Array;
}

const DENSE_INITS: readonly DenseInit[] = ['glorot-normal', 'glorot-uniform', 'lecun-normal', 'he-normal', 'zeros'];

/**
 * The initial kernel. Normal variants are plain (untruncated) normals with std sqrt(2/(in+out)) (Glorot), sqrt(1/in)
 * (LeCun) and sqrt(2/in) (He), as PyTorch's xavier_normal_/kaiming_normal_; glorot-uniform is U(-a, a) with
 * a = sqrt(6/(in+out)). Drawn from the RandomSource, so the same seed gives the same weights on every backend.
 */
export function initKernel(init: DenseInit, inDim: number, outDim: number, random: RandomSource): Float32Array {
  const n = inDim * outDim;
  const out = new Float32Array(n);
  switch (init) {
    case 'zeros':
      return out;
    case 'glorot-uniform': {
      const a = Math.sqrt(6 / (inDim + outDim));
      for (let i = 0; i < n; i++) out[i] = (2 * random.uniform() - 1) * a;
      return out;
    }
    case 'glorot-normal':
    case 'lecun-normal':
    case 'he-normal': {
      const sd = init === 'glorot-normal' ? Math.sqrt(2 / (inDim + outDim)) : init === 'he-normal' ? Math.sqrt(2 / inDim) : Math.sqrt(1 / inDim);
      for (let i = 0; i < n; i++) out[i] = random.normal(0, sd);
      return out;
    }
    default:
      throw new Error(`dense init '${String(init)}' is unknown: expected one of ${DENSE_INITS.join(', ')}`);
  }
}

/** y = x @ kernel + bias, for x of shape [n, inDim]. */
export class Dense {
  readonly name: string;
  readonly inDim: number;
  readonly outDim: number;
  readonly explicitTranspose: boolean;
  /** [kernel] or [kernel, bias]: what an optimizer trains. */
  readonly variables: tf.Variable[];
  private readonly kernel: tf.Variable;
  private readonly bias: tf.Variable | null;
  private disposed = false;

  constructor(opts: DenseOptions) {
    this.name = opts.name ?? 'dense';
    for (const key of ['inDim', 'outDim'] as const) {
      const v = opts[key];
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${this.name}: ${key} must be a positive integer, found ${v}`);
    }
    this.inDim = opts.inDim;
    this.outDim = opts.outDim;
    this.explicitTranspose = opts.explicitTranspose;
    const kernel = initKernel(opts.init ?? 'glorot-normal', this.inDim, this.outDim, opts.random);
    // tf.tidy disposes the initial-value tensors; variables are not tracked by tidy and survive it.
    this.kernel = tf.tidy(() => tf.variable(tf.tensor2d(kernel, [this.inDim, this.outDim]), true));
    this.bias = opts.bias === false ? null : tf.tidy(() => tf.variable(tf.zeros([this.outDim]), true));
    this.variables = this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (this.disposed) throw new Error(`${this.name}: apply() after dispose()`);
    if (x.rank !== 2 || x.shape[1] !== this.inDim) {
      throw new Error(`${this.name}: expected input of shape [n, ${this.inDim}], found [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const y = matMul(x, this.kernel as tf.Tensor2D, this.explicitTranspose);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  getWeights(): DenseWeights {
    if (this.disposed) throw new Error(`${this.name}: getWeights() after dispose()`);
    // dataSync may return the backend's own buffer (cpu): copy.
    const kernel = Float32Array.from(this.kernel.dataSync() as Float32Array);
    return this.bias ? { kernel, bias: Float32Array.from(this.bias.dataSync() as Float32Array) } : { kernel };
  }

  setWeights(w: { kernel: ArrayLike<number>; bias?: ArrayLike<number> }): void {
    if (this.disposed) throw new Error(`${this.name}: setWeights() after dispose()`);
    const nKernel = this.inDim * this.outDim;
    if (w.kernel.length !== nKernel) {
      throw new Error(`${this.name}: kernel must have ${this.inDim}x${this.outDim} = ${nKernel} values (row-major [inDim, outDim]), found ${w.kernel.length}`);
    }
    if (this.bias && w.bias === undefined) throw new Error(`${this.name}: this layer has a bias of ${this.outDim} values; none was given`);
    if (!this.bias && w.bias !== undefined) throw new Error(`${this.name}: this layer has no bias (bias: false), but one was given`);
    if (w.bias !== undefined && w.bias.length !== this.outDim) {
      throw new Error(`${this.name}: bias must have ${this.outDim} values, found ${w.bias.length}`);
    }
    tf.tidy(() => {
      this.kernel.assign(tf.tensor2d(Float32Array.from(w.kernel), [this.inDim, this.outDim]));
      if (this.bias && w.bias !== undefined) this.bias.assign(tf.tensor1d(Float32Array.from(w.bias)));
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables) v.dispose();
  }
}
