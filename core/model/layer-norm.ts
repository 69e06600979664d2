/**
 * Layer normalisation over the last axis (Ba et al. 2016), as PyTorch's nn.LayerNorm(dim): y = (x - mean) /
 * sqrt(var + eps) * gamma + beta, with the biased variance, gamma initialised to 1 and beta to 0.
 *
 * @example
 * const ln = new LayerNorm({ dim: 256, name: 'fusion.norm' });
 * const y = ln.apply(x);   // x: [n, 256]
 */
import * as tf from '@tensorflow/tfjs';

export interface LayerNormOptions {
  dim: number;
  eps?: number;
  name?: string;
}

export class LayerNorm {
  readonly name: string;
  readonly dim: number;
  readonly eps: number;
  readonly variables: tf.Variable[];
  private readonly gamma: tf.Variable;
  private readonly beta: tf.Variable;

  constructor(opts: LayerNormOptions) {
    this.name = opts.name ?? 'layer-norm';
    if (!Number.isInteger(opts.dim) || opts.dim <= 0) throw new Error(`${this.name}: dim must be a positive integer, found ${opts.dim}`);
    this.dim = opts.dim;
    this.eps = opts.eps ?? 1e-5;
    this.gamma = tf.tidy(() => tf.variable(tf.ones([this.dim]), true));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([this.dim]), true));
    this.variables = [this.gamma, this.beta];
  }

  apply<T extends tf.Tensor>(x: T): T {
    if (x.shape[x.rank - 1] !== this.dim) {
      throw new Error(`${this.name}: expected the last axis to have ${this.dim} values, found shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      const norm = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(norm, this.gamma), this.beta) as T;
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
