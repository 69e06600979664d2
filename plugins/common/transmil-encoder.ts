import * as tf from '@tensorflow/tfjs';
import type { Case } from '../../core/contracts/case.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Encoder, Mode } from '../../core/contracts/encoder.js';
import type { RandomSource } from '../../core/contracts/random-source.js';
import { Dense } from '../../core/model/dense.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';
import { depthwiseConv2dSame } from '../../core/model/depthwise-conv.js';
import { LayerNorm } from '../../core/model/layer-norm.js';
import { NystromAttention, type AttentionKind } from '../../core/model/nystrom-attention.js';

export interface TransmilEncoderOptions {
  dim: number;
  heads: number;
  landmarks: number | null;
  pinvIterations: number;
  attention: AttentionKind;
  dropout: number;
  maxPatches: number | null;
}

interface FittedState {
  inDim: number;
}

/** Grid side and the padded bag size of TransMIL: the bag is padded to side^2 tokens by repeating its first rows. */
export function squareGrid(n: number): { side: number; add: number } {
  const side = Math.ceil(Math.sqrt(n));
  return { side, add: side * side - n };
}

/**
 * PPEG (pyramid position encoding generator): x + dw7(x) + dw5(x) + dw3(x) over the token grid, depthwise convolutions
 * with bias and 'same' padding. The three kernels are summed into one 7x7 kernel first (convolution is linear), so
 * one shifted-slice convolution does the work; each kernel still has its own variable and gradient.
 */
export class Ppeg {
  readonly variables: tf.Variable[];
  private readonly kernels: { size: number; kernel: tf.Variable; bias: tf.Variable }[];

  constructor(readonly dim: number, random: RandomSource) {
    // PyTorch's Conv2d init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = k*k for a depthwise conv
    this.kernels = [7, 5, 3].map((size) => {
      const rng = random.fork(`conv${size}`);
      const bound = 1 / size;
      const draw = (n: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
      const kernel = tf.tidy(() => tf.variable(tf.tensor3d(draw(size * size * dim), [size, size, dim]), true));
      const bias = tf.tidy(() => tf.variable(tf.tensor1d(draw(dim)), true));
      return { size, kernel, bias };
    });
    this.variables = this.kernels.flatMap((k) => [k.kernel, k.bias]);
  }

  /** tokens [side*side, dim] in row-major grid order -> the same shape. */
  apply(tokens: tf.Tensor2D, side: number): tf.Tensor2D {
    return tf.tidy(() => {
      const grid = tf.reshape(tokens, [side, side, this.dim]) as tf.Tensor3D;
      const kernel = tf.addN(this.kernels.map(({ size, kernel }) => {
        const p = (7 - size) / 2;
        return p === 0 ? kernel : tf.pad(kernel, [[p, p], [p, p], [0, 0]]);
      })) as tf.Tensor3D;
      const bias = tf.addN(this.kernels.map((k) => k.bias));
      const y = tf.add(tf.add(depthwiseConv2dSame(grid, kernel), bias), grid);
      return tf.reshape(y, [side * side, this.dim]) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** TransMIL's TransLayer: x + NystromAttention(LayerNorm(x)) (no feed-forward block, as the official code). */
class TransLayer {
  readonly variables: tf.Variable[];
  private readonly norm: LayerNorm;
  private readonly attention: NystromAttention;

  constructor(name: string, opts: Omit<ConstructorParameters<typeof NystromAttention>[0], 'name'>) {
    this.norm = new LayerNorm({ dim: opts.dim, name: `${name}.norm` });
    this.attention = new NystromAttention({ ...opts, name: `${name}.attention` });
    this.variables = [...this.norm.variables, ...this.attention.variables];
  }

  apply(x: tf.Tensor2D, mode: Mode, random: RandomSource): tf.Tensor2D {
    return tf.tidy(() => tf.add(x, this.attention.apply(this.norm.apply(x), mode, random)) as tf.Tensor2D);
  }

  dispose(): void {
    this.norm.dispose();
    this.attention.dispose();
  }
}

interface Layers {
  fc: Dense;
  cls: tf.Variable;
  layer1: TransLayer;
  ppeg: Ppeg;
  layer2: TransLayer;
  norm: LayerNorm;
}

/**
 * TransMIL (Shao et al. 2021; szc19990412/TransMIL `models/TransMIL.py`) over the patches of all slides of a case:
 * Linear(inDim -> dim) + ReLU; the bag padded to a square grid by repeating its first patches
 * (`torch.cat([h, h[:, :add_length]])`); a learned class token in front; TransLayer, PPEG over the grid (row-major),
 * TransLayer; LayerNorm; the class token is the single output token [1, dim] (the official `_fc2` head is the
 * Head's job here).
 *
 * Choices (documented deviations): linear kernels are Glorot-normal with zero bias (PyTorch's default is
 * kaiming-uniform); the class token is N(0, 1) as `torch.randn`, the convolutions U(+-1/sqrt(fan_in)) as PyTorch.
 * `attention: 'auto'` (default) uses exact softmax attention when the bag has at most `landmarks` tokens (class token
 * included), where the official Nystrom code would pad to `landmarks` zero rows whose keys dilute every softmax;
 * 'nystrom' reproduces the official code at every size. `maxPatches` samples a seeded subset (in bag order) in
 * training only.
 *
 * Cost at the official sizes (dim 512, 8 heads, 256 landmarks) on the single-threaded wasm backend, 4096 patches:
 * one training step 13-16 s and a 2.3 GB wasm heap (limit 4 GB), an eval forward ~4 s, measured on a 2-core machine
 * under load. The pseudo-inverse iterations (1152 [256 x 256] matmuls per step) and the qkv projections dominate;
 * `landmarks` (m^3 cost) and `dim` are the levers.
 */
export class TransmilEncoder implements Encoder {
  readonly modality: string;
  readonly outDim: number;
  private layers: Layers | null = null;
  private fitted: FittedState | null = null;
  private readonly patchRandom: RandomSource;
  private readonly dropoutRandom: RandomSource;

  constructor(private readonly options: TransmilEncoderOptions, private readonly ctx: BuildContext) {
    this.modality = ctx.path.split('.').pop()!;
    if (this.modality !== 'wsi') {
      throw new Error(`${ctx.path}: the 'transmil' encoder reads patch features ('wsi'), found modality '${this.modality}'. Configure it under encoders.wsi.`);
    }
    const { dim, heads } = options;
    if (dim % heads !== 0) throw new Error(`${ctx.path}: dim (${dim}) must be a multiple of heads (${heads}); e.g. dim 512 with 8 heads`);
    this.outDim = dim;
    this.patchRandom = ctx.random.fork('patches');
    this.dropoutRandom = ctx.random.fork('dropout');
  }

  get variables(): tf.Variable[] {
    const l = this.layers;
    if (!l) return [];
    return [...l.fc.variables, l.cls, ...l.layer1.variables, ...l.ppeg.variables, ...l.layer2.variables, ...l.norm.variables];
  }

  fit(train: readonly Case[]): void {
    const dims = new Set(train.flatMap((c) => (c.wsi ?? []).map((b) => b.dim)));
    if (dims.size !== 1) {
      throw new Error(`${this.ctx.path}: expected one patch feature width across training cases, found ${dims.size === 0 ? 'no slides' : [...dims].join(', ')}`);
    }
    this.build({ inDim: [...dims][0]! });
  }

  state(): FittedState | null {
    return this.fitted;
  }

  restore(state: unknown): void {
    const s = state as FittedState | null;
    if (!s || !Number.isInteger(s.inDim) || s.inDim <= 0) {
      throw new Error(`${this.ctx.path}: restore expects the state saved by the transmil encoder ({ inDim: positive integer }), found ${JSON.stringify(state)}`);
    }
    this.build({ inDim: s.inDim });
  }

  private build(state: FittedState): void {
    this.disposeLayers();
    this.fitted = state;
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const { dim, heads, pinvIterations, attention, dropout } = this.options;
    const landmarks = this.options.landmarks ?? Math.max(1, Math.floor(dim / 2));
    const init = this.ctx.random.fork('init');
    const p = this.ctx.path;
    const layer = (name: string) =>
      new TransLayer(`${p}.${name}`, { dim, heads, landmarks, pinvIterations, attention, dropout, random: init.fork(name), explicitTranspose });
    const clsRandom = init.fork('cls');
    const clsValues = Float32Array.from({ length: dim }, () => clsRandom.normal()); // torch.randn
    this.layers = {
      fc: new Dense({ inDim: state.inDim, outDim: dim, init: 'glorot-normal', random: init.fork('fc'), explicitTranspose, name: `${p}.fc` }),
      cls: tf.tidy(() => tf.variable(tf.tensor2d(clsValues, [1, dim]), true)),
      layer1: layer('layer1'),
      ppeg: new Ppeg(dim, init.fork('ppeg')),
      layer2: layer('layer2'),
      norm: new LayerNorm({ dim, name: `${p}.norm` }),
    };
  }

  encode(c: Case, mode: Mode): tf.Tensor2D | null {
    if (!this.layers || !this.fitted) throw new Error(`${this.ctx.path}: call fit(trainCases) (or restore(state)) before encode`);
    const input = this.patches(c, mode);
    if (!input) return null;
    const l = this.layers;
    return tf.tidy(() => {
      const x = tf.tensor2d(input.values, [input.rows, this.fitted!.inDim]);
      let h = tf.relu(l.fc.apply(x));
      const { side, add } = squareGrid(input.rows);
      if (add > 0) h = tf.concat([h, tf.slice(h, [0, 0], [add, this.outDim])], 0);
      h = tf.concat([l.cls as tf.Tensor2D, h], 0);
      h = l.layer1.apply(h, mode, this.dropoutRandom);
      const grid = l.ppeg.apply(tf.slice(h, [1, 0], [side * side, this.outDim]), side);
      h = tf.concat([tf.slice(h, [0, 0], [1, this.outDim]), grid], 0);
      h = l.layer2.apply(h, mode, this.dropoutRandom);
      return l.norm.apply(tf.slice(h, [0, 0], [1, this.outDim])); // LayerNorm is per token: only the class token is needed
    });
  }

  /** The patches of all slides of the case; in 'train' mode a seeded random subset of at most maxPatches. */
  private patches(c: Case, mode: Mode): { values: Float32Array; rows: number } | null {
    const bags = c.wsi ?? [];
    if (bags.length === 0) return null;
    const dim = this.fitted!.inDim;
    for (const b of bags) {
      if (!b.features) throw new Error(`${this.ctx.path}: case ${c.id}: slide ${b.slideId} features are not loaded (loadPatchBag before encoding)`);
      if (b.dim !== dim) throw new Error(`${this.ctx.path}: case ${c.id}: slide ${b.slideId} has feature width ${b.dim}, the encoder was fitted on ${dim}`);
    }
    const total = bags.reduce((a, b) => a + b.n, 0);
    if (total === 0) return null;
    const all = new Float32Array(total * dim);
    let off = 0;
    for (const b of bags) { all.set(b.features!.subarray(0, b.n * dim), off); off += b.n * dim; }
    const cap = this.options.maxPatches;
    if (mode === 'eval' || cap === null || total <= cap) return { values: all, rows: total };
    const picked = this.patchRandom.sample(total, cap).sort((a, b) => a - b);
    const sub = new Float32Array(cap * dim);
    picked.forEach((row, i) => sub.set(all.subarray(row * dim, (row + 1) * dim), i * dim));
    return { values: sub, rows: cap };
  }

  private disposeLayers(): void {
    const l = this.layers;
    if (!l) return;
    l.fc.dispose();
    l.cls.dispose();
    l.layer1.dispose();
    l.ppeg.dispose();
    l.layer2.dispose();
    l.norm.dispose();
    this.layers = null;
  }

  dispose(): void {
    this.disposeLayers();
  }
}

export const transmilEncoderSpec: ComponentSpec<'encoder', TransmilEncoderOptions> = {
  id: 'transmil',
  description: 'TransMIL (Shao et al. 2021): Nystrom-attention Transformer with PPEG over the patch grid; outputs the class token',
  modalities: ['wsi'],
  optionsSchema: {
    type: 'object',
    properties: {
      dim: { type: 'integer', minimum: 1, default: 512, description: 'Model width: Linear(inDim -> dim) + ReLU, and the output token width' },
      heads: { type: 'integer', minimum: 1, default: 8, description: 'Attention heads (dim must be a multiple; dim_head = dim / heads)' },
      landmarks: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Nystrom landmarks (official num_landmarks); null: dim / 2' },
      pinvIterations: { type: 'integer', minimum: 1, default: 6, description: 'Moore-Penrose iterations for the pseudo-inverse (official: 6)' },
      attention: {
        enum: ['auto', 'nystrom', 'exact'],
        default: 'auto',
        description: "'nystrom': always the Nystrom approximation (official); 'exact': full softmax attention (O(n^2)); 'auto': exact when the bag has at most `landmarks` tokens, Nystrom otherwise",
      },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1, description: 'Dropout after each attention output projection (official: 0.1)' },
      maxPatches: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Random patches per step in training (null: all); evaluation uses all' },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new TransmilEncoder(options, ctx),
};
