/**
 * Behaviour of every registered Encoder, under each modality key it reads (core/contracts/encoder.ts).
 * Built as `encoders.<key>` with the schema defaults (+ tables.encoderOptions), fitted on the conformance cohort.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import type { RegisteredComponent } from '../../../core/contracts/component.js';
import type { Encoder, Mode } from '../../../core/contracts/encoder.js';
import { hasModality, withoutModality } from '../conformance-cohort.js';
import { testContext } from '../context.js';
import {
  assignWeights,
  expectGradientOnEveryVariable,
  finiteValues,
  maxAbsDiff,
  readoutLoss,
  snapshotWeights,
  weightsDiffer,
} from '../tensor-checks.js';
import { describeSpec, resolvedConfig, teach, type BehaviourEnv } from './harness.js';

type EncoderSpec = RegisteredComponent<'encoder'>;

/** Modalities some training cases lack (conformance-cohort.ts). */
const SPARSE = ['wsi', 'rna', 'clinical'];

export function encoderModalities(env: BehaviourEnv, spec: EncoderSpec): readonly string[] | undefined {
  return spec.modalities ?? env.tables.encoderModalities[spec.id];
}

/** [test name, spec, modality key] for every encoder and every key it reads. */
export function encoderTargets(env: BehaviourEnv): [string, EncoderSpec, string][] {
  return env.registries.encoder.entries().flatMap((spec) =>
    (encoderModalities(env, spec) ?? []).map((key) => [`${spec.id} under encoders.${key}`, spec, key] as [string, EncoderSpec, string]),
  );
}

/** Eval-mode tokens of each case, as plain values (null when the encoder returns null). */
function encodeAll(enc: Encoder, cs: readonly Case[], what: string): (Float32Array | null)[] {
  return cs.map((c) => {
    const t = enc.encode(c, 'eval');
    if (!t) return null;
    const v = finiteValues(t, `${what}: tokens of ${c.id}`);
    t.dispose();
    return v;
  });
}

export function describeEncoderBehaviour(env: BehaviourEnv): void {
  const { cohort } = env;

  describe('every encoder says which modalities it reads', () => {
    it.each(env.registries.encoder.entries().map((s) => [s.id, s] as const))('%s', (_id, spec) => {
      const keys = encoderModalities(env, spec);
      if (!keys || keys.length === 0) {
        throw new Error(
          `${describeSpec(spec)} says nothing about the modalities it reads, so the behaviour suite cannot build it. ` +
            `Add \`modalities: ['wsi']\` (the keys under \`encoders\` it is configured under) to its spec, or an entry to tables.encoderModalities in ${env.tablesFile}.`,
        );
      }
    });
  });

  describe.each(encoderTargets(env))('encoder %s', (_name, spec, key) => {
    const what = `encoder '${spec.id}' under encoders.${key}`;
    const trainWithModality = cohort.train.filter((c) => hasModality(c, key));
    /**
     * The unseen probe cases (two slides, shuffled genes, an unseen category), two training cases, and the training
     * cases that lack other modalities. Few, because default widths make a step slow on the cpu backend.
     */
    const sample = [...new Set([...cohort.probe, ...trainWithModality.slice(0, 2), ...trainWithModality.filter((c) => SPARSE.some((m) => !hasModality(c, m)))])];

    const make = (seed: number): Encoder => {
      const path = `encoders.${key}`;
      const config = resolvedConfig(env, spec, 'encoders', key, env.tables.encoderOptions[spec.id]?.(env.fixtures) ?? {}, 'encoderOptions');
      try {
        return env.registries.encoder.build(config, testContext(path, seed));
      } catch (err) {
        throw teach(spec, `building it under ${path} with ${JSON.stringify(config)}`, err,
          `If it needs a file or an option, add it to tables.encoderOptions; if it reads other modalities, fix \`modalities\` on its spec (or tables.encoderModalities) in ${env.tablesFile}.`);
      }
    };
    const fit = (enc: Encoder): Encoder => {
      try {
        enc.fit?.(cohort.train);
      } catch (err) {
        throw teach(spec, `fit on the conformance cohort (encoders.${key}; ${cohort.train.length} cases)`, err,
          'fit must accept training cases that lack the modality; the data is made in tests/support/conformance-cohort.ts.');
      }
      return enc;
    };

    it('encodes cases with the modality to finite [n, outDim] tokens (train and eval), and null without it', () => {
      const enc = make(1);
      try {
        expect(enc.modality, `${what}: modality`).toBe(key);
        fit(enc);
        expect(Number.isInteger(enc.outDim) && enc.outDim > 0, `${what}: outDim ${enc.outDim} after fit must be a positive integer`).toBe(true);
        const vars = [...enc.variables];
        for (const c of sample) {
          for (const mode of ['train', 'eval'] as Mode[]) {
            const before = tf.memory().numTensors;
            const t = enc.encode(c, mode);
            if (!t) throw new Error(`${what}: encode(${c.id}, '${mode}') returned null, but the case has the modality`);
            expect(t.rank, `${what}: rank of the tokens of ${c.id} (${mode})`).toBe(2);
            expect(t.shape[1], `${what}: token width of ${c.id} (${mode})`).toBe(enc.outDim);
            expect(t.shape[0], `${what}: token count of ${c.id} (${mode})`).toBeGreaterThanOrEqual(1);
            finiteValues(t, `${what}: tokens of ${c.id} (${mode})`);
            t.dispose();
            expect(tf.memory().numTensors - before,
              `${what}: encode(${c.id}, '${mode}') left tensors behind besides its output (a variable made in encode, or a tensor outside tf.tidy)`).toBe(0);
          }
        }
        if (enc.explain) {
          for (const c of cohort.probe) {
            const before = tf.memory().numTensors;
            const scores = enc.explain(c);
            expect(tf.memory().numTensors - before, `${what}: explain(${c.id}) left tensors behind`).toBe(0);
            expect(scores, `${what}: explain(${c.id}) on a case with the modality`).not.toBeNull();
            for (const [name, v] of Object.entries(scores ?? {})) {
              expect(v instanceof Float32Array, `${what}: explain(${c.id}).${name} must be a Float32Array`).toBe(true);
              expect(v.every(Number.isFinite), `${what}: explain(${c.id}).${name} must be finite`).toBe(true);
            }
          }
          expect(enc.explain(withoutModality(cohort.probe[0]!, key)), `${what}: explain on a case without the modality must return null`).toBeNull();
        }
        expect(enc.variables.length, `${what}: encode changed the number of variables; create all of them in fit/restore`).toBe(vars.length);
        enc.variables.forEach((v, i) => expect(v === vars[i], `${what}: variable #${i} was replaced during encode`).toBe(true));
        for (const c of [...cohort.probe.map((p) => withoutModality(p, key)), { id: 'no-modality-at-all' }]) {
          for (const mode of ['train', 'eval'] as Mode[]) {
            let t: tf.Tensor2D | null;
            try {
              t = enc.encode(c, mode);
            } catch (err) {
              throw new Error(`${what}: encode(${c.id}, '${mode}') on a case without the modality threw (${(err as Error).message}); return null instead`, { cause: err });
            }
            t?.dispose();
            expect(t, `${what}: encode(${c.id}, '${mode}') on a case without the modality must return null`).toBeNull();
          }
        }
      } finally {
        enc.dispose();
      }
    });

    it('sends a non-zero gradient to every trainable variable', () => {
      const enc = fit(make(1));
      try {
        for (const c of cohort.probe) {
          expectGradientOnEveryVariable(enc.variables, () => readoutLoss(enc.encode(c, 'train')!), `${what}, case ${c.id}`);
        }
      } finally {
        enc.dispose();
      }
    });

    it('gives identical tokens for the same seed and different ones for another seed', () => {
      const [a, b, other] = [fit(make(3)), fit(make(3)), fit(make(4))];
      try {
        const ta = encodeAll(a, cohort.probe, what);
        const again = encodeAll(a, cohort.probe, what);
        const tb = encodeAll(b, cohort.probe, what);
        cohort.probe.forEach((c, i) => {
          expect(maxAbsDiff(ta[i]!, again[i]!), `${what}: eval mode must be deterministic (${c.id}, twice on one instance)`).toBe(0);
          expect(maxAbsDiff(ta[i]!, tb[i]!), `${what}: same seed, different eval tokens for ${c.id}`).toBe(0);
        });
        // Train mode draws from ctx.random only: the same seed and the same calls give the same draws.
        for (const c of cohort.probe) {
          const [x, y] = [a.encode(c, 'train')!, b.encode(c, 'train')!];
          const same = x.shape.join() === y.shape.join() && maxAbsDiff(x.dataSync(), y.dataSync()) === 0;
          tf.dispose([x, y]);
          expect(same, `${what}: same seed, different train-mode tokens for ${c.id} (randomness that is not ctx.random?)`).toBe(true);
        }
        if (a.variables.length > 0) {
          const to = encodeAll(other, cohort.probe, what);
          const differs = cohort.probe.some((_, i) => maxAbsDiff(ta[i]!, to[i]!) > 0);
          expect(differs, `${what}: seeds 3 and 4 give identical tokens; initialise variables from ctx.random`).toBe(true);
        }
      } finally {
        for (const e of [a, b, other]) e.dispose();
      }
    });

    it('round-trips state() through JSON and its weights into an instance built with another seed', () => {
      const a = fit(make(1));
      const b = make(2);
      try {
        const init = snapshotWeights(a.variables);
        if (a.variables.length > 0) {
          const opt = tf.train.adam(0.05);
          for (let i = 0; i < 3; i++) opt.minimize(() => readoutLoss(a.encode(trainWithModality[i]!, 'train')!), false, a.variables);
          opt.dispose();
          expect(weightsDiffer(init, snapshotWeights(a.variables)), `${what}: 3 Adam steps did not change any weight`).toBe(true);
        }
        const json = JSON.stringify(a.state?.() ?? null);
        const weights = snapshotWeights(a.variables);
        const expected = encodeAll(a, cohort.probe, what);
        if (a.fit && !b.restore) throw new Error(`${what}: has fit() but no restore(state): a saved model could not rebuild what fit learned`);
        try {
          b.restore?.(JSON.parse(json));
        } catch (err) {
          throw teach(spec, 'restore(JSON.parse(JSON.stringify(state())))', err, 'state() must be plain JSON (no typed arrays, Maps or tensors) and restore its inverse.');
        }
        expect(b.outDim, `${what}: outDim after restore`).toBe(a.outDim);
        if (weights.length > 0) {
          const fresh = encodeAll(b, cohort.probe, what);
          const differs = cohort.probe.some((_, i) => fresh[i] === null || fresh[i]!.length !== expected[i]!.length || maxAbsDiff(fresh[i]!, expected[i]!) > 0);
          expect(differs, `${what}: before its weights are assigned, the restored instance (seed 2) already equals the trained one`).toBe(true);
        }
        assignWeights(b.variables, weights, what);
        const got = encodeAll(b, cohort.probe, what);
        cohort.probe.forEach((c, i) => {
          expect(got[i], `${what}: the restored instance returned null for ${c.id}`).not.toBeNull();
          expect(got[i]!.length, `${what}: restored token count for ${c.id}`).toBe(expected[i]!.length);
          expect(maxAbsDiff(got[i]!, expected[i]!), `${what}: restored tokens of ${c.id} differ`).toBeLessThanOrEqual(1e-6);
        });
      } finally {
        a.dispose();
        b.dispose();
      }
    });

    it('leaks no tensors over 20 training steps, and dispose() frees what it made', () => {
      const start = tf.memory().numTensors;
      const enc = fit(make(1));
      const opt = tf.train.sgd(0.01);
      try {
        // SGD: the component's leaks are the point, and Adam's update costs more than the step on the cpu backend.
        const step = (i: number) => {
          const loss = () => readoutLoss(enc.encode(trainWithModality[i % trainWithModality.length]!, 'train')!);
          if (enc.variables.length > 0) opt.minimize(loss, false, enc.variables);
          else tf.tidy(() => { loss(); });
        };
        step(0);
        const after1 = tf.memory().numTensors;
        for (let i = 1; i <= 20; i++) step(i);
        expect(tf.memory().numTensors - after1, `${what}: tensors leaked over 20 training steps`).toBe(0);
      } finally {
        opt.dispose();
        enc.dispose();
      }
      expect(tf.memory().numTensors - start, `${what}: tensors left after dispose()`).toBe(0);
    });
  });
}
