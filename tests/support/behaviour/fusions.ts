/**
 * Behaviour of every registered Fusion (core/contracts/fusion.ts), built as `fusion` with the schema defaults
 * (+ tables.fusionOptions) for the token shapes of tables.fusionTokens, the spec's `modalities` or
 * DEFAULT_FUSION_TOKENS, in that order.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { RegisteredComponent } from '../../../core/contracts/component.js';
import type { Mode } from '../../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../../core/contracts/fusion.js';
import { DEFAULT_FUSION_TOKENS, fusionTokens, properSubsets, type TokenShapes } from '../conformance-cohort.js';
import { testContext } from '../context.js';
import {
  assignWeights,
  expectGradientOnEveryVariable,
  finiteValues,
  maxAbsDiff,
  readoutLoss,
  readoutWeights,
  snapshotWeights,
  valuesOf,
  weightsDiffer,
} from '../tensor-checks.js';
import { describeSpec, resolvedConfig, teach, type BehaviourEnv } from './harness.js';

type FusionSpec = RegisteredComponent<'fusion'>;

function fusionShapes(env: BehaviourEnv, spec: FusionSpec): TokenShapes {
  const table = env.tables.fusionTokens[spec.id];
  if (table) return table;
  if (!spec.modalities) return DEFAULT_FUSION_TOKENS;
  return Object.fromEntries(spec.modalities.map((m) => {
    const shape = DEFAULT_FUSION_TOKENS[m];
    if (!shape) throw new Error(`${describeSpec(spec)}: no default token shape for modality '${m}'; add an entry to tables.fusionTokens in ${env.tablesFile}`);
    return [m, shape];
  }));
}

function disposeOutput(out: FusionOutput): void {
  tf.dispose([out.z, ...(out.auxLoss ? [out.auxLoss] : []), ...Object.values(out.attention ?? {})]);
}

/** z is [1, outDim] and finite, attention and auxLoss finite; returns z's values and disposes the output. */
function checkOutput(f: Fusion, out: FusionOutput, what: string): Float32Array {
  try {
    expect(out.z.shape, `${what}: z shape`).toEqual([1, f.outDim]);
    const z = finiteValues(out.z, `${what}: z`);
    for (const [name, t] of Object.entries(out.attention ?? {})) finiteValues(t, `${what}: attention '${name}'`);
    if (out.auxLoss) {
      expect(out.auxLoss.rank, `${what}: auxLoss must be a scalar`).toBe(0);
      finiteValues(out.auxLoss, `${what}: auxLoss`);
    }
    return z;
  } finally {
    disposeOutput(out);
  }
}

/** The training loss through a fusion: a readout of z (fixed, or `r` standing in for a head), plus its auxLoss. */
function fusionLoss(f: Fusion, tokens: ReadonlyMap<string, tf.Tensor2D>, r?: tf.Tensor2D): tf.Scalar {
  const out = f.fuse(tokens, 'train');
  const l = readoutLoss(out.z, r);
  return out.auxLoss ? (tf.add(l, out.auxLoss) as tf.Scalar) : l;
}

/**
 * The modalities z depends on: those whose tokens, replaced by other random tokens of the same shape, change z in
 * eval mode. A fusion built for more modalities than it fuses (role options such as `pathology: 'wsi'`) ignores
 * the others, and "any subset of its modalities" means subsets of these.
 */
function usedModalities(f: Fusion, tokens: ReadonlyMap<string, tf.Tensor2D>, what: string): string[] {
  const base = fuseEval(f, tokens, what);
  return [...tokens.keys()].filter((m) => {
    const [n, d] = tokens.get(m)!.shape;
    const other = fusionTokens({ [m]: [n, d] }, 99).get(m)!;
    try {
      return maxAbsDiff(fuseEval(f, new Map([...tokens, [m, other]]), `${what} (${m} replaced)`), base) > 0;
    } finally {
      other.dispose();
    }
  });
}

function fuseEval(f: Fusion, tokens: ReadonlyMap<string, tf.Tensor2D>, what: string): Float32Array {
  return checkOutput(f, f.fuse(tokens, 'eval'), what);
}

export function describeFusionBehaviour(env: BehaviourEnv): void {
  describe.each(env.registries.fusion.entries().map((s) => [s.id, s] as const))('fusion %s', (_id, spec) => {
    const what = `fusion '${spec.id}'`;

    /** Create, then build(inputDims), as the trainer does. */
    const make = (seed: number): Fusion => {
      const shapes = fusionShapes(env, spec);
      const config = resolvedConfig(env, spec, 'fusion', 'fusion', env.tables.fusionOptions[spec.id]?.(env.fixtures) ?? {}, 'fusionOptions');
      const dims = new Map(Object.entries(shapes).map(([m, [, d]]) => [m, d]));
      let fusion: Fusion | undefined;
      try {
        fusion = env.registries.fusion.build(config, testContext('fusion', seed));
        fusion.build?.(dims);
        return fusion;
      } catch (err) {
        fusion?.dispose();
        throw teach(spec, `building it with ${JSON.stringify(config)} for input widths ${JSON.stringify(Object.fromEntries(dims))}`, err,
          `If it accepts only some modalities or needs other widths, add an entry to tables.fusionTokens; for options, tables.fusionOptions (in ${env.tablesFile}).`);
      }
    };
    /** Run `body` with fresh seeded tokens, disposed afterwards. */
    const withTokens = (body: (tokens: Map<string, tf.Tensor2D>) => void): void => {
      const tokens = fusionTokens(fusionShapes(env, spec));
      try {
        body(tokens);
      } finally {
        tf.dispose([...tokens.values()]);
      }
    };

    it('fuses every modality into a finite [1, outDim] z (train and eval), with finite attention and auxLoss', () => withTokens((tokens) => {
      const f = make(1);
      try {
        expect(Number.isInteger(f.outDim) && f.outDim > 0, `${what}: outDim ${f.outDim} after build must be a positive integer`).toBe(true);
        for (const mode of ['train', 'eval'] as Mode[]) {
          const before = tf.memory().numTensors;
          checkOutput(f, f.fuse(tokens, mode), `${what} (${mode}, inputs ${JSON.stringify(fusionShapes(env, spec))})`);
          expect(tf.memory().numTensors - before, `${what}: fuse (${mode}) left tensors behind besides its outputs`).toBe(0);
        }
      } finally {
        f.dispose();
      }
    }));

    it('gives a finite z when any non-empty proper subset of the modalities it fuses is present', () => withTokens((tokens) => {
      const f = make(1);
      try {
        const used = usedModalities(f, tokens, what);
        expect(used.length, `${what}: z does not depend on any of the tokens ${[...tokens.keys()].join(', ')}`).toBeGreaterThan(0);
        for (const subset of properSubsets(used)) {
          const some = new Map(subset.map((m) => [m, tokens.get(m)!]));
          for (const mode of ['train', 'eval'] as Mode[]) {
            const where = `${what} with only ${subset.join(' + ')} (${mode})`;
            let out: FusionOutput;
            try {
              out = f.fuse(some, mode);
            } catch (err) {
              throw new Error(`${where}: fuse threw: ${(err as Error).message}. A fusion must still return z when some (not all) modalities are missing.`, { cause: err });
            }
            checkOutput(f, out, where);
          }
        }
      } finally {
        f.dispose();
      }
    }));

    it('sends a non-zero gradient to every trainable variable', () => withTokens((tokens) => {
      const f = make(1);
      try {
        expectGradientOnEveryVariable(f.variables, () => fusionLoss(f, tokens), what);
      } finally {
        f.dispose();
      }
    }));

    it('gives identical z for the same seed and a different z for another seed', () => withTokens((tokens) => {
      const [a, b, other] = [make(3), make(3), make(4)];
      try {
        const za = fuseEval(a, tokens, what);
        expect(maxAbsDiff(za, fuseEval(a, tokens, what)), `${what}: eval mode must be deterministic`).toBe(0);
        expect(maxAbsDiff(za, fuseEval(b, tokens, what)), `${what}: same seed, different z`).toBe(0);
        const sameTrain = maxAbsDiff(valuesOf(() => a.fuse(tokens, 'train').z), valuesOf(() => b.fuse(tokens, 'train').z)) === 0;
        expect(sameTrain, `${what}: same seed, different train-mode z (randomness that is not ctx.random?)`).toBe(true);
        if (a.variables.length > 0) {
          expect(maxAbsDiff(za, fuseEval(other, tokens, what)), `${what}: seeds 3 and 4 give the same z; initialise variables from ctx.random`).toBeGreaterThan(0);
        }
      } finally {
        for (const f of [a, b, other]) f.dispose();
      }
    }));

    it('round-trips its weights into an instance built with another seed', () => withTokens((tokens) => {
      const a = make(1);
      let b: Fusion | undefined;
      try {
        const init = snapshotWeights(a.variables);
        if (a.variables.length > 0) {
          const opt = tf.train.adam(0.05);
          for (let i = 0; i < 3; i++) opt.minimize(() => fusionLoss(a, tokens), false, a.variables);
          opt.dispose();
          expect(weightsDiffer(init, snapshotWeights(a.variables)), `${what}: 3 Adam steps did not change any weight`).toBe(true);
        }
        const weights = snapshotWeights(a.variables);
        const expected = fuseEval(a, tokens, what);
        b = make(2);
        expect(b.outDim, `${what}: outDim of a second instance`).toBe(a.outDim);
        if (weights.length > 0) {
          expect(maxAbsDiff(fuseEval(b, tokens, what), expected), `${what}: the seed 2 instance equals the trained one before assignment`).toBeGreaterThan(0);
        }
        assignWeights(b.variables, weights, what);
        expect(maxAbsDiff(fuseEval(b, tokens, what), expected), `${what}: restored z differs`).toBeLessThanOrEqual(1e-6);
      } finally {
        a.dispose();
        b?.dispose();
      }
    }));

    it('leaks no tensors over 20 training steps, and dispose() frees what it made', () => withTokens((tokens) => {
      const start = tf.memory().numTensors;
      const f = make(1);
      // A trainable readout stands in for the head: with one modality left, z may not depend on the fusion's own
      // variables (a pairwise fusion gives zeros), and minimize needs some variable to reach.
      const head = tf.tidy(() => tf.variable(readoutWeights(f.outDim), true));
      // SGD: the component's leaks are the point, and Adam's update costs more than the step on the cpu backend.
      const opt = tf.train.sgd(0.01);
      try {
        const subsets = properSubsets(usedModalities(f, tokens, what));
        const step = (i: number) => {
          // Every other step with modalities missing: masks and zero-fills must not leak either.
          const some = i % 2 === 0 || subsets.length === 0 ? tokens : new Map(subsets[i % subsets.length]!.map((m) => [m, tokens.get(m)!]));
          opt.minimize(() => fusionLoss(f, some, head), false, [...f.variables, head]);
        };
        step(0);
        const after1 = tf.memory().numTensors;
        for (let i = 1; i <= 20; i++) step(i);
        expect(tf.memory().numTensors - after1, `${what}: tensors leaked over 20 training steps`).toBe(0);
      } finally {
        opt.dispose();
        f.dispose();
        head.dispose();
      }
      expect(tf.memory().numTensors - start, `${what}: tensors left after dispose()`).toBe(0);
    }));
  });
}
