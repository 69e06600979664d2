import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { roleTokens, roleWidths, warnUnusedModalities } from '../../core/model/fusion-inputs.js';
import { FeedForwardNorm, SurvPathAttention } from '../../core/model/survpath-attention.js';

export interface DualPathFusionOptions {
  clinical: string;
  genomic: string;
  pathology: string;
  dim: number;
  dropout: number;
  sharedFeedForward: boolean;
  beta: number;
  margin: number;
}

const DEFAULTS: DualPathFusionOptions = {
  clinical: 'clinical', genomic: 'rna', pathology: 'wsi', dim: 128, dropout: 0.1, sharedFeedForward: true, beta: 0, margin: 0.2,
};

/** PyTorch CosineEmbeddingLoss's epsilon on the squared norms. */
const COSINE_EPS = 1e-12;

interface Built {
  widths: { clinical: number; genomic: number; pathology: number };
  clinicalProjection: Dense | null;
  genomicProjection: Dense | null;
  sharedPost: FeedForwardNorm | null;
  clinicalPath: SurvPathAttention;
  genomicPath: SurvPathAttention;
}

/**
 * SurvPGC's dual-path bidirectional cross-attention (Hou et al., npj Digital Medicine 2025; Houjiaxin123/SurvPGC
 * `SurvPGC_F`). Path 1 pairs clinical tokens C (embedded prompt sentences) with patch tokens P, path 2 genomic
 * tokens G with P; each path is SurvPath's attention layer (core/model/survpath-attention: C attends to [C; P] under
 * one softmax, P attends to C only, no P->P block), and by default both paths share one FeedForward + LayerNorm
 * block, as in the repo. z = [mean C->P side, mean P->C side, mean G->P side, mean P->G side], [1, 4*dim] (the repo
 * concatenates the genomic path first; the order is immaterial to a Linear head).
 *
 * auxLoss (beta > 0, both paths present): beta * max(0, cos(e1, e2) - margin) with e1 = [C mean, P->C mean],
 * e2 = [G mean, P->G mean]: CosineEmbeddingLoss(margin, target -1), which pushes the two path embeddings apart. The
 * repo trains (1 - beta) * NLL + beta * cosine; the trainer adds auxLoss to the unscaled head loss, so beta here
 * weighs the cosine term against NLL with weight 1 (scale beta by 1 / (1 - beta) to reproduce the repo's ratio).
 *
 * Widths (choice): the attention works at the pathology token width; clinical or genomic tokens of another width are
 * first mapped to it by a learned Linear (the repo's projection nets). Missing modality (choice): a path whose
 * clinical (genomic) tokens are missing contributes zeros for both of its means and the aux term is skipped; without
 * pathology each path's C (G) tokens attend to each other only and the P-side means are zeros; with only pathology,
 * each path's P side uses the patches' own value vectors (nothing to attend to) so z still carries the slide.
 * Attention maps: 'clinical->pathology' and 'genomic->pathology' [n_p] (softmax weight per patch summed over the
 * query tokens, for heatmaps), 'pathology->clinical' [n_c] and 'pathology->genomic' [n_g] (summed over patches).
 * Variables, in order: clinical projection, genomic projection (when widths differ), the shared post block (when
 * shared), path 1 (LayerNorm, to_qkv[, post]), path 2.
 */
export class DualPathFusion implements Fusion {
  private readonly options: DualPathFusionOptions;
  private built: Built | null = null;

  constructor(options: Partial<DualPathFusionOptions>, private readonly ctx: BuildContext) {
    this.options = { ...DEFAULTS, ...options };
    const { dim, dropout, beta, margin } = this.options;
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${ctx.path}.dim: expected a positive integer, found ${dim}`);
    if (!(dropout >= 0 && dropout < 1)) throw new Error(`${ctx.path}.dropout: expected a rate in [0, 1), found ${dropout}`);
    if (!(beta >= 0 && beta <= 1)) throw new Error(`${ctx.path}.beta: expected a weight in [0, 1] (SurvPGC: 0.3), found ${beta}`);
    if (!(margin >= -1 && margin <= 1)) throw new Error(`${ctx.path}.margin: expected a cosine margin in [-1, 1], found ${margin}`);
  }

  get outDim(): number {
    return 4 * this.options.dim;
  }

  get variables(): tf.Variable[] {
    const b = this.built;
    if (!b) return [];
    return [
      ...(b.clinicalProjection?.variables ?? []), ...(b.genomicProjection?.variables ?? []), ...(b.sharedPost?.variables ?? []),
      ...b.clinicalPath.variables, ...b.genomicPath.variables,
    ];
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.dispose();
    const { clinical, genomic, pathology, dim, dropout, sharedFeedForward } = this.options;
    const widths = roleWidths(inputDims, { clinical, genomic, pathology }, this.ctx.path, 'survpgc.dual-path');
    warnUnusedModalities(inputDims, [clinical, genomic, pathology], this.ctx.path, 'survpgc.dual-path', this.ctx.logger);
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const random = this.ctx.random;
    const name = (label: string) => `${this.ctx.path}.${label}`;
    const projection = (label: string, inDim: number) => inDim === widths.pathology ? null : new Dense({
      inDim, outDim: widths.pathology, init: 'glorot-normal', random: random.fork(label), explicitTranspose, name: name(label),
    });
    const clinicalProjection = projection('clinical-projection', widths.clinical);
    const genomicProjection = projection('genomic-projection', widths.genomic);
    const sharedPost = sharedFeedForward
      ? new FeedForwardNorm({ dim, dropout, random: random.fork('post'), explicitTranspose, name: name('post') })
      : null;
    const path = (label: string) => new SurvPathAttention({
      inDim: widths.pathology, dim, dropout, random: random.fork(label), explicitTranspose, name: name(label), ...(sharedPost ? { post: sharedPost } : {}),
    });
    this.built = { widths, clinicalProjection, genomicProjection, sharedPost, clinicalPath: path('clinical-path'), genomicPath: path('genomic-path') };
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput {
    const b = this.built;
    if (!b) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const { clinical, genomic, pathology, dim, beta, margin } = this.options;
    const cIn = roleTokens(tokens, clinical, b.widths.clinical, this.ctx.path);
    const gIn = roleTokens(tokens, genomic, b.widths.genomic, this.ctx.path);
    const p = roleTokens(tokens, pathology, b.widths.pathology, this.ctx.path);
    if (!cIn && !gIn && !p) {
      throw new Error(`${this.ctx.path}: the case has none of '${clinical}', '${genomic}', '${pathology}'; the survpgc.dual-path fusion needs at least one`);
    }
    return tf.tidy(() => {
      const c = cIn && b.clinicalProjection ? b.clinicalProjection.apply(cIn) : cIn;
      const g = gIn && b.genomicProjection ? b.genomicProjection.apply(gIn) : gIn;
      const pathologyOnly = !c && !g;
      const zeros = () => tf.zeros([1, dim]) as tf.Tensor2D;
      const mean = (x: tf.Tensor2D | null) => (x ? (tf.mean(x, 0, true) as tf.Tensor2D) : zeros());
      const attention: Record<string, tf.Tensor> = {};
      const runPath = (layer: SurvPathAttention, a: tf.Tensor2D | null, role: 'clinical' | 'genomic'): [tf.Tensor2D, tf.Tensor2D] => {
        if (!a && !pathologyOnly) return [zeros(), zeros()];
        const out = layer.apply(a, p, mode);
        if (out.aToP && out.pToA) {
          attention[`${role}->pathology`] = out.aToP;
          attention[`pathology->${role}`] = tf.sum(out.pToA, 0);
        }
        return [mean(out.a), mean(out.p)];
      };
      const path1 = runPath(b.clinicalPath, c, 'clinical');
      const path2 = runPath(b.genomicPath, g, 'genomic');
      const result: FusionOutput = { z: tf.concat([...path1, ...path2], 1) as tf.Tensor2D };
      if (Object.keys(attention).length) result.attention = attention;
      if (beta > 0 && c && g) {
        const e1 = tf.concat(path1, 1);
        const e2 = tf.concat(path2, 1);
        const norms = tf.sqrt(tf.mul(tf.add(tf.sum(tf.square(e1)), COSINE_EPS), tf.add(tf.sum(tf.square(e2)), COSINE_EPS)));
        const cos = tf.div(tf.sum(tf.mul(e1, e2)), norms);
        result.auxLoss = tf.mul(tf.relu(tf.sub(cos, margin)), beta) as tf.Scalar;
      }
      return result as unknown as tf.TensorContainer;
    }) as unknown as FusionOutput;
  }

  dispose(): void {
    const b = this.built;
    if (!b) return;
    b.clinicalProjection?.dispose();
    b.genomicProjection?.dispose();
    b.clinicalPath.dispose();
    b.genomicPath.dispose();
    b.sharedPost?.dispose();
    this.built = null;
  }
}

export const dualPathFusionSpec: ComponentSpec<'fusion', DualPathFusionOptions> = {
  id: 'survpgc.dual-path',
  /** The modality keys of the default roles (configs may map the roles to other keys). */
  modalities: ['clinical', 'rna', 'wsi'],
  description: 'SurvPGC dual-path bidirectional cross-attention: clinical<->pathology and genomic<->pathology, token means concatenated',
  optionsSchema: {
    type: 'object',
    properties: {
      clinical: { type: 'string', minLength: 1, default: DEFAULTS.clinical, description: 'Modality (encoders key) of the clinical tokens, e.g. embedded prompt sentences (path 1)' },
      genomic: { type: 'string', minLength: 1, default: DEFAULTS.genomic, description: 'Modality (encoders key) of the genomic tokens (path 2)' },
      pathology: { type: 'string', minLength: 1, default: DEFAULTS.pathology, description: 'Modality (encoders key) of the patch tokens, shared by both paths' },
      dim: { type: 'integer', minimum: 1, default: DEFAULTS.dim, description: 'Attention head width = width of each mean; z has 4*dim values (SurvPGC: 128, half its 256-d tokens)' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: DEFAULTS.dropout, description: 'Dropout inside the FeedForward block (SurvPGC: 0.1)' },
      sharedFeedForward: { type: 'boolean', default: DEFAULTS.sharedFeedForward, description: 'Both paths share one FeedForward + LayerNorm block (as the SurvPGC repo); false: one per path' },
      beta: { type: 'number', minimum: 0, maximum: 1, default: DEFAULTS.beta, description: 'Weight of the cosine term pushing the two path embeddings apart (SurvPGC repo: 0.3; 0 = off)' },
      margin: { type: 'number', minimum: -1, maximum: 1, default: DEFAULTS.margin, description: 'CosineEmbeddingLoss margin: the term is beta * max(0, cos - margin) (SurvPGC: 0.2)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new DualPathFusion(options, ctx),
};
