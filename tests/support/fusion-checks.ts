/**
 * Checks every fusion test runs: seeded token maps, output disposal, no tensor leak across fuse calls and optimizer
 * steps, finite z for every subset of missing modalities. Each throws (through expect) with the fusion's name.
 */
import * as tf from '@tensorflow/tfjs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { Mode } from '../../core/contracts/encoder.js';
import type { Fusion, FusionOutput } from '../../core/contracts/fusion.js';
import { SeededRandom } from '../../core/services/random.js';
import { finiteValues, readoutLoss } from './tensor-checks.js';

/** modality -> [n, d] random normal tokens (seeded by modality name and seed). */
export function seededTokens(shapes: Record<string, [number, number]>, seed = 1): Map<string, tf.Tensor2D> {
  return new Map(Object.entries(shapes).map(([m, [n, d]]) => {
    const rng = new SeededRandom(seed, `tokens/${m}`);
    return [m, tf.tensor2d(Float32Array.from({ length: n * d }, () => rng.normal()), [n, d])] as const;
  }));
}

export function disposeOutput(out: FusionOutput): void {
  tf.dispose([out.z, ...Object.values(out.attention ?? {}), ...(out.auxLoss ? [out.auxLoss] : [])]);
}

export function disposeTokens(tokens: Map<string, tf.Tensor2D>): void {
  tf.dispose([...tokens.values()]);
}

/** The tokens map without `missing`. */
export function without(tokens: Map<string, tf.Tensor2D>, ...missing: string[]): Map<string, tf.Tensor2D> {
  return new Map([...tokens].filter(([m]) => !missing.includes(m)));
}

/** Every non-empty proper subset of `modalities` that is MISSING (the others present). */
export function missingSubsets(modalities: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let mask = 1; mask < (1 << modalities.length) - 1; mask++) out.push(modalities.filter((_, i) => mask & (1 << i)));
  return out;
}

/** z of a fuse call as plain values, checked finite and [1, outDim]; every output tensor is disposed. */
export function fuseValues(fusion: Fusion, tokens: Map<string, tf.Tensor2D>, mode: Mode, what: string): Float32Array {
  const out = fusion.fuse(tokens, mode);
  try {
    expect(out.z.shape, `${what}: z shape`).toEqual([1, fusion.outDim]);
    return finiteValues(out.z, `${what}: z`);
  } finally {
    disposeOutput(out);
  }
}

/** fuse leaves no tensor behind once its outputs are disposed (train and eval). */
export function expectNoLeakOnFuse(fusion: Fusion, tokens: Map<string, tf.Tensor2D>, what: string): void {
  for (const mode of ['train', 'eval'] as const) {
    const before = tf.memory().numTensors;
    fuseValues(fusion, tokens, mode, what);
    expect(tf.memory().numTensors, `${what}: tensors after fuse in ${mode} mode`).toBe(before);
  }
}

/**
 * Five Adam steps on readout(z) + auxLoss over the fusion's variables: losses finite, the same tensor count after
 * every step (Adam's moments are created in the first), and back to the start once the optimizer is disposed.
 */
export function expectFlatTraining(fusion: Fusion, tokens: Map<string, tf.Tensor2D>, what: string): number[] {
  const before = tf.memory().numTensors;
  const optimizer = tf.train.adam(1e-3);
  const counts: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    tf.tidy(() => {
      const loss = optimizer.minimize(() => {
        const out = fusion.fuse(tokens, 'train');
        return out.auxLoss ? tf.add(readoutLoss(out.z), out.auxLoss) as tf.Scalar : readoutLoss(out.z);
      }, true, fusion.variables)!;
      losses.push(loss.dataSync()[0]!);
    });
    counts.push(tf.memory().numTensors);
  }
  optimizer.dispose();
  expect(new Set(counts).size, `${what}: tensor counts over 5 steps ${counts.join(', ')}`).toBe(1);
  expect(tf.memory().numTensors, `${what}: tensors after the optimizer is disposed`).toBe(before);
  expect(losses.every(Number.isFinite), `${what}: losses ${losses.join(', ')}`).toBe(true);
  return losses;
}

/**
 * The spec's options schema compiles under strict Ajv 2020-12 (as the registry's conformance test), `{}` is valid
 * and yields the returned defaults, unknown keys are rejected, and every property has a description.
 */
export function schemaDefaults(schema: Record<string, unknown>): Record<string, unknown> {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, useDefaults: true, allErrors: true });
  ajv.addKeyword('x-mmsurv');
  const validate = ajv.compile(schema);
  const options: Record<string, unknown> = {};
  expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
  expect(validate({ definitelyNotAnOption: 1 })).toBe(false);
  expect(schema['additionalProperties']).toBe(false);
  for (const [key, p] of Object.entries((schema['properties'] ?? {}) as Record<string, { description?: string }>)) {
    expect(p.description, `${key} needs a description`).toBeTruthy();
  }
  return options;
}

/**
 * Run `body` with the backend's BatchMatMul kernel wrapped, and return each call's operand layout ('NN', 'NT', 'TN',
 * 'TT': which operand was transposed) and output shape (last two axes, 'rows x cols'). The kernel is restored after.
 */
export function recordMatMuls(backendName: string, body: () => void): { layouts: string[]; shapes: string[] } {
  const original = tf.getKernel('BatchMatMul', backendName);
  if (!original) throw new Error(`recordMatMuls: backend '${backendName}' has no BatchMatMul kernel`);
  const layouts: string[] = [];
  const shapes: string[] = [];
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
      layouts.push(`${attrs.transposeA ? 'T' : 'N'}${attrs.transposeB ? 'T' : 'N'}`);
      const out = original.kernelFunc(args) as tf.TensorInfo;
      shapes.push(out.shape.slice(-2).join('x'));
      return out;
    },
  });
  try {
    body();
  } finally {
    tf.unregisterKernel('BatchMatMul', backendName);
    tf.registerKernel(original);
  }
  return { layouts, shapes };
}
