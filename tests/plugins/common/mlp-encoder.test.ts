import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { MlpEncoder, mlpEncoderSpec, type MlpEncoderOptions } from '../../../plugins/common/mlp-encoder.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { assignWeights, expectGradientOnEveryVariable, maxAbsDiff, readoutLoss, snapshotWeights } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const GENES = ['G1', 'G2', 'G3', 'G4', 'G5'];

/** Training cases with genes in varying file order; G5 is missing (null -> NaN) in case t3. */
function cohort(): Case[] {
  const rows = [
    [1, 10, -2, 0.5, 3],
    [2, 14, 0, 0.5, 5],
    [3, 12, 4, 0.5, NaN],
    [6, 16, 2, 0.5, 7],
  ];
  return rows.map((r, i) => {
    const order = i % 2 === 0 ? GENES : [...GENES].reverse();
    const values = order.map((g) => r[GENES.indexOf(g)]!);
    return { id: `t${i}`, rna: { genes: order, values: Float32Array.from(values) }, label: { time: i + 1, event: true } };
  });
}

/** Plain-JS per-gene z-score (population sd, sd 0 -> 1, missing = training mean) of row `x`. */
function standardise(train: Case[], x: Record<string, number>): number[] {
  return GENES.map((g) => {
    const vals = train.map((c) => c.rna!.values[c.rna!.genes.indexOf(g)]!).filter((v) => !Number.isNaN(v));
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length) || 1;
    const v = x[g] ?? mean;
    return (v - mean) / sd;
  });
}

/** relu(x W + b) for each layer, from the encoder's variables [W0, b0, W1, b1, ...]. */
function jsForward(enc: MlpEncoder, x: number[]): number[] {
  const vars = enc.variables;
  let h = x;
  for (let l = 0; l < vars.length; l += 2) {
    const [inDim, outDim] = vars[l]!.shape as [number, number];
    const w = vars[l]!.dataSync();
    const b = vars[l + 1]!.dataSync();
    const next: number[] = [];
    for (let j = 0; j < outDim; j++) {
      let s = b[j]!;
      for (let i = 0; i < inDim; i++) s += h[i]! * w[i * outDim + j]!;
      next.push(Math.max(0, s));
    }
    h = next;
  }
  return h;
}

const opts = (o: Partial<MlpEncoderOptions> = {}): MlpEncoderOptions => optionsWithDefaults(mlpEncoderSpec, { dims: [6, 3], ...o });
const probe: Case = { id: 'p', rna: { genes: ['G3', 'G1', 'G2', 'G4', 'EXTRA'], values: Float32Array.from([1, 4, 11, 0.5, 99]) } };

describe('mlp encoder', () => {
  it('has a conforming options schema whose defaults are dims [256, 256], dropout 0.25, scale standard', () => {
    expect(schemaProblems(mlpEncoderSpec)).toEqual([]);
    expect(mlpEncoderSpec.id).toBe('mlp');
    expect(mlpEncoderSpec.modalities).toEqual(['rna']);
    expect(optionsWithDefaults(mlpEncoderSpec)).toEqual({ dims: [256, 256], dropout: 0.25, scale: 'standard' });
    const enc = mlpEncoderSpec.create(optionsWithDefaults(mlpEncoderSpec), testContext('encoders.rna')) as MlpEncoder;
    enc.fit(cohort());
    expect(enc.outDim).toBe(256);
    expect(enc.variables.map((v) => v.shape)).toEqual([[5, 256], [256], [256, 256], [256]]);
    enc.dispose();
  });

  it('eval output equals ReLU layers over the z-scored, gene-aligned vector computed in plain JS', () => {
    const train = cohort();
    const enc = new MlpEncoder(opts(), testContext('encoders.rna'));
    enc.fit(train);
    expect(enc.state()!.geneOrder).toEqual(GENES);
    const out = enc.encode(probe, 'eval')!;
    expect(out.shape).toEqual([1, 3]);
    // G5 absent from the probe -> its training mean (5) -> 0 after scaling; EXTRA is ignored
    const x = standardise(train, { G1: 4, G2: 11, G3: 1, G4: 0.5 });
    expect(x[3]).toBe(0); // constant gene: sd 0 -> 1, value - mean = 0
    expect(x[4]).toBe(0);
    const expected = jsForward(enc, x);
    expect(expected.some((v) => v > 0)).toBe(true);
    expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-5);
    out.dispose();
    enc.dispose();
  });

  it("scale 'minmax' maps the training range to [-1, 1]; 'none' feeds raw values", () => {
    const train = cohort();
    const mm = new MlpEncoder(opts({ scale: 'minmax' }), testContext('encoders.rna'));
    mm.fit(train);
    // G1 in [1, 6]: 4 -> 2 * 3 / 5 - 1 = 0.2; G2 in [10, 16]: 11 -> -2/3; G3 in [-2, 4]: 1 -> 0; G4 constant: -1; G5 mean 5 in [3, 7] -> 0
    const xm = [0.2, 2 / 6 - 1, 0, -1, 0];
    const om = mm.encode(probe, 'eval')!;
    expect(maxAbsDiff(om.dataSync(), jsForward(mm, xm))).toBeLessThan(1e-5);
    const raw = new MlpEncoder(opts({ scale: 'none' }), testContext('encoders.rna'));
    raw.fit(train);
    const or = raw.encode(probe, 'eval')!;
    expect(maxAbsDiff(or.dataSync(), jsForward(raw, [4, 11, 1, 0.5, 5]))).toBeLessThan(1e-5);
    tf.dispose([om, or]);
    mm.dispose();
    raw.dispose();
  });

  it('returns null without RNA and explains what is wrong otherwise', () => {
    expect(() => new MlpEncoder(opts(), testContext('encoders.wsi'))).toThrow(/encoders.wsi: the 'mlp' encoder reads the RNA expression vector/);
    const enc = new MlpEncoder(opts(), testContext('encoders.rna'));
    expect(() => enc.encode(probe, 'eval')).toThrow(/encoders.rna: call fit/);
    expect(() => enc.fit([{ id: 'a' }])).toThrow(/encoders.rna: none of the 1 training cases has RNA/);
    enc.fit(cohort());
    expect(enc.encode({ id: 'no-rna' }, 'eval')).toBeNull();
    const inf: Case = { id: 'bad', rna: { genes: ['G1'], values: Float32Array.from([Infinity]) } };
    expect(() => enc.encode(inf, 'eval')).toThrow(/encoders.rna: case bad: gene "G1" is Infinity/);
    enc.dispose();
  });

  it('initialises from the seed: same seed same weights, another seed other weights; dropout masks are seeded too', () => {
    const make = (seed: number) => {
      const e = new MlpEncoder(opts({ dims: [16, 8] }), testContext('encoders.rna', seed));
      e.fit(cohort());
      return e;
    };
    const [a, b, c] = [make(7), make(7), make(8)];
    expect(maxAbsDiff(a.variables[0]!.dataSync(), b.variables[0]!.dataSync())).toBe(0);
    expect(maxAbsDiff(a.variables[0]!.dataSync(), c.variables[0]!.dataSync())).toBeGreaterThan(0.01);
    const ta = a.encode(probe, 'train')!;
    const tb = b.encode(probe, 'train')!;
    const ea = a.encode(probe, 'eval')!;
    expect(Array.from(ta.dataSync())).toEqual(Array.from(tb.dataSync()));
    expect(maxAbsDiff(ta.dataSync(), ea.dataSync())).toBeGreaterThan(0); // dropout (and 1/(1-p) scaling) in training
    tf.dispose([ta, tb, ea]);
    [a, b, c].forEach((e) => e.dispose());
  });

  it('state -> JSON -> restore on a fresh encoder, plus copied weights, reproduces the outputs', () => {
    const enc = new MlpEncoder(opts(), testContext('encoders.rna', 3));
    enc.fit(cohort());
    const state = JSON.parse(JSON.stringify(enc.state()));
    const fresh = new MlpEncoder(opts(), testContext('encoders.rna', 99));
    fresh.restore(state);
    assignWeights(fresh.variables, snapshotWeights(enc.variables), 'mlp');
    const [a, b] = [enc.encode(probe, 'eval')!, fresh.encode(probe, 'eval')!];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    expect(() => new MlpEncoder(opts({ scale: 'minmax' }), testContext('encoders.rna')).restore(state)).toThrow(/saved RNA scaler is 'standard' but the options say scale 'minmax'/);
    expect(() => fresh.restore({ scale: 'standard', geneOrder: ['A'], fill: [] })).toThrow(/fill must hold 1 finite numbers/);
    enc.dispose();
    fresh.dispose();
  });

  it('gradients reach every variable and training leaks no tensor', () => {
    const enc = new MlpEncoder(opts({ dims: [8, 4] }), testContext('encoders.rna'));
    const train = cohort();
    enc.fit(train);
    const loss = () => readoutLoss(tf.concat(train.map((c) => enc.encode(c, 'train')!)) as tf.Tensor2D);
    expectGradientOnEveryVariable(enc.variables, loss, 'mlp');
    const before = tf.memory().numTensors;
    tf.dispose(enc.encode(probe, 'eval')!);
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.01);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, enc.variables); });
    step(); // creates the optimizer's slots
    const afterFirst = tf.memory().numTensors;
    const w0 = snapshotWeights(enc.variables);
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(maxAbsDiff(w0[0]!.data, enc.variables[0]!.dataSync())).toBeGreaterThan(0);
    opt.dispose();
    enc.dispose();
  });
});
