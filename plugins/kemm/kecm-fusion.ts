import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { roleTokens, roleWidths, warnUnusedModalities } from '../../core/model/fusion-inputs.js';
import { MultiHeadAttention } from '../../core/model/multi-head-attention.js';

export interface KecmFusionOptions {
  knowledge: string | null;
  pathology: string;
  genomic: string;
  dim: number;
  heads: number;
  dropout: number;
  alignWeight: number;
}

const DEFAULTS: KecmFusionOptions = { knowledge: 'knowledge', pathology: 'wsi', genomic: 'rna', dim: 128, heads: 4, dropout: 0.1, alignWeight: 0 };

/** Epsilon on the squared norms of the alignment cosine (as PyTorch's CosineEmbeddingLoss). */
const COSINE_EPS = 1e-12;

/** Standard deviation of the learned query's initial values (as a ViT class token). */
const QUERY_INIT_SD = 0.02;

/** One attended modality: its token projection, the cross-attention from the queries, and its gate. */
interface Branch {
  projection: Dense;
  attention: MultiHeadAttention;
  gate: Dense;
}

interface Built {
  widths: { knowledge: number | null; pathology: number; genomic: number };
  /** Null when the knowledge role is off (`knowledge: null`). */
  knowledgeProjection: Dense | null;
  /** The learned query token [1, dim]. */
  query: tf.Variable;
  pathology: Branch;
  genomic: Branch;
}

/** What one branch computed for a case (tensors owned by the enclosing tidy). */
interface BranchResult {
  /** Projected tokens [n, dim] and their mean [1, dim]. */
  tokens: tf.Tensor2D;
  pooled: tf.Tensor2D;
  /** Attention weights [n_q, n] (mean over heads; rows sum to 1). */
  weights: tf.Tensor2D;
  /** Gate [1, dim] in (0, 1). */
  gate: tf.Tensor2D;
  /** gate * mean of the attended query outputs [1, dim]. */
  gated: tf.Tensor2D;
}

interface Forward {
  /** Projected knowledge tokens [n_k, dim], null without knowledge. */
  knowledge: tf.Tensor2D | null;
  /** The query tokens [1 + n_k, dim]: the learned query, then the knowledge tokens. */
  queries: tf.Tensor2D;
  /** Knowledge summary k = mean of the queries [1, dim]. */
  summary: tf.Tensor2D;
  pathology: BranchResult | null;
  genomic: BranchResult | null;
}

/** Plain values of one case's KECM intermediates (eval mode), for reports and tests. */
export interface KecmExplanation {
  /** Query tokens: 1 (the learned query) + the number of knowledge tokens. */
  queries: number;
  /** [n_q][n_p] attention rows of the knowledge -> pathology attention (row 0: the learned query); null without pathology. */
  pathologyWeights: number[][] | null;
  genomicWeights: number[][] | null;
  /** The gates [dim] on the attended pathology / genomic vectors; null without that modality. */
  pathologyGate: Float32Array | null;
  genomicGate: Float32Array | null;
}

/**
 * KEMM's knowledge-enhanced cross-modal (KECM) attention (Zhao et al., arXiv 2512.14594). The paper says only that
 * KECM uses expert-report and background-knowledge texts to guide the network toward survival-relevant features of
 * the redundant pathology and genomic modalities; its code is unpublished, so everything below is a choice here
 * (METHODS.md, "KEMM"):
 *
 *   K' = Linear(K), P' = Linear(P), G' = Linear(G)               every modality's tokens projected to dim
 *   Q  = [q; K']                                                  q: a learned query token [1, dim]
 *   k  = mean(Q)                                                  the knowledge summary [1, dim]
 *   A_P = mean_rows(MHA_P(Q -> P')),  A_G = mean_rows(MHA_G(Q -> G'))
 *        (multi-head cross-attention, knowledge tokens as queries, softmax over the patch / genomic tokens)
 *   g_P = sigmoid(W_P [k, mean(P')] + b_P),  g_G likewise        knowledge-conditioned gates [1, dim]
 *   z  = [g_P * A_P, g_G * A_G, k]                                [1, 3*dim]
 *
 * The learned query q (choice here): always one of the queries, so it trains on every case; a case without
 * knowledge tokens (no report, no PBK, or the no-knowledge ablation without a knowledge encoder) is attended by q
 * alone, and k = q. A missing pathology or genomic modality contributes zeros to its part of z. A case with none of
 * the three modalities is an error. `knowledge: null` turns the knowledge role off (the no-knowledge ablation without
 * a knowledge encoder): q is then the only query for every case.
 *
 * Attention maps: 'knowledge->pathology' [n_p] and 'knowledge->genomic' [n_g]: the softmax weights (mean over heads)
 * averaged over the query tokens, the learned query included, so each sums to 1 (for heatmaps, top patches).
 * auxLoss (alignWeight > 0, knowledge and pathology present; choice here, the paper's optional alignment):
 * alignWeight * (1 - cos(mean(K'), mean(P'))), pulling the case's knowledge embedding toward its pathology embedding.
 * The fusion sees one knowledge modality and cannot tell report tokens from PBK tokens; PBK tokens are the same for
 * every case of a type, so the case-specific report tokens carry the alignment. Dropout: on the attention weights.
 *
 * Variables, in order: knowledge projection (kernel, bias; absent with `knowledge: null`), pathology projection,
 * genomic projection, the learned query, pathology attention (q kernel, bias; k kernel; v kernel, bias; out kernel,
 * bias), pathology gate (kernel, bias), genomic attention, genomic gate.
 */
export class KecmFusion implements Fusion {
  private readonly options: KecmFusionOptions;
  private built: Built | null = null;

  constructor(options: Partial<KecmFusionOptions>, private readonly ctx: BuildContext) {
    this.options = { ...DEFAULTS, ...options };
    const { dim, heads, dropout, alignWeight } = this.options;
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${ctx.path}.dim: expected a positive integer, found ${dim}`);
    if (!Number.isInteger(heads) || heads <= 0) throw new Error(`${ctx.path}.heads: expected a positive integer, found ${heads}`);
    if (dim % heads !== 0) throw new Error(`${ctx.path}: dim (${dim}) must be a multiple of heads (${heads})`);
    if (!(dropout >= 0 && dropout < 1)) throw new Error(`${ctx.path}.dropout: expected a rate in [0, 1), found ${dropout}`);
    if (!(alignWeight >= 0)) throw new Error(`${ctx.path}.alignWeight: expected a weight >= 0 (0 = no alignment term), found ${alignWeight}`);
  }

  get outDim(): number {
    return 3 * this.options.dim;
  }

  get variables(): tf.Variable[] {
    const b = this.built;
    if (!b) return [];
    const branch = (x: Branch) => [...x.attention.variables, ...x.gate.variables];
    return [
      ...(b.knowledgeProjection?.variables ?? []), ...b.pathology.projection.variables, ...b.genomic.projection.variables,
      b.query, ...branch(b.pathology), ...branch(b.genomic),
    ];
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.dispose();
    const { knowledge, pathology, genomic, dim, heads, dropout } = this.options;
    if (knowledge !== null && !inputDims.has(knowledge)) {
      throw new Error(`${this.ctx.path}: the 'kemm.kecm' fusion needs knowledge tokens of modality '${knowledge}' (option 'knowledge'), but no encoder ` +
        `is configured for it; configured: ${[...inputDims.keys()].join(', ') || 'none'}. Add encoders.${knowledge} (e.g. { "type": "text-embedding", ` +
        `"roles": ["report", "pbk"] }), name the knowledge encoder's key in 'knowledge', or set 'knowledge' to null for the no-knowledge ablation`);
    }
    const roles: Record<string, string> = knowledge === null ? { pathology, genomic } : { knowledge, pathology, genomic };
    const found = roleWidths(inputDims, roles, this.ctx.path, 'kemm.kecm') as { knowledge?: number; pathology: number; genomic: number };
    const widths = { knowledge: found.knowledge ?? null, pathology: found.pathology, genomic: found.genomic };
    warnUnusedModalities(inputDims, Object.values(roles), this.ctx.path, 'kemm.kecm', this.ctx.logger);
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const random = this.ctx.random;
    const name = (label: string) => `${this.ctx.path}.${label}`;
    const dense = (label: string, inDim: number, outDim: number) =>
      new Dense({ inDim, outDim, init: 'glorot-normal', random: random.fork(label), explicitTranspose, name: name(label) });
    const branch = (label: 'pathology' | 'genomic'): Branch => ({
      projection: dense(`${label}-projection`, widths[label], dim),
      attention: new MultiHeadAttention({ dim, heads, dropout, random: random.fork(`${label}-attention`), explicitTranspose, name: name(`${label}-attention`) }),
      gate: dense(`${label}-gate`, 2 * dim, dim),
    });
    const queryRandom = random.fork('query');
    const initial = Float32Array.from({ length: dim }, () => queryRandom.normal(0, QUERY_INIT_SD));
    const knowledgeProjection = widths.knowledge === null ? null : dense('knowledge-projection', widths.knowledge, dim);
    const pathologyBranch = branch('pathology');
    const genomicBranch = branch('genomic');
    const query = tf.tidy(() => tf.variable(tf.tensor2d(initial, [1, dim]), true));
    this.built = { widths, knowledgeProjection, query, pathology: pathologyBranch, genomic: genomicBranch };
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput {
    const b = this.requireBuilt('fuse');
    const { dim, alignWeight } = this.options;
    const inputs = this.inputs(b, tokens);
    return tf.tidy(() => {
      const f = this.forward(b, inputs, mode);
      const zeros = () => tf.zeros([1, dim]) as tf.Tensor2D;
      const result: FusionOutput = {
        z: tf.concat([f.pathology?.gated ?? zeros(), f.genomic?.gated ?? zeros(), f.summary], 1) as tf.Tensor2D,
      };
      const attention: Record<string, tf.Tensor> = {};
      if (f.pathology) attention['knowledge->pathology'] = tf.mean(f.pathology.weights, 0);
      if (f.genomic) attention['knowledge->genomic'] = tf.mean(f.genomic.weights, 0);
      if (Object.keys(attention).length) result.attention = attention;
      if (alignWeight > 0 && f.knowledge && f.pathology) {
        const a = tf.mean(f.knowledge, 0);
        const p = tf.squeeze(f.pathology.pooled, [0]);
        const norms = tf.sqrt(tf.mul(tf.add(tf.sum(tf.square(a)), COSINE_EPS), tf.add(tf.sum(tf.square(p)), COSINE_EPS)));
        const cos = tf.div(tf.sum(tf.mul(a, p)), norms);
        result.auxLoss = tf.mul(tf.sub(1, cos), alignWeight) as tf.Scalar;
      }
      return result as unknown as tf.TensorContainer;
    }) as unknown as FusionOutput;
  }

  /** The case's attention rows and gates as plain values (eval mode); nothing is left allocated. */
  explain(tokens: ReadonlyMap<string, tf.Tensor2D>): KecmExplanation {
    const b = this.requireBuilt('explain');
    const inputs = this.inputs(b, tokens);
    const rows = (t: tf.Tensor2D): number[][] => t.arraySync();
    const gate = (t: tf.Tensor2D): Float32Array => Float32Array.from(t.dataSync() as Float32Array);
    let out: KecmExplanation | undefined;
    tf.tidy(() => {
      const f = this.forward(b, inputs, 'eval');
      out = {
        queries: f.queries.shape[0],
        pathologyWeights: f.pathology ? rows(f.pathology.weights) : null,
        genomicWeights: f.genomic ? rows(f.genomic.weights) : null,
        pathologyGate: f.pathology ? gate(f.pathology.gate) : null,
        genomicGate: f.genomic ? gate(f.genomic.gate) : null,
      };
    });
    return out!;
  }

  dispose(): void {
    const b = this.built;
    if (!b) return;
    b.knowledgeProjection?.dispose();
    b.query.dispose();
    for (const x of [b.pathology, b.genomic]) {
      x.projection.dispose();
      x.attention.dispose();
      x.gate.dispose();
    }
    this.built = null;
  }

  private requireBuilt(what: string): Built {
    if (!this.built) throw new Error(`${this.ctx.path}: call build(inputDims) before ${what}`);
    return this.built;
  }

  private inputs(b: Built, tokens: ReadonlyMap<string, tf.Tensor2D>) {
    const { knowledge, pathology, genomic } = this.options;
    const k = knowledge === null || b.widths.knowledge === null ? null : roleTokens(tokens, knowledge, b.widths.knowledge, this.ctx.path);
    const p = roleTokens(tokens, pathology, b.widths.pathology, this.ctx.path);
    const g = roleTokens(tokens, genomic, b.widths.genomic, this.ctx.path);
    if (!k && !p && !g) {
      const names = [knowledge, pathology, genomic].filter((m) => m !== null).map((m) => `'${m}'`).join(', ');
      throw new Error(`${this.ctx.path}: the case has none of ${names}; the kemm.kecm fusion needs at least one`);
    }
    return { k, p, g };
  }

  /** The KECM computation (see the class comment); call inside tf.tidy. */
  private forward(b: Built, inputs: { k: tf.Tensor2D | null; p: tf.Tensor2D | null; g: tf.Tensor2D | null }, mode: Mode): Forward {
    const knowledge = inputs.k && b.knowledgeProjection ? b.knowledgeProjection.apply(inputs.k) : null;
    const queries = knowledge ? (tf.concat([b.query, knowledge], 0) as tf.Tensor2D) : (b.query as tf.Tensor2D);
    const summary = tf.mean(queries, 0, true) as tf.Tensor2D;
    const run = (x: tf.Tensor2D | null, branch: Branch): BranchResult | null => {
      if (!x) return null;
      const tokens = branch.projection.apply(x);
      const pooled = tf.mean(tokens, 0, true) as tf.Tensor2D;
      const { out, weights } = branch.attention.apply(queries, tokens, mode);
      const attended = tf.mean(out, 0, true) as tf.Tensor2D;
      const gate = tf.sigmoid(branch.gate.apply(tf.concat([summary, pooled], 1) as tf.Tensor2D)) as tf.Tensor2D;
      return { tokens, pooled, weights, gate, gated: tf.mul(gate, attended) as tf.Tensor2D };
    };
    return { knowledge, queries, summary, pathology: run(inputs.p, b.pathology), genomic: run(inputs.g, b.genomic) };
  }
}

export const kecmFusionSpec: ComponentSpec<'fusion', KecmFusionOptions> = {
  id: 'kemm.kecm',
  /** The modality keys of the default roles (configs may map the roles to other keys). */
  modalities: ['knowledge', 'wsi', 'rna'],
  description: 'KEMM knowledge-enhanced cross-modal attention: knowledge tokens attend over patch and genomic tokens, knowledge-conditioned gates',
  optionsSchema: {
    type: 'object',
    properties: {
      knowledge: {
        type: ['string', 'null'], minLength: 1, default: DEFAULTS.knowledge,
        description: 'Modality (encoders key) of the knowledge tokens (embedded report statements and background facts), the queries; null: no knowledge role (ablation: the learned query alone)',
      },
      pathology: { type: 'string', minLength: 1, default: DEFAULTS.pathology, description: 'Modality (encoders key) of the patch tokens' },
      genomic: { type: 'string', minLength: 1, default: DEFAULTS.genomic, description: 'Modality (encoders key) of the genomic tokens' },
      dim: { type: 'integer', minimum: 1, default: DEFAULTS.dim, description: 'Width every modality is projected to; z has 3*dim values' },
      heads: { type: 'integer', minimum: 1, default: DEFAULTS.heads, description: 'Heads of each cross-attention; dim must be a multiple' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: DEFAULTS.dropout, description: 'Dropout on the cross-attention weights in training' },
      alignWeight: {
        type: 'number', minimum: 0, default: DEFAULTS.alignWeight,
        description: 'Weight of the alignment term alignWeight * (1 - cos(mean knowledge token, mean patch token)) added to the loss (0 = off)',
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new KecmFusion(options, ctx),
};
