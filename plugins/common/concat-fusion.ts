import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';

export interface ConcatFusionOptions {
  pool: 'mean' | 'max';
}

/**
 * Late fusion by concatenation: each modality's tokens are pooled (mean or max) to one vector and the vectors are
 * concatenated in a fixed (sorted) modality order. A missing modality contributes zeros, so z keeps its width.
 */
export class ConcatFusion implements Fusion {
  readonly variables: tf.Variable[] = [];
  private order: [string, number][] = [];

  constructor(private readonly options: ConcatFusionOptions, private readonly ctx: BuildContext) {}

  get outDim(): number {
    return this.order.reduce((a, [, d]) => a + d, 0);
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.order = [...inputDims.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, _mode: Mode): FusionOutput {
    if (this.order.length === 0) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const present = this.order.filter(([m]) => tokens.has(m));
    if (present.length === 0) throw new Error(`${this.ctx.path}: the case has none of the modalities ${this.order.map(([m]) => m).join(', ')}`);
    const z = tf.tidy(() => {
      const parts = this.order.map(([m, d]) => {
        const t = tokens.get(m);
        if (!t) return tf.zeros([1, d]) as tf.Tensor2D;
        if (t.shape[1] !== d) throw new Error(`${this.ctx.path}: modality '${m}' tokens have width ${t.shape[1]}, expected ${d}`);
        return this.options.pool === 'max' ? t.max(0, true) : t.mean(0, true);
      });
      return tf.concat(parts, 1) as tf.Tensor2D;
    });
    return { z };
  }

  dispose(): void {}
}

export const concatFusionSpec: ComponentSpec<'fusion', ConcatFusionOptions> = {
  id: 'concat',
  description: 'Concatenation of per-modality pooled tokens (mean or max); missing modalities are zeros',
  optionsSchema: {
    type: 'object',
    properties: { pool: { enum: ['mean', 'max'], default: 'mean', description: 'How each modality is pooled' } },
    additionalProperties: false,
  },
  create: (options, ctx) => new ConcatFusion(options, ctx),
};
