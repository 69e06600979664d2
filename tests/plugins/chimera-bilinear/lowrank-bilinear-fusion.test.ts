import * as tf from '@tensorflow/tfjs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComponentSpec, Registrar } from '../../../core/contracts/component.js';
import { SeededRandom } from '../../../core/services/random.js';
import { register } from '../../../plugins/chimera-bilinear/index.js';
import {
  LowRankBilinearFusion,
  lowRankBilinearFusionSpec,
  type LowRankBilinearOptions,
} from '../../../plugins/chimera-bilinear/lowrank-bilinear-fusion.js';
import { testContext } from '../../support/context.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const DIMS = new Map([['wsi', 6], ['rna', 5], ['clinical', 4]]);
const DEFAULTS: LowRankBilinearOptions = { pairs: [{ a: 'wsi', b: 'rna', out: 64 }, { a: 'wsi', b: 'clinical', out: 32 }, { a: 'rna', b: 'clinical', out: 32 }], rank: 64, dropout: 0 };

function values(n: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** wsi: 3 tokens (mean-pooled by the fusion), rna and clinical: one token each. */
function makeTokens(): Map<string, tf.Tensor2D> {
  return new Map([
    ['wsi', tf.tensor2d(values(3 * 6, 11), [3, 6])],
    ['rna', tf.tensor2d(values(5, 12), [1, 5])],
    ['clinical', tf.tensor2d(values(4, 13), [1, 4])],
  ]);
}

function built(options: Partial<LowRankBilinearOptions> = {}, seed = 1): LowRankBilinearFusion {
  const f = new LowRankBilinearFusion({ ...DEFAULTS, ...options }, testContext('fusion', seed));
  f.build(DIMS);
  return f;
}

/** y = x @ K + b for one row vector x, K row-major [inDim, outDim]. */
function linear(x: number[], kernel: Float32Array, bias: Float32Array): number[] {
  const outDim = bias.length;
  return Array.from({ length: outDim }, (_, j) => x.reduce((s, xi, i) => s + xi * kernel[i * outDim + j]!, bias[j]!));
}

function meanRows(t: tf.Tensor2D): number[] {
  const [n, d] = t.shape;
  const v = t.dataSync();
  return Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i * d + j]!;
    return s / n;
  });
}

describe('chimera.lowrank-bilinear fusion', () => {
  it('z = concat over pairs of out(f1(x_a) * f2(x_b)), matching a plain-JS recomputation from the layer weights', () => {
    const f = built();
    // non-zero biases, so the recomputation checks them too
    f.pairLayers().forEach((l, i) => {
      for (const [k, layer] of [l.f1, l.f2, l.out].entries()) {
        layer.setWeights({ kernel: layer.getWeights().kernel, bias: values(layer.outDim, 100 + 10 * i + k) });
      }
    });
    const tokens = makeTokens();
    const { z } = f.fuse(tokens, 'eval');
    expect(z.shape).toEqual([1, 128]);
    const pooled = new Map([...tokens].map(([m, t]) => [m, meanRows(t)]));
    const expected = f.pairLayers().flatMap(({ pair, f1, f2, out }) => {
      const w1 = f1.getWeights();
      const w2 = f2.getWeights();
      const wo = out.getWeights();
      const p1 = linear(pooled.get(pair.a)!, w1.kernel, w1.bias!);
      const p2 = linear(pooled.get(pair.b)!, w2.kernel, w2.bias!);
      return linear(p1.map((v, i) => v * p2[i]!), wo.kernel, wo.bias!);
    });
    const got = z.dataSync();
    expect(got.length).toBe(expected.length);
    let maxDiff = 0;
    expected.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - got[i]!))));
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([z, ...tokens.values()]);
    f.dispose();
  });

  it('has HKKH\'s sizes by default: z [1, 128], rank-64 Xavier-normal kernels, zero biases', () => {
    const f = new LowRankBilinearFusion({}, testContext('fusion'));
    expect(f.outDim).toBe(128);
    expect(f.variables).toEqual([]);
    f.build(DIMS);
    const shapes = f.variables.map((v) => v.shape);
    expect(shapes).toEqual([
      [6, 64], [64], [5, 64], [64], [64, 64], [64],
      [6, 64], [64], [4, 64], [64], [64, 32], [32],
      [5, 64], [64], [4, 64], [64], [64, 32], [32],
    ]);
    const f1 = f.pairLayers()[0]!.out.getWeights();
    const sd = Math.sqrt(f1.kernel.reduce((s, v) => s + v * v, 0) / f1.kernel.length);
    expect(Math.abs(sd - Math.sqrt(2 / 128)) / Math.sqrt(2 / 128)).toBeLessThan(0.1);
    expect(Array.from(f1.bias!).every((b) => b === 0)).toBe(true);
    const tokens = makeTokens();
    const { z } = f.fuse(tokens, 'eval');
    expect(z.shape).toEqual([1, 128]);
    tf.dispose([z, ...tokens.values()]);
    f.dispose();
  });

  it('honours custom pairs and rank', () => {
    const f = built({ pairs: [{ a: 'clinical', b: 'wsi', out: 3 }], rank: 2 });
    expect(f.outDim).toBe(3);
    expect(f.variables.map((v) => v.shape)).toEqual([[4, 2], [2], [6, 2], [2], [2, 3], [3]]);
    const tokens = makeTokens();
    const { z } = f.fuse(tokens, 'eval');
    expect(z.shape).toEqual([1, 3]);
    tf.dispose([z, ...tokens.values()]);
    f.dispose();
  });

  it('sends gradients to every variable', () => {
    const f = built();
    const tokens = makeTokens();
    const { grads } = tf.variableGrads(() => f.fuse(tokens, 'train').z.square().sum() as tf.Scalar, f.variables);
    expect(Object.keys(grads).length).toBe(f.variables.length);
    for (const v of f.variables) {
      const g = grads[v.name]!;
      expect(g.shape).toEqual(v.shape);
      const mag = g.abs().max().dataSync()[0]!;
      expect(mag, v.name).toBeGreaterThan(0);
      expect(Number.isFinite(mag)).toBe(true);
    }
    tf.dispose([...Object.values(grads), ...tokens.values()]);
    f.dispose();
  });

  it('a missing modality zeroes every pair that involves it and leaves the others unchanged', () => {
    const f = built();
    const tokens = makeTokens();
    const full = Array.from(f.fuse(tokens, 'eval').z.dataSync());
    const noRna = new Map([...tokens].filter(([m]) => m !== 'rna'));
    const { z } = f.fuse(noRna, 'eval');
    const v = Array.from(z.dataSync());
    expect(v.length).toBe(128);
    expect(v.every(Number.isFinite)).toBe(true);
    expect(v.slice(0, 64).every((x) => x === 0)).toBe(true); // wsi x rna
    expect(v.slice(64, 96)).toEqual(full.slice(64, 96)); // wsi x clinical
    expect(v.slice(96, 128).every((x) => x === 0)).toBe(true); // rna x clinical
    expect(v.slice(64, 96).some((x) => x !== 0)).toBe(true);
    const onlyWsi = f.fuse(new Map([['wsi', tokens.get('wsi')!]]), 'eval').z;
    expect(Array.from(onlyWsi.dataSync()).every((x) => x === 0)).toBe(true);
    tf.dispose([z, onlyWsi, ...tokens.values()]);
    f.dispose();
  });

  it('is deterministic per seed: same seed same z, another seed another z; dropout masks too', () => {
    const tokens = makeTokens();
    const z = (seed: number, mode: 'train' | 'eval', rate = 0) => {
      const f = built({ dropout: rate }, seed);
      const out = f.fuse(tokens, mode).z;
      const v = Array.from(out.dataSync());
      out.dispose();
      f.dispose();
      return v;
    };
    expect(z(3, 'eval')).toEqual(z(3, 'eval'));
    expect(z(3, 'eval')).not.toEqual(z(4, 'eval'));
    const dropped = z(3, 'train', 0.5);
    expect(dropped).toEqual(z(3, 'train', 0.5));
    expect(dropped).not.toEqual(z(3, 'eval', 0.5));
    expect(z(3, 'eval', 0.5)).toEqual(z(3, 'eval'));
    tf.dispose([...tokens.values()]);
  });

  it('leaks no tensors in fuse or over 5 Adam steps', () => {
    const f = built({ dropout: 0.25 });
    const tokens = makeTokens();
    const before = tf.memory().numTensors;
    const { z } = f.fuse(tokens, 'train');
    expect(tf.memory().numTensors).toBe(before + 1);
    z.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.01);
    const step = () => tf.tidy(() => {
      opt.minimize(() => f.fuse(tokens, 'train').z.square().mean() as tf.Scalar, false, f.variables);
    });
    step(); // creates Adam's moment variables
    const afterFirst = tf.memory().numTensors;
    const w0 = Array.from(f.variables[0]!.dataSync());
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(Array.from(f.variables[0]!.dataSync())).not.toEqual(w0);
    opt.dispose();
    const nVariables = f.variables.length;
    f.dispose();
    tf.dispose([...tokens.values()]);
    expect(tf.memory().numTensors).toBe(before - nVariables - tokens.size); // the fusion frees all it owns
  });

  it('explains a missing encoder, a missing build, a width mismatch and an empty case', () => {
    const ctx = testContext('fusion');
    const f = new LowRankBilinearFusion({}, ctx);
    expect(() => f.fuse(new Map(), 'eval')).toThrow(/fusion: call build\(inputDims\) before fuse/);
    expect(() => f.build(new Map([['wsi', 6], ['rna', 5]]))).toThrow(
      /fusion\.pairs\[1\] \(wsi x clinical\): expected an encoder for modality 'clinical', found encoders for rna, wsi/,
    );
    f.build(new Map([...DIMS, ['knowledge', 3]]));
    expect(ctx.memory.lines.some((m) => /knowledge are in no pair/.test(m.message))).toBe(true);
    const bad = tf.zeros([2, 7]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => f.fuse(new Map([['wsi', bad]]), 'eval')).toThrow(/'wsi' tokens: expected shape \[n >= 1, 6\] \(as built\), found \[2, 7\]/);
    expect(() => f.fuse(new Map([['knowledge', bad]]), 'eval')).toThrow(/at least one of wsi, rna, clinical, found knowledge/);
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
    f.dispose();
    expect(() => new LowRankBilinearFusion({ rank: 0 }, testContext('fusion'))).toThrow(/fusion\.rank: expected an integer >= 1, found 0/);
    expect(() => new LowRankBilinearFusion({ pairs: [] }, testContext('fusion'))).toThrow(/fusion\.pairs: expected at least one pair/);
  });

  it('has a strict options schema whose defaults are HKKH\'s, and register() adds it', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, useDefaults: true, allErrors: true });
    const validate = ajv.compile(lowRankBilinearFusionSpec.optionsSchema);
    const options: Record<string, unknown> = {};
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(options).toEqual(DEFAULTS);
    expect(validate({ rank: 64, typo: 1 })).toBe(false);
    expect(validate({ pairs: [{ a: 'wsi', b: 'rna' }] })).toBe(false);
    const fusions: ComponentSpec[] = [];
    register({ fusion: (s: ComponentSpec) => fusions.push(s) } as unknown as Registrar);
    expect(fusions.map((s) => s.id)).toEqual(['chimera.lowrank-bilinear']);
  });
});
