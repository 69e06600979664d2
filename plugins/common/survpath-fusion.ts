import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { roleTokens, roleWidths, warnUnusedModalities } from '../../core/model/fusion-inputs.js';
import { SurvPathAttention } from '../../core/model/survpath-attention.js';

export interface SurvPathFusionOptions {
  genomic: string;
  pathology: string;
  dim: number;
  dropout: number;
  hidden: number | null;
}

const DEFAULTS: SurvPathFusionOptions = { genomic: 'rna', pathology: 'wsi', dim: 128, dropout: 0.1, hidden: null };

interface Built {
  widths: { genomic: number; pathology: number };
  projection: Dense | null;
  attention: SurvPathAttention;
  hidden: Dense | null;
}

/**
 * SurvPath (Jaume et al., CVPR 2024): genomic (pathway) tokens G and patch tokens P pass one multimodal attention
 * layer (core/model/survpath-attention: G attends to [G; P] under one softmax, P attends to G only, no P->P block),
 * then FeedForward and LayerNorm; z = [mean of the G-side outputs, mean of the P-side outputs], [1, 2*dim].
 * SurvPath's head is Linear(256, 64) -> ReLU -> Linear(64, 4): put the 64-unit layer in the head, or set `hidden` to
 * append Linear(2*dim, hidden) + ReLU here (z is then [1, hidden]).
 *
 * Widths (choice): the attention works at the pathology token width; genomic tokens of another width are first
 * mapped to it by a learned Linear (as SurvPGC's projection nets). Missing modality (choice): without genomic
 * tokens each patch's output is its own value vector (nothing to attend to) and the genomic half of z is zeros;
 * without pathology the genomic tokens attend to each other only and the pathology half is zeros.
 * Attention maps (both modalities present): 'genomic->pathology' [n_p] (softmax weight per patch summed over the
 * genomic queries) and 'pathology->genomic' [n_g] (summed over the patches; sums to n_p).
 * Variables, in order: the genomic projection (when widths differ), the attention layer (LayerNorm, to_qkv,
 * FeedForward, LayerNorm), the hidden layer (when set).
 */
export class SurvPathFusion implements Fusion {
  private readonly options: SurvPathFusionOptions;
  private built: Built | null = null;

  constructor(options: Partial<SurvPathFusionOptions>, private readonly ctx: BuildContext) {
    this.options = { ...DEFAULTS, ...options };
    const { dim, dropout, hidden } = this.options;
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${ctx.path}.dim: expected a positive integer, found ${dim}`);
    if (!(dropout >= 0 && dropout < 1)) throw new Error(`${ctx.path}.dropout: expected a rate in [0, 1), found ${dropout}`);
    if (hidden !== null && (!Number.isInteger(hidden) || hidden <= 0)) throw new Error(`${ctx.path}.hidden: expected null or a positive integer, found ${hidden}`);
  }

  get outDim(): number {
    return this.options.hidden ?? 2 * this.options.dim;
  }

  get variables(): tf.Variable[] {
    const b = this.built;
    if (!b) return [];
    return [...(b.projection?.variables ?? []), ...b.attention.variables, ...(b.hidden?.variables ?? [])];
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.dispose();
    const { genomic, pathology, dim, dropout, hidden } = this.options;
    const widths = roleWidths(inputDims, { genomic, pathology }, this.ctx.path, 'survpath');
    warnUnusedModalities(inputDims, [genomic, pathology], this.ctx.path, 'survpath', this.ctx.logger);
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const random = this.ctx.random;
    const projection = widths.genomic === widths.pathology ? null : new Dense({
      inDim: widths.genomic, outDim: widths.pathology, init: 'glorot-normal', random: random.fork('genomic-projection'),
      explicitTranspose, name: `${this.ctx.path}.genomic-projection`,
    });
    const attention = new SurvPathAttention({
      inDim: widths.pathology, dim, dropout, random: random.fork('attention'), explicitTranspose, name: `${this.ctx.path}.attention`,
    });
    const hiddenLayer = hidden === null ? null : new Dense({
      inDim: 2 * dim, outDim: hidden, init: 'glorot-normal', random: random.fork('hidden'), explicitTranspose, name: `${this.ctx.path}.hidden`,
    });
    this.built = { widths, projection, attention, hidden: hiddenLayer };
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput {
    const b = this.built;
    if (!b) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const { genomic, pathology, dim } = this.options;
    const g = roleTokens(tokens, genomic, b.widths.genomic, this.ctx.path);
    const p = roleTokens(tokens, pathology, b.widths.pathology, this.ctx.path);
    if (!g && !p) throw new Error(`${this.ctx.path}: the case has neither '${genomic}' nor '${pathology}' tokens; the survpath fusion needs at least one`);
    return tf.tidy(() => {
      const a = g && b.projection ? b.projection.apply(g) : g;
      const out = b.attention.apply(a, p, mode);
      const half = (x: tf.Tensor2D | null) => (x ? tf.mean(x, 0, true) : tf.zeros([1, dim]));
      let z = tf.concat([half(out.a), half(out.p)], 1) as tf.Tensor2D;
      if (b.hidden) z = tf.relu(b.hidden.apply(z));
      const result: FusionOutput = { z };
      if (out.aToP && out.pToA) result.attention = { 'genomic->pathology': out.aToP, 'pathology->genomic': tf.sum(out.pToA, 0) };
      return result as unknown as tf.TensorContainer;
    }) as unknown as FusionOutput;
  }

  dispose(): void {
    const b = this.built;
    if (!b) return;
    b.projection?.dispose();
    b.attention.dispose();
    b.hidden?.dispose();
    this.built = null;
  }
}

export const survPathFusionSpec: ComponentSpec<'fusion', SurvPathFusionOptions> = {
  id: 'survpath',
  /** The modality keys of the default roles (configs may map the roles to other keys). */
  modalities: ['wsi', 'rna'],
  description: 'SurvPath (Jaume 2024): pathway tokens attend to pathways and patches, patches to pathways; token means concatenated',
  optionsSchema: {
    type: 'object',
    properties: {
      genomic: { type: 'string', minLength: 1, default: DEFAULTS.genomic, description: 'Modality (encoders key) whose tokens are the query side, e.g. pathway tokens' },
      pathology: { type: 'string', minLength: 1, default: DEFAULTS.pathology, description: 'Modality (encoders key) whose tokens are the patches' },
      dim: { type: 'integer', minimum: 1, default: DEFAULTS.dim, description: 'Attention head width = width of each side; z has 2*dim values (SurvPath: 128, half its 256-d tokens)' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: DEFAULTS.dropout, description: 'Dropout inside the FeedForward block (SurvPath: 0.1)' },
      hidden: { type: ['integer', 'null'], minimum: 1, default: DEFAULTS.hidden, description: 'Append Linear(2*dim, hidden) + ReLU (SurvPath: 64, usually left to the head); null: z is the concatenation' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new SurvPathFusion(options, ctx),
};
