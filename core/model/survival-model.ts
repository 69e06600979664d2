/**
 * SurvivalModel = one encoder per modality + a fusion + a head, built from a resolved config through the
 * registries. It owns the order of everything that is saved: encoders by modality name (sorted), then the fusion,
 * then the head; `variables` and `weights()` follow that order, and `restore` checks names and shapes against it.
 *
 * Lifecycle: `create` (no data) -> `fit(trainCases)` (encoders fit their preprocessing, the fusion and head are
 * built for the encoders' widths, the head fits its bins) -> training -> `state()` + `weights()` saved ->
 * `restore(...)` in another process (nothing is refitted).
 *
 * @example
 * const model = SurvivalModel.create(registries, resolvedConfig, runContainer);
 * model.fit(trainCases);
 * const loss = model.loss(batch, 'train');          // inside tf.variableGrads
 * const preds = model.predict(valCases);            // risk, times, survival per case
 */
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import type { Case } from '../contracts/case.js';
import type { Encoder, Mode } from '../contracts/encoder.js';
import type { Fusion } from '../contracts/fusion.js';
import type { Head } from '../contracts/head.js';
import type { TargetKind, TargetLabel } from '../contracts/binary-label.js';
import type { SurvivalLabel } from '../contracts/survival-label.js';
import type { SurvivalPrediction } from '../contracts/survival-prediction.js';
import { buildContext } from '../di/container.js';
import type { Registries } from '../registry/registry.js';
import type { TensorEntry } from './tensor-bundle.js';

type ComponentConfig = Record<string, unknown>;

export interface ModelConfig {
  encoders: Record<string, ComponentConfig>;
  fusion: ComponentConfig;
  head: ComponentConfig;
}

/** Everything `fit` learned, as JSON (weights are separate). */
export interface ModelState {
  version: 1;
  encoders: Record<string, unknown>;
  encoderDims: Record<string, number>;
  fusionOutDim: number;
  head: unknown;
}

/** Per-case explanation for reports: per-token scores by name (encoder and fusion attention). */
export type CaseExplanation = Record<string, Float32Array>;

export class SurvivalModel {
  private fitted = false;

  private constructor(
    readonly encoders: ReadonlyMap<string, Encoder>,
    readonly fusion: Fusion,
    readonly head: Head,
  ) {}

  static create(registries: Registries, config: ModelConfig, container: DependencyContainer): SurvivalModel {
    const keys = Object.keys(config.encoders ?? {}).sort();
    if (keys.length === 0) throw new Error('config: `encoders` is empty: configure at least one, e.g. "encoders": { "wsi": { "type": "abmil" } }');
    if (!config.fusion) throw new Error('config: `fusion` is missing, e.g. "fusion": { "type": "concat" }');
    if (!config.head) throw new Error('config: `head` is missing, e.g. "head": { "type": "cox" }');
    const encoders = new Map<string, Encoder>();
    for (const k of keys) encoders.set(k, registries.encoder.build(config.encoders[k]!, buildContext(container, `encoders.${k}`)));
    const fusion = registries.fusion.build(config.fusion, buildContext(container, 'fusion'));
    const head = registries.head.build(config.head, buildContext(container, 'head'));
    return new SurvivalModel(encoders, fusion, head);
  }

  /** The target of the config's head (built and disposed again; nothing is fitted). */
  static targetOf(registries: Registries, config: Pick<ModelConfig, 'head'>, container: DependencyContainer): TargetKind {
    if (!config.head) throw new Error('config: `head` is missing, e.g. "head": { "type": "cox" }');
    const head = registries.head.build(config.head, buildContext(container, 'head'));
    try {
      return head.target ?? 'survival';
    } finally {
      head.dispose();
    }
  }

  /**
   * Slow, frozen, label-free work before `fit` or prediction (e.g. LLM embeddings of case texts, cached): every
   * encoder's `prepare` for these cases. Cases the model later encodes must have been prepared.
   */
  async prepare(cases: readonly Case[]): Promise<void> {
    for (const e of this.encoders.values()) await e.prepare?.(cases);
  }

  /** Fit preprocessing on the training fold and build every layer. */
  fit(train: readonly Case[]): void {
    for (const e of this.encoders.values()) e.fit?.(train);
    this.buildDownstream();
    this.head.fit?.(train);
    this.fitted = true;
  }

  private buildDownstream(): void {
    this.fusion.build?.(new Map([...this.encoders].map(([k, e]) => [k, e.outDim])));
    this.head.build?.(this.fusion.outDim);
  }

  get variables(): tf.Variable[] {
    return [...[...this.encoders.values()].flatMap((e) => e.variables), ...this.fusion.variables, ...this.head.variables];
  }

  /** Names aligned with `variables` (component path / index), used in weight files and errors. */
  variableNames(): string[] {
    const names: string[] = [];
    for (const [k, e] of this.encoders) e.variables.forEach((_, i) => names.push(`encoders.${k}/${i}`));
    this.fusion.variables.forEach((_, i) => names.push(`fusion/${i}`));
    this.head.variables.forEach((_, i) => names.push(`head/${i}`));
    return names;
  }

  private requireFitted(): void {
    if (!this.fitted) throw new Error('SurvivalModel: call fit(trainCases) or SurvivalModel.restore(...) before using the model');
  }

  /** The fused vector of one case (call inside tf.tidy or variableGrads). Throws when the case has no modality at all. */
  fuseCase(c: Case, mode: Mode): { z: tf.Tensor2D; aux: tf.Scalar | null; attention?: Record<string, tf.Tensor> } {
    this.requireFitted();
    const tokens = new Map<string, tf.Tensor2D>();
    for (const [k, e] of this.encoders) {
      const t = e.encode(c, mode);
      if (t) tokens.set(k, t);
    }
    if (tokens.size === 0) {
      throw new Error(`case ${c.id}: none of the model's modalities (${[...this.encoders.keys()].join(', ')}) is present, so nothing can be predicted`);
    }
    const out = this.fusion.fuse(tokens, mode);
    return { z: out.z, aux: out.auxLoss ?? null, ...(out.attention ? { attention: out.attention } : {}) };
  }

  /** The label the head learns from ('survival' unless the head says 'binary'). */
  get target(): TargetKind {
    return this.head.target ?? 'survival';
  }

  /** Head outputs for a batch, [b, k], and the summed auxiliary loss (call inside tf.tidy or variableGrads). */
  forward(cases: readonly Case[], mode: Mode): { out: tf.Tensor2D; aux: tf.Scalar | null } {
    const zs: tf.Tensor2D[] = [];
    let aux: tf.Scalar | null = null;
    for (const c of cases) {
      const f = this.fuseCase(c, mode);
      zs.push(f.z);
      if (f.aux) aux = aux ? (tf.add(aux, f.aux) as tf.Scalar) : f.aux;
    }
    const z = zs.length === 1 ? zs[0]! : (tf.concat(zs, 0) as tf.Tensor2D);
    return { out: this.head.forward(z), aux: aux && cases.length > 1 ? (tf.div(aux, cases.length) as tf.Scalar) : aux };
  }

  /** Head loss + mean auxiliary loss of a labelled batch. */
  loss(cases: readonly Case[], mode: Mode): tf.Scalar {
    const labels = this.labelsOf(cases);
    const { out, aux } = this.forward(cases, mode);
    const l = this.head.loss(out, labels, cases);
    return aux ? tf.add(l, aux) : l;
  }

  private labelsOf(cases: readonly Case[]): TargetLabel[] {
    const binary = this.target === 'binary';
    return cases.map((c) => {
      if (binary) {
        if (!c.binary) throw new Error(`case ${c.id}: has no binary label (the head is a binary classifier); training and validation cases need one`);
        return c.binary;
      }
      if (!c.label) throw new Error(`case ${c.id}: has no survival label (time, event); training and validation cases need one`);
      return c.label;
    });
  }

  /** Eval-mode predictions, one case at a time (no tensors left behind). */
  predict(cases: readonly Case[]): SurvivalPrediction[] {
    this.requireFitted();
    return cases.map((c) => {
      const out = tf.tidy(() => this.forward([c], 'eval').out);
      const [p] = this.head.predict(out, [c]);
      out.dispose();
      return { ...p!, caseId: c.id };
    });
  }

  /**
   * Eval-mode predictions and loss of labelled cases in one pass: each case is encoded once and one at a time (the
   * predictions are exactly `predict`'s; the loss is `loss(cases, 'eval')` from the same head outputs), so
   * validation costs one forward pass per case and memory for one case. loss is NaN where the head's loss is.
   */
  evaluate(cases: readonly Case[]): { predictions: SurvivalPrediction[]; loss: number } {
    this.requireFitted();
    const labels = this.labelsOf(cases);
    const outs: tf.Tensor2D[] = [];
    let aux: number | null = null;
    try {
      const predictions = cases.map((c) => {
        const [out, a] = tf.tidy(() => {
          const f = this.fuseCase(c, 'eval');
          const o = this.head.forward(f.z);
          return f.aux ? [o, f.aux] : [o];
        }) as [tf.Tensor2D, tf.Scalar?];
        if (a) {
          aux = (aux ?? 0) + a.dataSync()[0]!;
          a.dispose();
        }
        outs.push(out);
        const [p] = this.head.predict(out, [c]);
        return { ...p!, caseId: c.id };
      });
      const l = tf.tidy(() => this.head.loss(outs.length === 1 ? outs[0]! : (tf.concat(outs, 0) as tf.Tensor2D), labels, cases));
      const loss = l.dataSync()[0]! + (aux === null ? 0 : aux / cases.length);
      l.dispose();
      return { predictions, loss };
    } finally {
      tf.dispose(outs);
    }
  }

  /** Per-token attention of one case from every encoder and the fusion, as plain arrays. */
  explain(c: Case): CaseExplanation {
    this.requireFitted();
    const out: CaseExplanation = {};
    for (const [k, e] of this.encoders) {
      const x = e.explain?.(c);
      if (x) for (const [name, v] of Object.entries(x)) out[`encoders.${k}.${name}`] = v;
    }
    const attention = tf.tidy(() => {
      const f = this.fuseCase(c, 'eval');
      return f.attention ?? {};
    });
    for (const [name, t] of Object.entries(attention)) {
      out[`fusion.${name}`] = Float32Array.from(t.dataSync() as Float32Array);
      t.dispose();
    }
    return out;
  }

  /**
   * Fit the head's baseline (Cox heads) on the final training-fold risks: `risks` when the caller has them (the
   * risks of `predict(train)`, which do not depend on the baseline), else predicted here.
   */
  fitBaseline(train: readonly Case[], risks?: readonly number[]): void {
    if (!this.head.fitBaseline) return;
    if (risks && risks.length !== train.length) throw new Error(`fitBaseline: ${risks.length} risks for ${train.length} training cases`);
    this.head.fitBaseline(risks ?? this.predict(train).map((p) => p.risk), train.map((c) => c.label as SurvivalLabel));
  }

  state(): ModelState {
    this.requireFitted();
    const encoders: Record<string, unknown> = {};
    const encoderDims: Record<string, number> = {};
    for (const [k, e] of this.encoders) {
      encoders[k] = e.state?.() ?? null;
      encoderDims[k] = e.outDim;
    }
    return { version: 1, encoders, encoderDims, fusionOutDim: this.fusion.outDim, head: this.head.state?.() ?? null };
  }

  weights(): TensorEntry[] {
    const names = this.variableNames();
    return this.variables.map((v, i) => ({ name: names[i]!, shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) }));
  }

  setWeights(entries: readonly TensorEntry[], where = 'weights'): void {
    const vars = this.variables;
    const names = this.variableNames();
    if (entries.length !== vars.length) {
      throw new Error(`${where}: the model has ${vars.length} variables, the file holds ${entries.length} (a different config or plugin version?)`);
    }
    entries.forEach((e, i) => {
      const v = vars[i]!;
      if (e.name !== names[i] || e.shape.join('x') !== v.shape.join('x')) {
        throw new Error(`${where}: variable ${i} is ${names[i]} [${v.shape.join(', ')}] in the model, ${e.name} [${e.shape.join(', ')}] in the file`);
      }
    });
    tf.tidy(() => entries.forEach((e, i) => vars[i]!.assign(tf.tensor(e.data, e.shape))));
  }

  /** Rebuild a fitted model from its saved state and weights (nothing is refitted). */
  static restore(
    registries: Registries,
    config: ModelConfig,
    container: DependencyContainer,
    state: ModelState,
    weights: readonly TensorEntry[],
  ): SurvivalModel {
    if (state?.version !== 1) throw new Error(`model state: expected version 1, found ${JSON.stringify(state?.version)}`);
    const model = SurvivalModel.create(registries, config, container);
    for (const [k, e] of model.encoders) {
      if (!(k in state.encoders)) throw new Error(`model state: no state for encoders.${k}; the saved model has ${Object.keys(state.encoders).join(', ')}`);
      const s = state.encoders[k];
      if (e.restore) e.restore(s);
      if (e.outDim !== state.encoderDims[k]) throw new Error(`model state: encoders.${k} gives width ${e.outDim}, the saved model ${state.encoderDims[k]}`);
    }
    model.buildDownstream();
    if (model.fusion.outDim !== state.fusionOutDim) throw new Error(`model state: the fusion gives width ${model.fusion.outDim}, the saved model ${state.fusionOutDim}`);
    if (state.head !== null) model.head.restore?.(state.head);
    model.fitted = true;
    model.setWeights(weights);
    return model;
  }

  dispose(): void {
    for (const e of this.encoders.values()) e.dispose();
    this.fusion.dispose();
    this.head.dispose();
  }
}
