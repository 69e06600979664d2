/**
 * Behaviour of every registered Head (core/contracts/head.ts), built as `head` with the schema defaults
 * (+ tables.headOptions), then build(HEAD_IN_DIM) and fit(training cases), as the trainer does; Cox-style heads get
 * fitBaseline after training. A head whose `target` is 'binary' gets the same cases with a binary label derived from
 * the survival one (positive = event), so its degenerate batches are one positive, one negative, no positive.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { RegisteredComponent } from '../../../core/contracts/component.js';
import type { TargetLabel } from '../../../core/contracts/binary-label.js';
import type { Case } from '../../../core/contracts/case.js';
import type { Head } from '../../../core/contracts/head.js';
import type { SurvivalLabel } from '../../../core/contracts/survival-label.js';
import type { SurvivalPrediction } from '../../../core/contracts/survival-prediction.js';
import { SeededRandom } from '../../../core/services/random.js';
import { testContext } from '../context.js';
import {
  assignWeights,
  expectGradientOnEveryVariable,
  finiteValues,
  maxAbsDiff,
  snapshotWeights,
  valuesOf,
  weightsDiffer,
} from '../tensor-checks.js';
import { resolvedConfig, teach, type BehaviourEnv } from './harness.js';

/** Width of the fused vectors the heads are built for. */
export const HEAD_IN_DIM = 6;

function checkPrediction(p: SurvivalPrediction, what: string): void {
  expect(Number.isFinite(p.risk), `${what}: risk ${p.risk} must be finite`).toBe(true);
  if (p.probability !== undefined) {
    expect(p.probability >= 0 && p.probability <= 1, `${what}: probability ${p.probability} must be in [0, 1]`).toBe(true);
    expect(Math.abs(p.probability - 1 / (1 + Math.exp(-p.risk))), `${what}: probability must be sigmoid(risk) (risk is the logit)`).toBeLessThan(1e-9);
  }
  if (p.survival === undefined) return;
  const { times, survival } = p;
  if (!times) throw new Error(`${what}: survival without times`);
  expect(times.length, `${what}: times and survival lengths`).toBe(survival.length);
  expect(times.length, `${what}: an empty survival curve`).toBeGreaterThan(0);
  times.forEach((t, k) => {
    expect(Number.isFinite(t) && t > 0, `${what}: times[${k}] = ${t} must be finite and > 0`).toBe(true);
    if (k > 0) expect(t, `${what}: times must be strictly increasing (times[${k - 1}] = ${times[k - 1]})`).toBeGreaterThan(times[k - 1]!);
  });
  survival.forEach((s, k) => {
    expect(s >= 0 && s <= 1, `${what}: survival[${k}] = ${s} must be in [0, 1]`).toBe(true);
    if (k > 0) expect(s, `${what}: survival must be non-increasing (survival[${k - 1}] = ${survival[k - 1]})`).toBeLessThanOrEqual(survival[k - 1]!);
  });
}

/** A curve below another everywhere on the same grid means an earlier event: its risk must not be lower. */
function checkOrientation(ps: readonly SurvivalPrediction[], what: string): void {
  for (const p of ps) {
    for (const q of ps) {
      if (!p.survival || !q.survival || !p.times || !q.times || p.times.length !== q.times.length) continue;
      if (p.times.some((t, j) => t !== q.times![j])) continue;
      const below = p.survival.every((s, j) => s <= q.survival![j]!) && p.survival.some((s, j) => s < q.survival![j]! - 1e-6);
      if (below) expect(p.risk, `${what}: a lower survival curve must not have a lower risk (higher risk = earlier event)`).toBeGreaterThanOrEqual(q.risk);
    }
  }
}

function predictionValues(ps: readonly SurvivalPrediction[]): number[] {
  return ps.flatMap((p) => [p.risk, ...(p.times ?? []), ...(p.survival ?? []), ...(p.probability !== undefined ? [p.probability] : [])]);
}

export function describeHeadBehaviour(env: BehaviourEnv): void {
  const labels: SurvivalLabel[] = env.cohort.train.map((c) => c.label!);
  const firstEvent = labels.findIndex((l) => l.event);
  const firstCensored = labels.findIndex((l) => !l.event);
  /** [name, rows]: the loss must be finite on each. */
  const batches: [string, number[]][] = [
    ['a batch with events', labels.map((_, i) => i)],
    ['one case with an event', [firstEvent]],
    ['one censored case', [firstCensored]],
    ['a batch without events', labels.flatMap((l, i) => (l.event ? [] : [i]))],
  ];
  /** Training batches of several sizes, each with an event and a censored case. */
  const trainingBatches = [labels.map((_, i) => i), [0, 1, 2], [3, 4, 5, 6, 8], [9, 10]].filter(
    (idx) => idx.some((i) => labels[i]!.event) && idx.some((i) => !labels[i]!.event),
  );
  const binaryCases: Case[] = env.cohort.train.map((c) => ({ ...c, binary: { positive: c.label!.event } }));
  /** The labels a head learns from, by its target. */
  const labelsFor = (head: Head): TargetLabel[] => (head.target === 'binary' ? binaryCases.map((c) => c.binary!) : labels);
  const labelsOf = (head: Head, idx: readonly number[]) => idx.map((i) => labelsFor(head)[i]!);

  /** Seeded fused vectors, one row per training case (the caller disposes). */
  const inputs = (): tf.Tensor2D => {
    const rng = new SeededRandom(13, 'head-inputs');
    return tf.tensor2d(Float32Array.from({ length: labels.length * HEAD_IN_DIM }, () => rng.normal(0, 1)), [labels.length, HEAD_IN_DIM]);
  };
  const rows = (z: tf.Tensor2D, idx: readonly number[]) => tf.gather(z, idx) as tf.Tensor2D;

  describe.each(env.registries.head.entries().map((s) => [s.id, s] as const))('head %s', (_id, spec) => {
    const what = `head '${spec.id}'`;

    /** Create, build(inDim) and (unless restoring) fit, as the trainer does. */
    const make = (seed: number, fit = true): Head => {
      const config = resolvedConfig(env, spec, 'head', 'head', env.tables.headOptions[spec.id]?.(env.fixtures) ?? {}, 'headOptions');
      let head: Head | undefined;
      try {
        head = env.registries.head.build(config, testContext('head', seed));
        head.build?.(HEAD_IN_DIM);
        if (fit) head.fit?.(head.target === 'binary' ? binaryCases : env.cohort.train);
        return head;
      } catch (err) {
        head?.dispose();
        throw teach(spec, `building it with ${JSON.stringify(config)}, build(${HEAD_IN_DIM}) and fit(${labels.length} labelled cases)`, err,
          `For options it needs, add an entry to tables.headOptions in ${env.tablesFile}.`);
      }
    };
    /** Cox-style heads: the baseline from the training risks, as the trainer does after training. */
    const fitBaseline = (head: Head, z: tf.Tensor2D): void => {
      if (!head.fitBaseline) return;
      head.fitBaseline(predict(head, z).map((p) => p.risk), labels);
    };
    const predict = (head: Head, z: tf.Tensor2D): SurvivalPrediction[] => {
      const out = head.forward(z);
      try {
        return head.predict(out);
      } finally {
        out.dispose();
      }
    };
    /** Run `body` with the seeded inputs, disposed afterwards. */
    const withInputs = (body: (z: tf.Tensor2D) => void): void => {
      const z = inputs();
      try {
        body(z);
      } finally {
        z.dispose();
      }
    };

    it('maps [b, inDim] to finite [b, k], has a finite loss on any batch, and predicts valid curves', () => withInputs((z) => {
      const head = make(1);
      try {
        const before = tf.memory().numTensors;
        const out = head.forward(z);
        expect(out.rank, `${what}: forward rank`).toBe(2);
        expect(out.shape[0], `${what}: forward rows`).toBe(labels.length);
        expect(out.shape[1], `${what}: forward width`).toBeGreaterThanOrEqual(1);
        finiteValues(out, `${what}: forward`);
        const k = out.shape[1];
        out.dispose();
        for (const [name, idx] of batches) {
          const zb = rows(z, idx);
          const ob = head.forward(zb);
          expect(ob.shape, `${what}: forward of ${name}`).toEqual([idx.length, k]);
          const l = head.loss(ob, labelsOf(head, idx));
          expect(l.rank, `${what}: the loss of ${name} must be a scalar`).toBe(0);
          finiteValues(l, `${what}: loss of ${name}`);
          tf.dispose([zb, ob, l]);
        }
        expect(tf.memory().numTensors - before, `${what}: forward/loss left tensors behind besides their outputs`).toBe(0);
        // During training (before any baseline is fitted) validation still needs finite risks.
        predict(head, z).forEach((p, i) => checkPrediction(p, `${what}: prediction ${i} before fitBaseline`));
        fitBaseline(head, z);
        const ps = predict(head, z);
        expect(tf.memory().numTensors - before, `${what}: predict left tensors behind`).toBe(0);
        expect(ps.length, `${what}: one prediction per row`).toBe(labels.length);
        ps.forEach((p, i) => checkPrediction(p, `${what}: prediction ${i}`));
        checkOrientation(ps, what);
      } finally {
        head.dispose();
      }
    }));

    it('sends a non-zero gradient to every trainable variable; degenerate batches give finite gradients, not errors', () => withInputs((z) => {
      const head = make(1);
      try {
        expectGradientOnEveryVariable(head.variables, () => head.loss(head.forward(z), labelsFor(head)), `${what}, a batch with events`);
        if (head.variables.length === 0) return;
        for (const [name, idx] of batches.slice(1)) {
          let g: { value: tf.Scalar; grads: tf.NamedTensorMap };
          try {
            g = tf.variableGrads(() => head.loss(head.forward(rows(z, idx)), labelsOf(head, idx)), head.variables);
          } catch (err) {
            throw new Error(`${what}: the gradient of the loss of ${name} failed (${(err as Error).message}); ` +
              'return a loss still connected to the output (e.g. 0 * sum(out)) so that training on such a batch does not crash', { cause: err });
          }
          try {
            for (const [n, t] of Object.entries(g.grads)) finiteValues(t, `${what}: gradient of ${n} on ${name}`);
          } finally {
            tf.dispose([g.value, ...Object.values(g.grads)]);
          }
        }
      } finally {
        head.dispose();
      }
    }));

    it('gives identical outputs for the same seed and different ones for another seed', () => withInputs((z) => {
      const [a, b, other] = [make(3), make(3), make(4)];
      const values = (h: Head) => valuesOf(() => h.forward(z));
      try {
        const oa = values(a);
        expect(maxAbsDiff(oa, values(a)), `${what}: forward must be deterministic`).toBe(0);
        expect(maxAbsDiff(oa, values(b)), `${what}: same seed, different outputs`).toBe(0);
        if (a.variables.length > 0) expect(maxAbsDiff(oa, values(other)), `${what}: seeds 3 and 4 give the same outputs; initialise variables from ctx.random`).toBeGreaterThan(0);
      } finally {
        for (const h of [a, b, other]) h.dispose();
      }
    }));

    it('round-trips state() through JSON and its weights into an instance built with another seed', () => withInputs((z) => {
      const a = make(1);
      let b: Head | undefined;
      try {
        const init = snapshotWeights(a.variables);
        if (a.variables.length > 0) {
          const opt = tf.train.adam(0.05);
          for (let i = 0; i < 3; i++) opt.minimize(() => a.loss(a.forward(z), labelsFor(a)), false, a.variables);
          opt.dispose();
          expect(weightsDiffer(init, snapshotWeights(a.variables)), `${what}: 3 Adam steps did not change any weight`).toBe(true);
        }
        fitBaseline(a, z);
        const json = JSON.stringify(a.state?.() ?? null);
        const weights = snapshotWeights(a.variables);
        const expectedOut = valuesOf(() => a.forward(z));
        const expectedPred = predictionValues(predict(a, z));
        b = make(2, false);
        if ((a.fit || a.fitBaseline) && !b.restore) throw new Error(`${what}: has fit()/fitBaseline() but no restore(state): a saved model could not rebuild what they learned`);
        try {
          b.restore?.(JSON.parse(json));
        } catch (err) {
          throw teach(spec, 'restore(JSON.parse(JSON.stringify(state())))', err, 'state() must be plain JSON (no typed arrays, Maps or tensors) and restore its inverse.');
        }
        if (weights.length > 0) {
          const fresh = valuesOf(() => b!.forward(z));
          const differs = fresh.length !== expectedOut.length || maxAbsDiff(fresh, expectedOut) > 0;
          expect(differs, `${what}: the seed 2 instance equals the trained one before assignment`).toBe(true);
        }
        assignWeights(b.variables, weights, what);
        expect(maxAbsDiff(valuesOf(() => b!.forward(z)), expectedOut, `${what}: forward`), `${what}: restored forward outputs differ`).toBeLessThanOrEqual(1e-6);
        const gotPred = predictionValues(predict(b, z));
        expect(maxAbsDiff(gotPred, expectedPred, `${what}: predictions`), `${what}: restored predictions (risk, times, survival) differ`).toBeLessThanOrEqual(1e-6);
      } finally {
        a.dispose();
        b?.dispose();
      }
    }));

    it('leaks no tensors over 20 training steps, and dispose() frees what it made', () => withInputs((z) => {
      const start = tf.memory().numTensors;
      const head = make(1);
      // SGD: the component's leaks are the point, and Adam's update costs more than the step on the cpu backend.
      const opt = tf.train.sgd(0.01);
      try {
        const step = (i: number) => {
          const idx = trainingBatches[i % trainingBatches.length]!;
          const loss = () => head.loss(head.forward(rows(z, idx)), labelsOf(head, idx));
          if (head.variables.length > 0) opt.minimize(loss, false, head.variables);
          else tf.tidy(() => { loss(); });
        };
        step(0);
        const after1 = tf.memory().numTensors;
        for (let i = 1; i <= 20; i++) step(i);
        expect(tf.memory().numTensors - after1, `${what}: tensors leaked over 20 training steps`).toBe(0);
        fitBaseline(head, z);
        predict(head, z);
        expect(tf.memory().numTensors - after1, `${what}: fitBaseline/predict leaked tensors`).toBe(0);
      } finally {
        opt.dispose();
        head.dispose();
      }
      expect(tf.memory().numTensors - start, `${what}: tensors left after dispose()`).toBe(0);
    }));
  });
}
