/**
 * Gated late fusion (Gogl & Yau add covariates and gene expression to the LLM's pathway "by early concatenation or
 * by late gated fusion"): each modality m (the configured encoders, in sorted order) is mean-pooled over its tokens
 * and projected by its own branch h_m = ReLU(Linear(d_m -> dim)(mean tokens)).
 * - mode 'gated' (default): gate weights g = softmax(W_g concat(h_1..h_M) + b_g) over the PRESENT modalities (a
 *   missing one enters the gate input as zeros and is excluded from the softmax, so its weight is exactly 0 and the
 *   present weights sum to 1); z = sum_m g_m h_m, outDim = dim. `attention.gate` holds g, [M], in the order of
 *   `modalities` (0 for a missing modality), for reports.
 * - mode 'concat' (early concatenation): z = concat(h_1..h_M) with zeros for a missing modality, outDim = M * dim;
 *   no gate layer, no attention.
 * Choices here: the paper gates separately pre-trained per-modality heads; here the branches and the gate are
 * trained jointly with the head. The gate kernel starts at zero, so training starts from the mean of the present
 * branches. Variables, in order: per modality (sorted) kernel, bias; then (gated) gate kernel, gate bias.
 *
 * @example
 * "fusion": { "type": "llm-distill.gated", "dim": 128, "mode": "gated" }
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { Dense, matMul } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export type GatedFusionMode = 'gated' | 'concat';

export interface GatedFusionOptions {
  dim: number;
  mode: GatedFusionMode;
}

/** Added to the gate logit of a missing modality: its softmax weight underflows to exactly 0. */
const MISSING_LOGIT = -1e9;

export class GatedFusion implements Fusion {
  private order: [string, number][] = [];
  private branches: Dense[] = [];
  private gate: Dense | null = null;
  private explicitTranspose = false;

  constructor(private readonly options: GatedFusionOptions, private readonly ctx: BuildContext) {
    if (!Number.isInteger(options.dim) || options.dim < 1) throw new Error(`${ctx.path}.dim: expected an integer >= 1, found ${options.dim}`);
    if (options.mode !== 'gated' && options.mode !== 'concat') {
      throw new Error(`${ctx.path}.mode: expected 'gated' or 'concat', found ${JSON.stringify(options.mode)}`);
    }
  }

  /** The fused modalities, in gate / concatenation order. */
  get modalities(): string[] {
    return this.order.map(([m]) => m);
  }

  get outDim(): number {
    return this.options.mode === 'gated' ? this.options.dim : this.order.length * this.options.dim;
  }

  get variables(): tf.Variable[] {
    return [...this.branches.flatMap((b) => b.variables), ...(this.gate?.variables ?? [])];
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.dispose();
    if (inputDims.size === 0) throw new Error(`${this.ctx.path}: the gated fusion needs at least one configured encoder, found none`);
    this.order = [...inputDims.entries()].sort(([a], [b]) => a.localeCompare(b));
    this.explicitTranspose = explicitTransposeIn(this.ctx);
    const { dim, mode } = this.options;
    this.branches = this.order.map(([m, d]) => {
      if (!Number.isInteger(d) || d < 1) throw new Error(`${this.ctx.path}: modality '${m}' has token width ${d}; expected a positive integer`);
      return new Dense({
        inDim: d, outDim: dim, init: 'he-normal', random: this.ctx.random.fork(`branch.${m}`),
        explicitTranspose: this.explicitTranspose, name: `${this.ctx.path}.branch.${m}`,
      });
    });
    if (mode === 'gated') {
      const n = this.order.length;
      this.gate = new Dense({
        inDim: n * dim, outDim: n, init: 'zeros', random: this.ctx.random.fork('gate'),
        explicitTranspose: this.explicitTranspose, name: `${this.ctx.path}.gate`,
      });
    }
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, _mode: Mode): FusionOutput {
    if (this.order.length === 0) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const present = this.order.map(([m, d]) => {
      const t = tokens.get(m);
      if (t && (t.rank !== 2 || t.shape[1] !== d || t.shape[0] < 1)) {
        throw new Error(`${this.ctx.path}: modality '${m}' tokens have shape [${t.shape.join(', ')}], expected [n >= 1, ${d}] (the width given to build())`);
      }
      return t !== undefined;
    });
    if (!present.some(Boolean)) throw new Error(`${this.ctx.path}: the case has none of the modalities ${this.modalities.join(', ')}`);
    const { dim } = this.options;
    return tf.tidy(() => {
      const h = this.order.map(([m], i) => {
        const t = tokens.get(m);
        return t ? tf.relu(this.branches[i]!.apply(tf.mean(t, 0, true) as tf.Tensor2D)) : (tf.zeros([1, dim]) as tf.Tensor2D);
      });
      if (!this.gate) return { z: tf.concat(h, 1) as tf.Tensor2D };
      const n = this.order.length;
      const offsets = tf.tensor2d(present.map((p) => (p ? 0 : MISSING_LOGIT)), [1, n]);
      const g = tf.softmax(tf.add(this.gate.apply(tf.concat(h, 1) as tf.Tensor2D), offsets)) as tf.Tensor2D;
      const z = matMul(g, tf.concat(h, 0) as tf.Tensor2D, this.explicitTranspose);
      return { z, attention: { gate: tf.reshape(g, [n]) } };
    });
  }

  dispose(): void {
    for (const b of this.branches) b.dispose();
    this.gate?.dispose();
    this.branches = [];
    this.gate = null;
  }
}

export const gatedFusionSpec: ComponentSpec<'fusion', GatedFusionOptions> = {
  id: 'llm-distill.gated',
  description: 'Gated late fusion: per-modality Linear+ReLU branches weighted by a softmax gate over the present modalities, or their early concatenation',
  optionsSchema: {
    type: 'object',
    properties: {
      dim: { type: 'integer', minimum: 1, default: 128, description: 'Width of each modality branch (and of z in gated mode)' },
      mode: {
        enum: ['gated', 'concat'], default: 'gated',
        description: "'gated': z = sum of the branches weighted by a softmax gate over the present modalities (outDim = dim); 'concat': early concatenation of the branches (outDim = modalities x dim, zeros for a missing one)",
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new GatedFusion(options, ctx),
};
