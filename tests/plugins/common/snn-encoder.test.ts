import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { SeededRandom } from '../../../core/services/random.js';
import { SnnEncoder, snnEncoderSpec, type SnnEncoderOptions } from '../../../plugins/common/snn-encoder.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { assignWeights, expectGradientOnEveryVariable, maxAbsDiff, readoutLoss, snapshotWeights } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const selu = (x: number) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1));

/** n cases over g genes, values N(mu_g, sd_g) with per-gene location and scale, from a fixed seed. */
function cohort(n: number, g: number, seed = 1): Case[] {
  const rng = new SeededRandom(seed);
  const genes = Array.from({ length: g }, (_, k) => `G${String(k).padStart(3, '0')}`);
  const loc = genes.map((_, k) => k % 7);
  const scale = genes.map((_, k) => 1 + (k % 3));
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    rna: { genes, values: Float32Array.from(genes, (_, k) => rng.normal(loc[k], scale[k])) },
  }));
}

function jsForward(enc: SnnEncoder, x: ArrayLike<number>): number[] {
  const vars = enc.variables;
  let h = Array.from(x);
  for (let l = 0; l < vars.length; l += 2) {
    const [inDim, outDim] = vars[l]!.shape as [number, number];
    const w = vars[l]!.dataSync();
    const b = vars[l + 1]!.dataSync();
    h = Array.from({ length: outDim }, (_, j) => {
      let s = b[j]!;
      for (let i = 0; i < inDim; i++) s += h[i]! * w[i * outDim + j]!;
      return selu(s);
    });
  }
  return h;
}

const opts = (o: Partial<SnnEncoderOptions> = {}): SnnEncoderOptions => optionsWithDefaults(snnEncoderSpec, { dims: [12, 6], ...o });

describe('snn encoder', () => {
  it('has a conforming options schema whose defaults are dims [256, 256], dropout 0.25, scale standard', () => {
    expect(schemaProblems(snnEncoderSpec)).toEqual([]);
    expect(snnEncoderSpec.id).toBe('snn');
    expect(snnEncoderSpec.modalities).toEqual(['rna']);
    expect(optionsWithDefaults(snnEncoderSpec)).toEqual({ dims: [256, 256], dropout: 0.25, scale: 'standard' });
  });

  it('eval output equals SELU(x W + b) blocks over the z-scored vector, computed in plain JS', () => {
    const train = cohort(20, 10);
    const enc = new SnnEncoder(opts(), testContext('encoders.rna'));
    enc.fit(train);
    const c = train[3]!;
    // z-score of case 3 from the training values, by hand (population sd)
    const x = c.rna!.genes.map((_, k) => {
      const vals = train.map((t) => t.rna!.values[k]!);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
      return (c.rna!.values[k]! - mean) / sd;
    });
    const out = enc.encode(c, 'eval')!;
    expect(out.shape).toEqual([1, 6]);
    const expected = jsForward(enc, x);
    expect(expected.some((v) => v < 0)).toBe(true); // SELU, not ReLU
    expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-4);
    out.dispose();
    enc.dispose();
  });

  it('uses LeCun-normal kernels (sd sqrt(1/in)) and zero biases', () => {
    const enc = new SnnEncoder(opts({ dims: [64] }), testContext('encoders.rna'));
    enc.fit(cohort(3, 400));
    const w = Float64Array.from(enc.variables[0]!.dataSync());
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(sd - Math.sqrt(1 / 400)) / Math.sqrt(1 / 400)).toBeLessThan(0.05);
    expect(Array.from(enc.variables[1]!.dataSync()).every((v) => v === 0)).toBe(true);
    enc.dispose();
  });

  it('is self-normalising: standardised inputs give activations with mean ~0 and sd ~1 after two blocks', () => {
    const train = cohort(150, 300, 4);
    const enc = new SnnEncoder(opts({ dims: [256, 256] }), testContext('encoders.rna', 2));
    enc.fit(train);
    const out = tf.tidy(() => tf.concat(train.map((c) => enc.encode(c, 'eval')!)));
    const v = Float64Array.from(out.dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(Math.abs(sd - 1)).toBeLessThan(0.15);
    out.dispose();
    enc.dispose();
  });

  it('alpha dropout in training: seeded, never zeroes a value to exactly 0, off in eval', () => {
    const train = cohort(10, 30);
    const make = (seed: number) => {
      const e = new SnnEncoder(opts({ dims: [64] }), testContext('encoders.rna', seed));
      e.fit(train);
      return e;
    };
    const [a, b, c] = [make(5), make(5), make(6)];
    expect(maxAbsDiff(a.variables[0]!.dataSync(), b.variables[0]!.dataSync())).toBe(0);
    expect(maxAbsDiff(a.variables[0]!.dataSync(), c.variables[0]!.dataSync())).toBeGreaterThan(0.01);
    const [ta, tb, ea, ea2] = [a.encode(train[0]!, 'train')!, b.encode(train[0]!, 'train')!, a.encode(train[0]!, 'eval')!, a.encode(train[0]!, 'eval')!];
    expect(Array.from(ta.dataSync())).toEqual(Array.from(tb.dataSync()));
    expect(Array.from(ea.dataSync())).toEqual(Array.from(ea2.dataSync()));
    const t = ta.dataSync();
    const e = ea.dataSync();
    // dropped units take the constant a * alpha' + b; kept ones a * x + b (PyTorch nn.AlphaDropout, p = 0.25)
    const alphaP = -SELU_ALPHA * SELU_SCALE;
    const p = 0.25;
    const aa = 1 / Math.sqrt((1 - p) * (1 + p * alphaP * alphaP));
    const bb = -aa * alphaP * p;
    let dropped = 0;
    for (let j = 0; j < t.length; j++) {
      const isDropped = Math.abs(t[j]! - (aa * alphaP + bb)) < 1e-5;
      if (isDropped) dropped++;
      else expect(t[j]).toBeCloseTo(aa * e[j]! + bb, 5);
    }
    expect(dropped).toBeGreaterThan(5);
    expect(dropped).toBeLessThan(30);
    tf.dispose([ta, tb, ea, ea2]);
    [a, b, c].forEach((x) => x.dispose());
  });

  it('null without RNA; wrong modality and unfitted use are explained', () => {
    expect(() => new SnnEncoder(opts(), testContext('encoders.clinical'))).toThrow(/encoders.clinical: the 'snn' encoder reads the RNA expression vector/);
    const enc = new SnnEncoder(opts(), testContext('encoders.rna'));
    expect(() => enc.encode(cohort(1, 3)[0]!, 'eval')).toThrow(/encoders.rna: call fit/);
    enc.fit(cohort(4, 5));
    expect(enc.encode({ id: 'x' }, 'eval')).toBeNull();
    enc.dispose();
  });

  it('state -> JSON -> restore on a fresh encoder, plus copied weights, reproduces the outputs', () => {
    const train = cohort(8, 9);
    const enc = new SnnEncoder(opts({ scale: 'minmax' }), testContext('encoders.rna', 3));
    enc.fit(train);
    const fresh = new SnnEncoder(opts({ scale: 'minmax' }), testContext('encoders.rna', 4));
    fresh.restore(JSON.parse(JSON.stringify(enc.state())));
    assignWeights(fresh.variables, snapshotWeights(enc.variables), 'snn');
    const probe: Case = { id: 'p', rna: { genes: [...train[0]!.rna!.genes].reverse(), values: Float32Array.from(train[0]!.rna!.values).reverse() } };
    const [a, b] = [enc.encode(train[0]!, 'eval')!, fresh.encode(probe, 'eval')!];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    enc.dispose();
    fresh.dispose();
  });

  it('gradients reach every variable and training leaks no tensor', () => {
    const train = cohort(6, 7);
    const enc = new SnnEncoder(opts(), testContext('encoders.rna'));
    enc.fit(train);
    const loss = () => readoutLoss(tf.concat(train.map((c) => enc.encode(c, 'train')!)) as tf.Tensor2D);
    expectGradientOnEveryVariable(enc.variables, loss, 'snn');
    const before = tf.memory().numTensors;
    tf.dispose(enc.encode(train[0]!, 'train')!);
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.01);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, enc.variables); });
    step();
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    opt.dispose();
    enc.dispose();
  });
});
