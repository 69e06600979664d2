import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { Dense, matMul } from '../../core/model/dense.js';
import { dropout } from '../../core/model/dropout.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { roleTokens, roleWidths, warnUnusedModalities } from '../../core/model/fusion-inputs.js';

export interface KroneckerFusionOptions {
  modalities: [string, string];
  gateDim: number;
  dim: number;
  skip: boolean;
  dropout: number;
}

const DEFAULTS: KroneckerFusionOptions = { modalities: ['wsi', 'rna'], gateDim: 32, dim: 256, skip: true, dropout: 0.25 };

/** One modality's gated unit: o = Dropout(ReLU(O (sigmoid(Z [v1, v2]) * ReLU(H v)))). */
interface GatedUnit {
  h: Dense;
  z: Dense;
  o: Dense;
}

interface Built {
  widths: [number, number];
  units: [GatedUnit, GatedUnit];
  encoder1: Dense;
  encoder2: Dense;
}

/**
 * PORPOISE's gated bilinear (Kronecker) fusion (Chen et al., Cancer Cell 2022; `BilinearFusion` in
 * mahmoodlab/PORPOISE, with PORPOISE's settings: both gates on, scale 8 -> 32-d, skip on, mmhid 256, dropout 0.25).
 * Each modality's tokens are pooled (mean over tokens when n > 1) to v1, v2. Per modality m:
 *   h_m = ReLU(H_m v_m), g_m = sigmoid(Z_m [v1, v2]), o_m = Dropout(ReLU(O_m (g_m * h_m)))   (gateDim wide)
 * then o_m is extended with a constant 1, the outer product (gateDim+1)^2 is flattened -> Dropout ->
 * Linear((gateDim+1)^2, dim) + ReLU -> [skip: concatenate v1, v2, as PORPOISE] -> Linear(., dim) + ReLU = z [1, dim].
 * Missing modality: its o_m is zeros and its v_m (in the gates and the skip) is zeros, so the product keeps the
 * other modality through the constant 1. Variables, in order: H1, Z1, O1, H2, Z2, O2, encoder1, encoder2.
 */
export class KroneckerFusion implements Fusion {
  private readonly options: KroneckerFusionOptions;
  private built: Built | null = null;
  private readonly dropoutRandom: RandomSource;

  constructor(options: Partial<KroneckerFusionOptions>, private readonly ctx: BuildContext) {
    this.options = { ...DEFAULTS, ...options };
    const { modalities, gateDim, dim, dropout: rate } = this.options;
    if (!Array.isArray(modalities) || modalities.length !== 2 || modalities[0] === modalities[1]) {
      throw new Error(`${ctx.path}.modalities: expected two different modality keys, found ${JSON.stringify(modalities)}`);
    }
    for (const [key, v] of [['gateDim', gateDim], ['dim', dim]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${ctx.path}.${key}: expected a positive integer, found ${v}`);
    }
    if (!(rate >= 0 && rate < 1)) throw new Error(`${ctx.path}.dropout: expected a rate in [0, 1), found ${rate}`);
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  get outDim(): number {
    return this.options.dim;
  }

  get variables(): tf.Variable[] {
    const b = this.built;
    if (!b) return [];
    return [...b.units.flatMap((u) => [u.h, u.z, u.o]), b.encoder1, b.encoder2].flatMap((l) => l.variables);
  }

  build(inputDims: ReadonlyMap<string, number>): void {
    this.dispose();
    const [m1, m2] = this.options.modalities;
    const { gateDim, dim, skip } = this.options;
    const w = roleWidths(inputDims, { 'modalities[0]': m1, 'modalities[1]': m2 }, this.ctx.path, 'kronecker');
    warnUnusedModalities(inputDims, [m1, m2], this.ctx.path, 'kronecker', this.ctx.logger);
    const widths: [number, number] = [w['modalities[0]'], w['modalities[1]']];
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const layer = (label: string, inDim: number, outDim: number) =>
      new Dense({ inDim, outDim, init: 'glorot-normal', random: this.ctx.random.fork(label), explicitTranspose, name: `${this.ctx.path}.${label}` });
    const unit = (i: 0 | 1): GatedUnit => ({
      h: layer(`gate${i + 1}.h`, widths[i], gateDim),
      z: layer(`gate${i + 1}.z`, widths[0] + widths[1], gateDim),
      o: layer(`gate${i + 1}.o`, gateDim, gateDim),
    });
    const units: [GatedUnit, GatedUnit] = [unit(0), unit(1)];
    const encoder1 = layer('encoder1', (gateDim + 1) ** 2, dim);
    const encoder2 = layer('encoder2', dim + (skip ? widths[0] + widths[1] : 0), dim);
    this.built = { widths, units, encoder1, encoder2 };
  }

  fuse(tokens: ReadonlyMap<string, tf.Tensor2D>, mode: Mode): FusionOutput {
    const b = this.built;
    if (!b) throw new Error(`${this.ctx.path}: call build(inputDims) before fuse`);
    const { modalities, gateDim, skip, dropout: rate } = this.options;
    const present = modalities.map((m, i) => roleTokens(tokens, m, b.widths[i]!, this.ctx.path));
    if (!present[0] && !present[1]) throw new Error(`${this.ctx.path}: the case has neither '${modalities[0]}' nor '${modalities[1]}' tokens; the kronecker fusion needs at least one`);
    const ex = b.encoder1.explicitTranspose;
    const drop = <T extends tf.Tensor>(t: T) => dropout(t, rate, this.dropoutRandom, mode);
    const z = tf.tidy(() => {
      const v = present.map((t, i) => (!t ? tf.zeros([1, b.widths[i]!]) : t.shape[0] > 1 ? tf.mean(t, 0, true) : t)) as tf.Tensor2D[];
      const both = tf.concat(v, 1) as tf.Tensor2D;
      const o = b.units.map((u, i) => {
        if (!present[i]) return tf.zeros([1, gateDim]) as tf.Tensor2D;
        const gated = tf.mul(tf.sigmoid(u.z.apply(both)), tf.relu(u.h.apply(v[i]!))) as tf.Tensor2D;
        return drop(tf.relu(u.o.apply(gated)));
      });
      const ext = o.map((x) => tf.concat([x, tf.ones([1, 1])], 1) as tf.Tensor2D);
      const outer = matMul(tf.reshape(ext[0]!, [gateDim + 1, 1]), ext[1]!, ex); // [g+1, g+1], row i = o1_i * o2
      const flat = drop(tf.reshape(outer, [1, (gateDim + 1) ** 2]) as tf.Tensor2D);
      let h = tf.relu(b.encoder1.apply(flat));
      if (skip) h = tf.concat([h, both], 1) as tf.Tensor2D;
      return tf.relu(b.encoder2.apply(h));
    });
    return { z };
  }

  dispose(): void {
    const b = this.built;
    if (!b) return;
    for (const l of [...b.units.flatMap((u) => [u.h, u.z, u.o]), b.encoder1, b.encoder2]) l.dispose();
    this.built = null;
  }
}

export const kroneckerFusionSpec: ComponentSpec<'fusion', KroneckerFusionOptions> = {
  id: 'kronecker',
  /** The modality keys of the default roles (configs may map the roles to other keys). */
  modalities: ['wsi', 'rna'],
  description: 'PORPOISE gated bilinear fusion: two gated 32-d vectors, each extended with a 1, outer product, two Linear+ReLU',
  optionsSchema: {
    type: 'object',
    properties: {
      modalities: {
        type: 'array', items: { type: 'string', minLength: 1 }, minItems: 2, maxItems: 2, uniqueItems: true, default: DEFAULTS.modalities,
        description: 'The two modalities (encoders keys) fused, in outer-product order (PORPOISE: pathology, genomics)',
      },
      gateDim: { type: 'integer', minimum: 1, default: DEFAULTS.gateDim, description: 'Width of each gated vector before the constant 1 is appended (PORPOISE: 256 / 8 = 32)' },
      dim: { type: 'integer', minimum: 1, default: DEFAULTS.dim, description: 'Width of both post-fusion Linear layers, and of z (PORPOISE: 256)' },
      skip: { type: 'boolean', default: DEFAULTS.skip, description: 'Concatenate the pooled inputs to the first post-fusion layer output (PORPOISE skip)' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: DEFAULTS.dropout, description: 'Dropout after each gated unit and on the flattened outer product (PORPOISE: 0.25)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new KroneckerFusion(options, ctx),
};
