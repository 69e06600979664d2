import * as tf from '@tensorflow/tfjs';
import type { BinaryLabel, TargetLabel } from '../../core/contracts/binary-label.js';
import type { BuildContext, ComponentSpec } from '../../core/contracts/component.js';
import type { Head } from '../../core/contracts/head.js';
import type { SurvivalPrediction } from '../../core/contracts/survival-prediction.js';
import { Dense } from '../../core/model/dense.js';
import { denseStack } from '../../core/model/dense-stack.js';
import { explicitTransposeIn } from '../../core/model/explicit-transpose.js';

export interface BinaryHeadOptions {
  hidden: number | null;
  /** Weight of a positive case in the loss: 1, or 'balanced' (negatives / positives of the training fold). */
  positiveWeight: number | 'balanced';
}

/** What a binary head saves: the positive weight it used (fitted on the training fold when 'balanced'). */
export interface BinaryHeadState {
  positiveWeight: number;
}

/**
 * Binary classification head (CHIMERA Task 2, BRS3 vs BRS1/2): [b, inDim] -> logit [b, 1] of P(positive), through
 * ReLU(Linear(inDim -> hidden)) first when `hidden` is set; the logit layer has a bias (the class prior).
 * Loss: binary cross-entropy on the logit in its stable form, max(x, 0) - x y + log(1 + e^{-|x|}), each case
 * weighted by w = `positiveWeight` when positive and 1 when negative, divided by the summed weights (with w = 1 this is
 * the mean BCE, tf.losses.sigmoidCrossEntropy's value). 'balanced' sets w = negatives / positives of the training fold
 * (`fit`), which trades calibration for sensitivity: probabilities are then no longer those of the cohort's prior.
 * Predict: risk = the logit (higher = more likely positive), probability = sigmoid(logit).
 * Variables, in order: [hidden kernel, hidden bias,] logit kernel, logit bias.
 */
export class BinaryHead implements Head {
  readonly target = 'binary' as const;
  private layers: Dense[] = [];
  private weight: number;

  constructor(private readonly options: BinaryHeadOptions, private readonly ctx: BuildContext) {
    this.weight = options.positiveWeight === 'balanced' ? 1 : options.positiveWeight;
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  build(inDim: number): void {
    this.dispose();
    const explicitTranspose = explicitTransposeIn(this.ctx);
    const layer = (name: string, i: number, o: number) =>
      new Dense({ inDim: i, outDim: o, bias: true, init: 'glorot-normal', random: this.ctx.random.fork(name), explicitTranspose, name: `${this.ctx.path}.${name}` });
    const { hidden } = this.options;
    this.layers = hidden === null ? [layer('logit', inDim, 1)] : [layer('hidden', inDim, hidden), layer('logit', hidden, 1)];
  }

  /** With 'balanced', the positive weight from the training fold's classes. */
  fit(train: readonly { id: string; binary?: BinaryLabel }[]): void {
    if (this.options.positiveWeight !== 'balanced') return;
    const pos = train.filter((c) => c.binary?.positive).length;
    const neg = train.filter((c) => c.binary && !c.binary.positive).length;
    if (pos === 0 || neg === 0) {
      this.ctx.logger.warn(`${this.ctx.path}: the training fold holds ${pos} positive and ${neg} negative cases; positiveWeight 'balanced' falls back to 1`);
      this.weight = 1;
      return;
    }
    this.weight = neg / pos;
  }

  state(): BinaryHeadState {
    return { positiveWeight: this.weight };
  }

  restore(state: unknown): void {
    const w = (state as Partial<BinaryHeadState> | null)?.positiveWeight;
    if (typeof w !== 'number' || !(w > 0) || !Number.isFinite(w)) {
      throw new Error(`${this.ctx.path}: saved binary head state: expected { positiveWeight: a finite number > 0 }, found ${JSON.stringify(state)?.slice(0, 200)}`);
    }
    this.weight = w;
  }

  forward(z: tf.Tensor2D): tf.Tensor2D {
    return denseStack(this.layers, z, this.ctx.path);
  }

  loss(out: tf.Tensor2D, labels: readonly TargetLabel[]): tf.Scalar {
    if (out.rank !== 2 || out.shape[1] !== 1 || out.shape[0] !== labels.length) {
      throw new Error(`${this.ctx.path}: expected logits of shape [${labels.length}, 1] (one per label), found [${out.shape.join(', ')}]`);
    }
    const y = labels.map((l, i) => {
      const positive = (l as Partial<BinaryLabel>).positive;
      if (typeof positive !== 'boolean') throw new Error(`${this.ctx.path}: label ${i} is not a binary label ({ positive: boolean }), found ${JSON.stringify(l)}`);
      return positive ? 1 : 0;
    });
    const w = y.map((v) => (v === 1 ? this.weight : 1));
    const wSum = w.reduce((a, b) => a + b, 0);
    return tf.tidy(() => {
      const x = out.reshape([-1]);
      const yt = tf.tensor1d(y, 'float32');
      const perCase = tf.add(tf.sub(tf.relu(x), tf.mul(x, yt)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
      return tf.div(tf.sum(tf.mul(perCase, tf.tensor1d(w, 'float32'))), wSum) as tf.Scalar;
    });
  }

  predict(out: tf.Tensor2D): SurvivalPrediction[] {
    if (out.rank !== 2 || out.shape[1] !== 1) throw new Error(`${this.ctx.path}: expected logits of shape [b, 1], found [${out.shape.join(', ')}]`);
    return Array.from(out.dataSync(), (risk, i) => {
      if (!Number.isFinite(risk)) throw new Error(`${this.ctx.path}: row ${i} has a non-finite logit (${risk}); the model diverged or its input has NaN`);
      return { risk, probability: 1 / (1 + Math.exp(-risk)) };
    });
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }
}

export const binaryHeadSpec: ComponentSpec<'head', BinaryHeadOptions> = {
  id: 'binary',
  description: 'Binary classification head (e.g. CHIMERA Task 2, BRS3 vs BRS1/2): one logit per case, binary cross-entropy, P(positive)',
  optionsSchema: {
    type: 'object',
    properties: {
      hidden: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Width of a hidden Linear + ReLU before the logit (null: none)' },
      positiveWeight: {
        anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { const: 'balanced' }], default: 1,
        description: "Loss weight of a positive case: a number, or 'balanced' (negatives / positives of the training fold; probabilities are then not calibrated to the prior)",
      },
    },
    additionalProperties: false,
  },
  create: (options, ctx) => new BinaryHead(options, ctx),
};
