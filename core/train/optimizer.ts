/**
 * The optimisers of `train.optimizer`, written out so that their whole state (step count and moments) can be saved
 * in a checkpoint and restored exactly (tfjs's own optimisers keep slot variables that are awkward to restore).
 * Update rules follow PyTorch (torch.optim.Adam / AdamW / RAdam / SGD, default betas 0.9 / 0.999, eps 1e-8):
 *
 * - adam, radam, sgd: weight decay is L2: g <- g + wd * w;
 * - adamw: decoupled: w <- w * (1 - lr * wd) before the Adam step;
 * - radam: Adam with the variance rectification of Liu et al. 2020 (the plain momentum step while rho_t <= 5).
 *
 * @example
 * const opt = new Optimizer('adamw', model.variables, { weightDecay: 1e-2 });
 * opt.apply(grads, lr);            // grads[i] matches variables[i]; grads are not disposed
 * const saved = opt.getState();    // { step, m, v }: m and v as Float32Arrays, aligned to the variables
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerName = 'adam' | 'adamw' | 'radam' | 'sgd';

export interface OptimizerOptions {
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export interface OptimizerState {
  name: OptimizerName;
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Optimizer {
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly wd: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;

  constructor(readonly name: OptimizerName, private readonly variables: readonly tf.Variable[], o: OptimizerOptions = {}) {
    if (!['adam', 'adamw', 'radam', 'sgd'].includes(name)) {
      throw new Error(`optimizer: expected one of adam, adamw, radam, sgd, found '${String(name)}'`);
    }
    this.wd = o.weightDecay ?? 0;
    this.b1 = o.beta1 ?? 0.9;
    this.b2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    const moments = name !== 'sgd';
    this.m = moments ? variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false))) : [];
    this.v = moments ? variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false))) : [];
  }

  /** One update with gradients aligned to the variables (a missing gradient leaves that variable unchanged). */
  apply(grads: readonly (tf.Tensor | null | undefined)[], lr: number): void {
    if (grads.length !== this.variables.length) {
      throw new Error(`optimizer: expected ${this.variables.length} gradients (one per variable), found ${grads.length}`);
    }
    this.step++;
    const t = this.step;
    const { b1, b2, eps, wd } = this;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    let radamScale: number | null = null;
    if (this.name === 'radam') {
      const rhoInf = 2 / (1 - b2) - 1;
      const rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
      radamScale = rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : null;
    }
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g0 = grads[i];
        if (!g0) return;
        let g: tf.Tensor = g0;
        if (this.name === 'adamw') {
          if (wd > 0) w.assign(tf.mul(w, 1 - lr * wd));
        } else if (wd > 0) {
          g = tf.add(g, tf.mul(w, wd));
        }
        if (this.name === 'sgd') {
          w.assign(tf.sub(w, tf.mul(g, lr)));
          return;
        }
        const m = this.m[i]!;
        const v = this.v[i]!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const mHat = tf.div(m, bc1);
        if (this.name === 'radam' && radamScale === null) {
          w.assign(tf.sub(w, tf.mul(mHat, lr)));
          return;
        }
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
        const scale = lr * (radamScale ?? 1);
        w.assign(tf.sub(w, tf.mul(tf.div(mHat, denom), scale)));
      });
    });
  }

  getState(): OptimizerState {
    const read = (xs: tf.Variable[]) => xs.map((x) => Float32Array.from(x.dataSync() as Float32Array));
    return { name: this.name, step: this.step, m: read(this.m), v: read(this.v) };
  }

  setState(s: OptimizerState): void {
    if (s.name !== this.name) throw new Error(`optimizer state: saved for '${s.name}', this run uses '${this.name}'`);
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new Error(`optimizer state: expected ${this.m.length} moment tensors, found ${s.m.length}`);
    }
    tf.tidy(() => {
      s.m.forEach((vals, i) => this.m[i]!.assign(tf.tensor(vals, this.m[i]!.shape)));
      s.v.forEach((vals, i) => this.v[i]!.assign(tf.tensor(vals, this.v[i]!.shape)));
    });
    this.step = s.step;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/** Learning rate at optimiser step `step` (0-based) of `total`: constant, or cosine to 0 after a linear warm-up. */
export function learningRate(
  schedule: 'constant' | 'cosine',
  baseLr: number,
  step: number,
  total: number,
  warmupSteps = 0,
): number {
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  if (schedule === 'constant') return baseLr;
  const span = Math.max(1, total - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / span);
  return 0.5 * baseLr * (1 + Math.cos(Math.PI * progress));
}
