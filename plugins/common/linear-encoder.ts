import * as tf from '@tensorflow/tfjs';
import type { Backend } from '../../core/contracts/backend.js';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import { TOKENS } from '../../core/di/tokens.js';
import { alignRna, cohortGeneOrder } from '../../core/data/rna.js';
import { Dense, explicitTransposeFor } from '../../core/model/dense.js';

export interface LinearEncoderOptions {
  outDim: number;
  activation: 'none' | 'relu';
  maxPatches: number | null;
}

interface FittedState {
  inDim: number;
  geneOrder?: string[];
}

/**
 * Linear token projection: each token x -> W x + b (optionally ReLU). For `wsi` the tokens are the patches of all
 * slides of a case; for `rna` the single token is the expression vector in the gene order fitted on training cases.
 */
export class LinearEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private dense: Dense | null = null;
  private fitted: FittedState | null = null;

  constructor(private readonly options: LinearEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'wsi' && this.modality !== 'rna') {
      throw new Error(
        `${ctx.path}: the 'linear' encoder reads numeric modalities ('wsi' patch features or 'rna' expression), found modality '${this.modality}'. ` +
          `Configure it under encoders.wsi or encoders.rna.`,
      );
    }
    this.outDim = options.outDim;
  }

  get variables(): tf.Variable[] {
    return this.dense?.variables ?? [];
  }

  fit(train: readonly Case[]): void {
    if (this.modality === 'rna') {
      const profiles = train.flatMap((c) => (c.rna ? [c.rna] : []));
      if (profiles.length === 0) throw new Error(`${this.ctx.path}: no training case has RNA; remove encoders.rna or add RNA files`);
      const geneOrder = cohortGeneOrder(profiles);
      this.build({ inDim: geneOrder.length, geneOrder });
    } else {
      const dims = new Set(train.flatMap((c) => (c.wsi ?? []).map((b) => b.dim)));
      if (dims.size !== 1) {
        throw new Error(`${this.ctx.path}: expected one patch feature width across training cases, found ${dims.size === 0 ? 'no slides' : [...dims].join(', ')}`);
      }
      this.build({ inDim: [...dims][0]! });
    }
  }

  state(): FittedState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    this.build(state as FittedState);
  }

  private build(state: FittedState): void {
    this.dense?.dispose();
    this.fitted = state;
    const backend = this.ctx.container.isRegistered(TOKENS.Backend, true)
      ? this.ctx.container.resolve<Backend>(TOKENS.Backend).name
      : (tf.getBackend() as Backend['name']);
    this.dense = new Dense({
      inDim: state.inDim,
      outDim: this.outDim,
      init: 'glorot-normal',
      random: this.ctx.random.fork('dense'),
      explicitTranspose: explicitTransposeFor(backend),
      name: this.ctx.path,
    });
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    if (!this.dense || !this.fitted) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    const dense = this.dense;
    const input = this.modality === 'rna' ? this.rnaInput(c) : this.wsiInput(c, mode);
    if (!input) return null;
    return tf.tidy(() => {
      const x = tf.tensor2d(input.values, [input.rows, this.fitted!.inDim]);
      const y = dense.apply(x);
      return this.options.activation === 'relu' ? tf.relu(y) : y;
    });
  }

  private rnaInput(c: Case): { values: Float32Array; rows: number } | null {
    if (!c.rna) return null;
    return { values: alignRna(c.rna, this.fitted!.geneOrder!).values, rows: 1 };
  }

  private wsiInput(c: Case, mode: Mode): { values: Float32Array; rows: number } | null {
    const bags = c.wsi ?? [];
    if (bags.length === 0) return null;
    const dim = this.fitted!.inDim;
    for (const b of bags) {
      if (!b.features) throw new Error(`case ${c.id}: slide ${b.slideId} features are not loaded (loadPatchBag before encoding)`);
      if (b.dim !== dim) throw new Error(`case ${c.id}: slide ${b.slideId} has feature width ${b.dim}, the encoder was fitted on ${dim}`);
    }
    const total = bags.reduce((a, b) => a + b.n, 0);
    const all = new Float32Array(total * dim);
    let off = 0;
    for (const b of bags) { all.set(b.features!, off); off += b.n * dim; }
    const cap = this.options.maxPatches;
    if (mode === 'eval' || cap === null || total <= cap) return { values: all, rows: total };
    const picked = this.ctx.random.sample(total, cap).sort((a, b) => a - b);
    const sub = new Float32Array(cap * dim);
    picked.forEach((row, i) => sub.set(all.subarray(row * dim, (row + 1) * dim), i * dim));
    return { values: sub, rows: cap };
  }

  dispose(): void {
    this.dense?.dispose();
    this.dense = null;
  }
}

export const linearEncoderSpec: ComponentSpec<'encoder', LinearEncoderOptions> = {
  id: 'linear',
  description: 'Linear token projection (W x + b, optional ReLU) of patch features or an RNA vector',
  optionsSchema: {
    type: 'object',
    properties: {
      outDim: { type: 'integer', minimum: 1, default: 256, description: 'Width of each output token' },
      activation: { enum: ['none', 'relu'], default: 'none', description: 'Applied after the projection' },
      maxPatches: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Random patches per step in training (null: all)' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new LinearEncoder(options, ctx),
};
