import { isAbsolute, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Case, RnaProfile } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { readGmt } from '../../core/data/gmt.js';
import { cohortGeneOrder } from '../../core/data/rna.js';
import { Dense, initKernel } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { alphaDropout } from '../../core/model/dropout.js';

export interface PathwaysEncoderOptions {
  gmt: string | null;
  mode: 'pathways' | 'whole';
  dim: number;
  hidden: number;
  activation: 'elu' | 'selu';
  dropout: number;
  scale: 'minmax-global' | 'none';
}

/** What fit() learns; restore(state) rebuilds the same variables from it (the GMT file is not read again). */
export interface PathwaysState {
  mode: 'pathways' | 'whole';
  /** Gene order of the model's input vector (sorted). */
  genes: string[];
  /** Kept pathways in GMT order, with their genes as indices into `genes`; 'whole': one entry with every gene. */
  pathways: { name: string; genes: number[] }[];
  /** MinMaxScaler(-1, 1) over all training values of `genes` (one global min and max), or null (no scaling). */
  scaler: { min: number; max: number } | null;
}

const GMT_LINE = 'name<TAB>description<TAB>gene1<TAB>gene2...';

/** Padded input width of a pathway with g genes: the smallest of 1, 2, 3, 4, 6, 8, 12, 16, 24, ... that is >= g. */
export function bucketWidth(g: number): number {
  if (g <= 1) return 1;
  let p = 1;
  while (p * 2 < g) p *= 2; // p < g <= 2p
  return p >= 2 && p * 1.5 >= g ? p * 1.5 : 2 * p;
}

interface Bucket {
  width: number;
  /** Pathway indices (GMT order) in this bucket. */
  members: number[];
}

/** Variables and constants built from a state. */
interface Net {
  buckets: Bucket[];
  /** Whole mode: two Dense layers. Pathways mode: per-bucket first-layer kernels [n_b, width, hidden] ... */
  dense?: [Dense, Dense];
  w1?: tf.Variable[];
  b1?: tf.Variable;
  w2?: tf.Variable;
  b2?: tf.Variable;
  /** [P, P] permutation taking bucket order back to GMT order (null when they coincide). */
  perm?: tf.Tensor2D | null;
}

/**
 * SurvPath's genomic tokeniser: one SNN per pathway (Linear(genes -> hidden) -> ELU/SELU -> AlphaDropout ->
 * Linear(hidden -> dim) -> ELU/SELU -> AlphaDropout), one token per pathway; or one SNN over the whole vector.
 *
 * Implementation: no gather (no wasm gradient). A pathway's input is built in JS from the aligned, scaled gene vector
 * (it is data, not a variable), so the selection costs nothing on the tape. Pathways of similar size share a
 * "bucket" whose inputs are zero-padded to a common width (1, 2, 3, 4, 6, 8, 12, ...: at most 1.5x padding), and
 * each bucket's first layers run as ONE batched matmul [n_b, 1, width] @ [n_b, width, hidden]; the padded kernel
 * rows start at zero and receive zero gradient (their inputs are zero), so they never affect the output. The second
 * layers of all pathways are one batched matmul [P, 1, hidden] @ [P, hidden, dim]. A dense 0/1 selection matrix
 * [P, genes] would cost P x genes x hidden flops (~2.5 GFLOP for 331 pathways over ~15k memberships); per-pathway
 * slices and variables would cost ~1300 small ops plus ~1300 optimizer updates per step.
 */
export class PathwaysEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private fitted: PathwaysState | null = null;
  private net: Net | null = null;
  private cache = new WeakMap<RnaProfile, Float32Array>();
  private readonly dropoutRandom: RandomSource;

  constructor(private readonly options: PathwaysEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'rna') {
      throw new Error(`${ctx.path}: the 'pathways' encoder reads RNA expression ('rna'), found modality '${this.modality}'. Configure it under encoders.rna.`);
    }
    this.outDim = options.dim;
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  /** Names of the pathways, in token order. */
  get pathwayNames(): string[] {
    return this.fitted?.pathways.map((p) => p.name) ?? [];
  }

  get variables(): tf.Variable[] {
    const n = this.net;
    if (!n) return [];
    if (n.dense) return [...n.dense[0].variables, ...n.dense[1].variables];
    return [...n.w1!, n.b1!, n.w2!, n.b2!];
  }

  fit(train: readonly Case[]): void {
    const p = this.ctx.path;
    const profiles = train.flatMap((c) => (c.rna ? [c.rna] : []));
    if (profiles.length === 0) throw new Error(`${p}: no training case has RNA; remove encoders.rna or add RNA files`);
    const cohort = cohortGeneOrder(profiles);
    const { mode, gmt } = this.options;
    let genes: string[];
    let sets: { name: string; genes: string[] }[];
    if (gmt === null) {
      if (mode === 'pathways') {
        throw new Error(`${p}.gmt is required for mode 'pathways': the path of a GMT gene-set file with one pathway per line, ` +
          `'${GMT_LINE}' (relative paths resolve against the working directory, ${process.cwd()}). Or set mode: 'whole'.`);
      }
      genes = cohort;
      sets = [{ name: 'whole', genes }];
    } else {
      const path = isAbsolute(gmt) ? gmt : resolve(process.cwd(), gmt);
      sets = this.keepPresent(readGmt(path), new Set(cohort), path);
      genes = [...new Set(sets.flatMap((s) => s.genes))].sort();
      if (mode === 'whole') sets = [{ name: 'whole', genes }];
    }
    const index = new Map(genes.map((g, i) => [g, i]));
    const pathways = sets.map((s) => ({ name: s.name, genes: s.genes.map((g) => index.get(g)!) }));
    const scaler = this.options.scale === 'none' ? null : globalMinMax(profiles, genes, p);
    this.build({ mode, genes, pathways, scaler });
  }

  /** Drop GMT genes absent from the cohort and pathways left empty; warn once with counts. */
  private keepPresent(sets: { name: string; genes: string[] }[], cohort: Set<string>, path: string): { name: string; genes: string[] }[] {
    const gmtGenes = new Set(sets.flatMap((s) => s.genes));
    const absent = [...gmtGenes].filter((g) => !cohort.has(g));
    const kept = sets.map((s) => ({ name: s.name, genes: s.genes.filter((g) => cohort.has(g)) }));
    const empty = kept.filter((s) => s.genes.length === 0).map((s) => s.name);
    const left = kept.filter((s) => s.genes.length > 0);
    if (left.length === 0) {
      throw new Error(`${this.ctx.path}: no pathway of ${path} has a gene in the training cohort's RNA (${gmtGenes.size} GMT genes, e.g. ` +
        `${[...gmtGenes].slice(0, 3).join(', ')}; ${cohort.size} cohort genes, e.g. ${[...cohort].slice(0, 3).join(', ')}). ` +
        'Check that both use the same gene identifiers (symbols vs Ensembl ids).');
    }
    if (absent.length > 0) {
      const touched = sets.filter((s) => s.genes.some((g) => !cohort.has(g))).length;
      this.ctx.logger.warn(`${this.ctx.path}: ${absent.length} of ${gmtGenes.size} genes of ${path} are absent from the training cohort's RNA and were dropped from ${touched} of ${sets.length} pathways (e.g. ${absent.slice(0, 5).join(', ')})`);
    }
    if (empty.length > 0) {
      this.ctx.logger.warn(`${this.ctx.path}: ${empty.length} of ${sets.length} pathways of ${path} have no gene in the training cohort's RNA and were dropped: ${empty.slice(0, 10).join(', ')}${empty.length > 10 ? ', ...' : ''}`);
    }
    return left;
  }

  state(): PathwaysState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    const s = state as PathwaysState | null;
    const ok = s && (s.mode === 'pathways' || s.mode === 'whole') && Array.isArray(s.genes) && Array.isArray(s.pathways) && s.pathways.length > 0 &&
      s.pathways.every((pw) => typeof pw.name === 'string' && Array.isArray(pw.genes) && pw.genes.length > 0 && pw.genes.every((i) => Number.isInteger(i) && i >= 0 && i < s.genes.length));
    if (!ok) throw new Error(`${this.ctx.path}: restore expects the state saved by the pathways encoder ({ mode, genes, pathways: [{ name, genes: [index] }], scaler }), found an invalid value`);
    this.build(s);
  }

  private build(state: PathwaysState): void {
    this.disposeNet();
    this.fitted = state;
    this.cache = new WeakMap();
    const { hidden, dim } = this.options;
    const init = this.ctx.random.fork('init');
    if (state.mode === 'whole') {
      const common = { init: 'lecun-normal' as const, explicitTranspose: explicitTransposeIn(this.ctx) };
      this.net = {
        buckets: [],
        dense: [
          new Dense({ ...common, inDim: state.genes.length, outDim: hidden, random: init.fork('fc1'), name: `${this.ctx.path}.fc1` }),
          new Dense({ ...common, inDim: hidden, outDim: dim, random: init.fork('fc2'), name: `${this.ctx.path}.fc2` }),
        ],
      };
      return;
    }
    const P = state.pathways.length;
    const byWidth = new Map<number, number[]>();
    state.pathways.forEach((pw, i) => {
      const w = bucketWidth(pw.genes.length);
      byWidth.set(w, [...(byWidth.get(w) ?? []), i]);
    });
    const buckets = [...byWidth.entries()].sort((a, b) => a[0] - b[0]).map(([width, members]) => ({ width, members }));
    // per pathway, its own stream: first-layer kernel (LeCun normal over its real genes), then second-layer kernel
    const w1Data = buckets.map((b) => new Float32Array(b.members.length * b.width * hidden));
    const w2Data = new Float32Array(P * hidden * dim);
    buckets.forEach((b, bi) => b.members.forEach((pi, slot) => {
      const pw = state.pathways[pi]!;
      const rng = init.fork(`pathway:${pw.name}`);
      w1Data[bi]!.set(initKernel('lecun-normal', pw.genes.length, hidden, rng), slot * b.width * hidden);
      w2Data.set(initKernel('lecun-normal', hidden, dim, rng), pi * hidden * dim);
    }));
    const order = buckets.flatMap((b) => b.members);
    let perm: tf.Tensor2D | null = null;
    if (order.some((pi, k) => pi !== k)) {
      const m = new Float32Array(P * P);
      order.forEach((pi, k) => { m[pi * P + k] = 1; });
      perm = tf.tensor2d(m, [P, P]);
    }
    this.net = {
      buckets,
      w1: buckets.map((b, bi) => tf.tidy(() => tf.variable(tf.tensor3d(w1Data[bi]!, [b.members.length, b.width, hidden]), true))),
      b1: tf.tidy(() => tf.variable(tf.zeros([P, hidden]), true)),
      w2: tf.tidy(() => tf.variable(tf.tensor3d(w2Data, [P, hidden, dim]), true)),
      b2: tf.tidy(() => tf.variable(tf.zeros([P, dim]), true)),
      perm,
    };
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    if (!this.net || !this.fitted) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    if (!c.rna) return null;
    const x = this.input(c.rna);
    const net = this.net;
    const state = this.fitted;
    const { hidden, dim, dropout } = this.options;
    const act = (t: tf.Tensor) => (this.options.activation === 'selu' ? tf.selu(t) : tf.elu(t));
    const drop = <T extends tf.Tensor>(t: T) => alphaDropout(t, dropout, this.dropoutRandom, mode);
    return tf.tidy(() => {
      if (net.dense) {
        const h = drop(act(net.dense[0].apply(tf.tensor2d(x, [1, x.length]))) as tf.Tensor2D);
        return drop(act(net.dense[1].apply(h)) as tf.Tensor2D);
      }
      const P = state.pathways.length;
      const parts = net.buckets.map((b, bi) => {
        const input = new Float32Array(b.members.length * b.width);
        b.members.forEach((pi, slot) => state.pathways[pi]!.genes.forEach((g, j) => { input[slot * b.width + j] = x[g]!; }));
        const y = tf.matMul(tf.tensor3d(input, [b.members.length, 1, b.width]), net.w1![bi]! as tf.Tensor3D);
        return tf.reshape(y, [b.members.length, hidden]) as tf.Tensor2D;
      });
      let h = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      if (net.perm) h = tf.matMul(net.perm, h);
      h = drop(act(tf.add(h, net.b1!)) as tf.Tensor2D);
      const y = tf.reshape(tf.matMul(tf.reshape(h, [P, 1, hidden]) as tf.Tensor3D, net.w2! as tf.Tensor3D), [P, dim]);
      return drop(act(tf.add(y, net.b2!)) as tf.Tensor2D);
    });
  }

  /** The case's values in the fitted gene order, scaled; missing genes and NaN -> 0 (the middle of [-1, 1]). */
  private input(rna: RnaProfile): Float32Array {
    const hit = this.cache.get(rna);
    if (hit) return hit;
    const { genes, scaler } = this.fitted!;
    const index = new Map<string, number>();
    rna.genes.forEach((g, i) => index.set(g, i));
    const span = scaler ? scaler.max - scaler.min || 1 : 1;
    const out = new Float32Array(genes.length);
    genes.forEach((g, k) => {
      const i = index.get(g);
      const v = i === undefined ? NaN : rna.values[i]!;
      if (Number.isNaN(v)) return;
      out[k] = scaler ? ((v - scaler.min) / span) * 2 - 1 : v;
    });
    this.cache.set(rna, out);
    return out;
  }

  private disposeNet(): void {
    const n = this.net;
    if (!n) return;
    n.dense?.forEach((d) => d.dispose());
    for (const t of [...(n.w1 ?? []), n.b1, n.w2, n.b2, n.perm]) t?.dispose();
    this.net = null;
  }

  dispose(): void {
    this.disposeNet();
  }
}

/** One min and max over every non-missing training value of `genes` (sklearn MinMaxScaler on the flattened matrix). */
function globalMinMax(profiles: RnaProfile[], genes: string[], where: string): { min: number; max: number } {
  const wanted = new Set(genes);
  let min = Infinity;
  let max = -Infinity;
  for (const p of profiles) {
    p.genes.forEach((g, i) => {
      const v = p.values[i]!;
      if (!wanted.has(g) || Number.isNaN(v)) return;
      if (v < min) min = v;
      if (v > max) max = v;
    });
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`${where}: the training RNA has no finite value for the ${genes.length} model genes; cannot fit the min-max scaler`);
  return { min, max };
}

export const pathwaysEncoderSpec: ComponentSpec<'encoder', PathwaysEncoderOptions> = {
  id: 'pathways',
  description: 'SurvPath genomic tokeniser: one SNN per GMT pathway over min-max scaled RNA, one token per pathway',
  modalities: ['rna'],
  optionsSchema: {
    type: 'object',
    properties: {
      gmt: {
        type: ['string', 'null'],
        default: null,
        description: `GMT gene-set file, one pathway per line '${GMT_LINE}'; relative paths resolve against the working directory. Required for mode 'pathways'; in mode 'whole' it restricts the input to the GMT genes`,
      },
      mode: { enum: ['pathways', 'whole'], default: 'pathways', description: "'pathways': one SNN and one token per pathway; 'whole': one SNN over the whole aligned vector, one token" },
      dim: { type: 'integer', minimum: 1, default: 256, description: 'Width of each output token' },
      hidden: { type: 'integer', minimum: 1, default: 256, description: 'Hidden width of each SNN' },
      activation: { enum: ['elu', 'selu'], default: 'elu', description: "'elu' as SurvPath's SNN_Block, or 'selu' as Klambauer et al." },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.25, description: 'AlphaDropout rate after each activation' },
      scale: { enum: ['minmax-global', 'none'], default: 'minmax-global', description: "'minmax-global': one MinMaxScaler(-1, 1) fitted on all training values (as SurvPath); 'none': raw values" },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new PathwaysEncoder(options, ctx),
};
