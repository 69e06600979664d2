import * as tf from '@tensorflow/tfjs';
import type { Backend } from '../../core/contracts/backend.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { TOKENS } from '../../core/di/tokens.js';
import { Dense, explicitTransposeFor } from '../../core/model/dense.js';
import { dropout } from '../../core/model/dropout.js';

/** One modality pair and the width of its fused output. */
export interface BilinearPair {
  a: string;
  b: string;
  out: number;
}

export interface LowRankBilinearOptions {
  pairs: BilinearPair[];
  rank: number;
  dropout: number;
}

/** HKKH's pairs (hassancpu/ChimeraChallenge2025_Task_3, `ABMIL_Surv_PG`): WSI x RNA -> 64, WSI x clinical -> 32, RNA x clinical -> 32. */
export const DEFAULT_BILINEAR_PAIRS: readonly BilinearPair[] = [
  { a: 'wsi', b: 'rna', out: 64 },
  { a: 'wsi', b: 'clinical', out: 32 },
  { a: 'rna', b: 'clinical', out: 32 },
];

export const LOWRANK_BILINEAR_DEFAULTS: LowRankBilinearOptions = {
  pairs: DEFAULT_BILINEAR_PAIRS.map((p) => ({ ...p })),
  rank: 64,
  dropout: 0,
};

/** The three layers of one pair: out(f1(x_a) * f2(x_b)). */
export interface BilinearPairLayers {
  pair: BilinearPair;
  f1: Dense;
  f2: Dense;
  out: Dense;
}

/**
 * Low-rank bilinear pairwise fusion (team HKKH, 2nd on CHIMERA Task 3; `LowRankBilinearFusion` in their
 * models/model_abmil.py). For each configured pair (a, b):
 *
 *   out_pair = Linear_out( f1(x_a) * f2(x_b) )        f1: d_a -> rank, f2: d_b -> rank, Linear_out: rank -> out
 *
 * with every Linear biased, Xavier-normal kernels and zero biases (their `initialize_weights`). x_m is modality m's
 * tokens pooled to one vector: the mean over tokens when there are several (ABMIL, MLP and tabular encoders already
 * give one token). z is the concatenation of the pair outputs in the configured order: [1, sum of outs] (128 with
 * the defaults). `dropout` (default 0: HKKH used none here) applies to the rank-wide product in training.
 *
 * Missing modalities (our choice; HKKH's cases always had all three): every pair that involves a missing modality
 * outputs zeros (not Linear_out's bias), so z keeps its width and the other pairs are unchanged. A case with none of
 * the pairs' modalities is an error. Variables, in order: per pair f1 kernel, f1 bias, f2 kernel, f2 bias,
 * out kernel, out bias.
 */
export class LowRankBilinearFusion implements Fusion {
  readonly outDim: number;
  private readonly options: LowRankBilinearOptions;
  private layers: BilinearPairLayers[] = [];
  private inputDims: ReadonlyMap<string, number> | null = null;
  private readonly dropoutRandom: RandomSource;

  constructor(options: Partial<LowRankBilinearOptions>, private readonly ctx: BuildContext) {
    this.options = { ...LOWRANK_BILINEAR_DEFAULTS, ...options };
    const { pairs, rank, dropout: rate } = this.options;
    if (!Array.isArray(pairs) || pairs.length === 0) {
      throw new Error(`${ctx.path}.pairs: expected at least one pair { a, b, out }, found ${JSON.stringify(pairs)}`);
    }
    pairs.forEach((p, i) => {
      if (typeof p.a !== 'string' || typeof p.b !== 'string' || p.a === '' || p.b === '' || !Number.isInteger(p.out) || p.out < 1) {
        throw new Error(`${ctx.path}.pairs[${i}]: expected { "a": modality, "b": modality, "out": integer >= 1 }, found ${JSON.stringify(p)}`);
      }
    });
    if (!Number.isInteger(rank) || rank < 1) throw new Error(`${ctx.path}.rank: expected an integer >= 1, found ${rank}`);
    if (!(rate >= 0 && rate < 1)) throw new Error(`${ctx.path}.dropout: expected a rate in [0, 1), found ${rate}`);
    this.outDim = pairs.reduce((s, p) => s + p.out, 0);
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [...l.f1.variables, ...l.f2.variables, ...l.out.variables]);
  }

  /** The layers of each pair, in the configured order (empty before build). */
  pairLayers(): readonly BilinearPairLayers[] {
    return this.layers;
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    const { pairs, rank } = this.options;
    const available = [...inputDims.keys()].sort();
    pairs.forEach((p, i) => {
      for (const m of [p.a, p.b]) {
        if (!inputDims.has(m)) {
          throw new Error(
            `${this.ctx.path}.pairs[${i}] (${p.a} x ${p.b}): expected an encoder for modality '${m}', found encoders for ` +
              `${available.length ? available.join(', ') : 'no modality'}. Add encoders.${m} or set ${this.ctx.path}.pairs ` +
              `to pairs of ${available.join(', ')}.`,
          );
        }
      }
    });
    const used = new Set(pairs.flatMap((p) => [p.a, p.b]));
    const unused = available.filter((m) => !used.has(m));
    if (unused.length) {
      this.ctx.logger.warn(`${this.ctx.path}: modalities ${unused.join(', ')} are in no pair and are ignored by the fusion`);
    }
    this.disposeLayers();
    const backend = this.ctx.container.isRegistered(TOKENS.Backend, true)
      ? this.ctx.container.resolve<Backend>(TOKENS.Backend).name
      : tf.getBackend();
    const explicitTranspose = explicitTransposeFor(backend);
    this.layers = pairs.map((p, i) => {
      const name = `${this.ctx.path}.pairs[${i}](${p.a}x${p.b})`;
      const dense = (layer: string, inDim: number, outDim: number): Dense =>
        new Dense({
          inDim, outDim, init: 'glorot-normal', explicitTranspose,
          random: this.ctx.random.fork(`pair${i}:${p.a}x${p.b}/${layer}`),
          name: `${name}.${layer}`,
        });
      return {
        pair: { ...p },
        f1: dense('f1', inputDims.get(p.a)!, rank),
        f2: dense('f2', inputDims.get(p.b)!, rank),
        out: dense('out', rank, p.out),
      };
    });
    this.inputDims = new Map(inputDims);
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput {
    const dims = this.inputDims;
    if (!dims || this.layers.length === 0) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const used = [...new Set(this.layers.flatMap((l) => [l.pair.a, l.pair.b]))];
    if (!used.some((m) => tokens.has(m))) {
      throw new Error(`${this.ctx.path}: expected tokens of at least one of ${used.join(', ')}, found ` +
        `${tokens.size ? [...tokens.keys()].join(', ') : 'none'} (the case has none of the fused modalities)`);
    }
    for (const m of used) {
      const t = tokens.get(m);
      if (t && (t.rank !== 2 || t.shape[0] < 1 || t.shape[1] !== dims.get(m))) {
        throw new Error(`${this.ctx.path}: modality '${m}' tokens: expected shape [n >= 1, ${dims.get(m)}] (as built), found [${t.shape.join(', ')}]`);
      }
    }
    const rate = this.options.dropout;
    const z = tf.tidy(() => {
      const pooled = new Map<string, tf.Tensor2D>();
      const pool = (m: string): tf.Tensor2D => {
        let v = pooled.get(m);
        if (!v) {
          const t = tokens.get(m)!;
          v = t.shape[0] === 1 ? t : (tf.mean(t, 0, true) as tf.Tensor2D);
          pooled.set(m, v);
        }
        return v;
      };
      const parts = this.layers.map(({ pair, f1, f2, out }) => {
        if (!tokens.has(pair.a) || !tokens.has(pair.b)) return tf.zeros([1, pair.out]) as tf.Tensor2D;
        const inter = tf.mul(f1.apply(pool(pair.a)), f2.apply(pool(pair.b))) as tf.Tensor2D;
        return out.apply(dropout(inter, rate, this.dropoutRandom, mode));
      });
      return tf.concat(parts, 1) as tf.Tensor2D;
    });
    return { z };
  }

  private disposeLayers(): void {
    for (const l of this.layers) {
      l.f1.dispose();
      l.f2.dispose();
      l.out.dispose();
    }
    this.layers = [];
  }

  dispose(): void {
    this.disposeLayers();
    this.inputDims = null;
  }
}

export const lowRankBilinearFusionSpec: ComponentSpec<'fusion', LowRankBilinearOptions> = {
  id: 'chimera.lowrank-bilinear',
  description: 'Low-rank bilinear fusion of modality pairs, out(f1(x_a) * f2(x_b)), concatenated (HKKH, CHIMERA Task 3)',
  optionsSchema: {
    type: 'object',
    properties: {
      pairs: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            a: { type: 'string', minLength: 1, description: 'First modality (an encoders key, e.g. wsi)' },
            b: { type: 'string', minLength: 1, description: 'Second modality (an encoders key, e.g. rna)' },
            out: { type: 'integer', minimum: 1, description: 'Width of this pair\'s fused output' },
          },
          required: ['a', 'b', 'out'],
          additionalProperties: false,
        },
        default: DEFAULT_BILINEAR_PAIRS.map((p) => ({ ...p })),
        description: 'Modality pairs fused bilinearly, in the order their outputs are concatenated; a pair with a missing modality outputs zeros',
      },
      rank: { type: 'integer', minimum: 1, default: 64, description: 'Width of the low-rank projections f1, f2 (HKKH: 64)' },
      dropout: {
        type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0,
        description: 'Dropout rate on each pair\'s rank-wide product in training (HKKH: none)',
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new LowRankBilinearFusion(options, ctx),
};
