import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { roleTokens, roleWidths, warnUnusedModalities } from '../../core/model/fusion-inputs.js';
import { GatedAttentionPool } from '../../core/model/gated-attention-pool.js';
import { MultiHeadAttention, TransformerEncoderLayer } from '../../core/model/multi-head-attention.js';

export interface McatFusionOptions {
  genomic: string;
  pathology: string;
  dim: number;
  heads: number;
  feedForward: number;
  layers: number;
  dropout: number;
  mm: boolean;
}

const DEFAULTS: McatFusionOptions = { genomic: 'rna', pathology: 'wsi', dim: 256, heads: 8, feedForward: 512, layers: 2, dropout: 0.25, mm: true };

/** One modality's branch: Transformer encoder layers, then gated-attention pooling + rho. */
interface Branch {
  layers: TransformerEncoderLayer[];
  pool: GatedAttentionPool;
}

interface Built {
  widths: { genomic: number; pathology: number };
  genomicProjection: Dense | null;
  pathologyProjection: Dense | null;
  coattention: MultiHeadAttention;
  path: Branch;
  omic: Branch;
  mm: [Dense, Dense] | null;
}

/**
 * MCAT (Chen et al., ICCV 2021; mahmoodlab/MCAT `MCAT_Surv`): genomic-guided co-attention. The genomic tokens G
 * [n_g, dim] are the queries of a one-head attention (nn.MultiheadAttention(dim, 1): q/k/v/out projections with
 * bias, no dropout) over the patch tokens P -> co-attended pathology tokens [n_g, dim]. Two Transformer encoders
 * (`layers` x nn.TransformerEncoderLayer(dim, heads, feedForward, dropout), post-norm, ReLU) run over the
 * co-attended tokens and over G; each is pooled by gated attention (tanh * sigmoid, softmax; hidden = dim) followed by
 * rho = Linear + ReLU + Dropout. z = [h_path, h_omic] [1, 2*dim], and with `mm` (MCAT's 'concat' fusion, default)
 * Linear(2*dim, dim) + ReLU + Linear(dim, dim) + ReLU -> z [1, dim], ready for MCAT's Linear(dim, 4) head.
 *
 * Widths (choice): tokens of a width other than `dim` are first mapped to `dim` by a learned Linear (MCAT's encoders
 * already output 256). Missing genomic (choice): no co-attention; the patch tokens are pooled by the pathology
 * branch's gated attention + rho directly (a Transformer over thousands of patches is skipped). Missing pathology:
 * the genomic branch only. The missing half of [h_path, h_omic] is zeros.
 * Attention (both present): 'genomic->pathology' [n_p] = co-attention weights summed over the genomic queries (sums
 * to n_g). Variables, in order: input projections (genomic, pathology; when widths differ), co-attention,
 * pathology Transformer layers, pathology pool, genomic Transformer layers, genomic pool, mm layers.
 */
export class McatFusion implements Fusion {
  private readonly options: McatFusionOptions;
  private built: Built | null = null;

  constructor(options: Partial<McatFusionOptions>, private readonly ctx: BuildContext) {
    this.options = { ...DEFAULTS, ...options };
    const o = this.options;
    for (const key of ['dim', 'heads', 'feedForward', 'layers'] as const) {
      if (!Number.isInteger(o[key]) || o[key] <= 0) throw new Error(`${ctx.path}.${key}: expected a positive integer, found ${o[key]}`);
    }
    if (o.dim % o.heads !== 0) throw new Error(`${ctx.path}: dim (${o.dim}) must be a multiple of heads (${o.heads})`);
    if (!(o.dropout >= 0 && o.dropout < 1)) throw new Error(`${ctx.path}.dropout: expected a rate in [0, 1), found ${o.dropout}`);
  }

  get outDim(): number {
    return this.options.mm ? this.options.dim : 2 * this.options.dim;
  }

  get variables(): tf.Variable[] {
    const b = this.built;
    if (!b) return [];
    const branch = (x: Branch) => [...x.layers.flatMap((l) => l.variables), ...x.pool.variables];
    return [
      ...(b.genomicProjection?.variables ?? []), ...(b.pathologyProjection?.variables ?? []), ...b.coattention.variables,
      ...branch(b.path), ...branch(b.omic), ...(b.mm ?? []).flatMap((l) => l.variables),
    ];
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.dispose();
    const { genomic, pathology, dim, heads, feedForward, layers, dropout, mm } = this.options;
    const widths = roleWidths(inputDims, { genomic, pathology }, this.ctx.path, 'mcat');
    warnUnusedModalities(inputDims, [genomic, pathology], this.ctx.path, 'mcat', this.ctx.logger);
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const random = this.ctx.random;
    const name = (label: string) => `${this.ctx.path}.${label}`;
    const dense = (label: string, inDim: number, outDim: number) =>
      new Dense({ inDim, outDim, init: 'glorot-normal', random: random.fork(label), explicitTranspose, name: name(label) });
    const genomicProjection = widths.genomic === dim ? null : dense('genomic-projection', widths.genomic, dim);
    const pathologyProjection = widths.pathology === dim ? null : dense('pathology-projection', widths.pathology, dim);
    const coattention = new MultiHeadAttention({ dim, heads: 1, random: random.fork('coattention'), explicitTranspose, name: name('coattention') });
    const branch = (label: string): Branch => ({
      layers: Array.from({ length: layers }, (_, i) => new TransformerEncoderLayer({
        dim, heads, feedForward, dropout, random: random.fork(`${label}.transformer.${i}`), explicitTranspose, name: name(`${label}.transformer.${i}`),
      })),
      pool: new GatedAttentionPool({ inDim: dim, hidden: dim, rho: true, dropout, random: random.fork(`${label}.pool`), explicitTranspose, name: name(`${label}.pool`) }),
    });
    const path = branch('pathology');
    const omic = branch('genomic');
    const mmLayers: [Dense, Dense] | null = mm ? [dense('mm.0', 2 * dim, dim), dense('mm.1', dim, dim)] : null;
    this.built = { widths, genomicProjection, pathologyProjection, coattention, path, omic, mm: mmLayers };
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput {
    const b = this.built;
    if (!b) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const { genomic, pathology, dim } = this.options;
    const gIn = roleTokens(tokens, genomic, b.widths.genomic, this.ctx.path);
    const pIn = roleTokens(tokens, pathology, b.widths.pathology, this.ctx.path);
    if (!gIn && !pIn) throw new Error(`${this.ctx.path}: the case has neither '${genomic}' nor '${pathology}' tokens; the mcat fusion needs at least one`);
    return tf.tidy(() => {
      const g = gIn && b.genomicProjection ? b.genomicProjection.apply(gIn) : gIn;
      const p = pIn && b.pathologyProjection ? b.pathologyProjection.apply(pIn) : pIn;
      const encode = (x: tf.Tensor2D, branch: Branch) => branch.pool.apply(branch.layers.reduce((h, l) => l.apply(h, mode), x), mode).pooled;
      let hPath: tf.Tensor2D = tf.zeros([1, dim]);
      let coWeights: tf.Tensor2D | null = null;
      if (p && g) {
        const co = b.coattention.apply(g, p, mode);
        coWeights = co.weights;
        hPath = encode(co.out, b.path);
      } else if (p) {
        hPath = b.path.pool.apply(p, mode).pooled;
      }
      const hOmic = g ? encode(g, b.omic) : (tf.zeros([1, dim]) as tf.Tensor2D);
      let z = tf.concat([hPath, hOmic], 1) as tf.Tensor2D;
      if (b.mm) z = tf.relu(b.mm[1].apply(tf.relu(b.mm[0].apply(z))));
      const result: FusionOutput = { z };
      if (coWeights) result.attention = { 'genomic->pathology': tf.sum(coWeights, 0) };
      return result as unknown as tf.TensorContainer;
    }) as unknown as FusionOutput;
  }

  dispose(): void {
    const b = this.built;
    if (!b) return;
    b.genomicProjection?.dispose();
    b.pathologyProjection?.dispose();
    b.coattention.dispose();
    for (const branch of [b.path, b.omic]) {
      for (const l of branch.layers) l.dispose();
      branch.pool.dispose();
    }
    for (const l of b.mm ?? []) l.dispose();
    this.built = null;
  }
}

export const mcatFusionSpec: ComponentSpec<'fusion', McatFusionOptions> = {
  id: 'mcat',
  /** The modality keys of the default roles (configs may map the roles to other keys). */
  modalities: ['wsi', 'rna'],
  description: 'MCAT (Chen 2021): genomic tokens co-attend over patches; a Transformer and gated-attention pooling per modality',
  optionsSchema: {
    type: 'object',
    properties: {
      genomic: { type: 'string', minLength: 1, default: DEFAULTS.genomic, description: 'Modality (encoders key) whose tokens are the co-attention queries (MCAT: 6 signature groups)' },
      pathology: { type: 'string', minLength: 1, default: DEFAULTS.pathology, description: 'Modality (encoders key) whose tokens are the patches (keys and values)' },
      dim: { type: 'integer', minimum: 1, default: DEFAULTS.dim, description: 'Model width of the co-attention, Transformers and pooling (MCAT: 256)' },
      heads: { type: 'integer', minimum: 1, default: DEFAULTS.heads, description: 'Attention heads of the Transformer layers (MCAT: 8); dim must be a multiple' },
      feedForward: { type: 'integer', minimum: 1, default: DEFAULTS.feedForward, description: 'Feed-forward width of the Transformer layers (MCAT: 512)' },
      layers: { type: 'integer', minimum: 1, default: DEFAULTS.layers, description: 'Transformer layers per modality (MCAT: 2)' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: DEFAULTS.dropout, description: 'Dropout of the Transformer layers, pooling and rho (MCAT: 0.25)' },
      mm: { type: 'boolean', default: DEFAULTS.mm, description: "MCAT's 'concat' fusion MLP: Linear(2*dim, dim)+ReLU+Linear(dim, dim)+ReLU, z is [1, dim]; false: z is the [1, 2*dim] concatenation" },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new McatFusion(options, ctx),
};
