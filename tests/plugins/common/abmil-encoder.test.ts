import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { Case, PatchBag } from '../../../core/contracts/case.js';
import { explicitTransposeIn } from '../../../core/model/explicit-transpose.js';
import { nativeMatmulStatus } from '../../../core/backend/native-matmul.js';
import { SeededRandom } from '../../../core/services/random.js';
import { AbmilEncoder, abmilEncoderSpec, type AbmilEncoderOptions } from '../../../plugins/common/abmil-encoder.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { assignWeights, expectGradientOnEveryVariable, maxAbsDiff, readoutLoss, snapshotWeights } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const DIM = 6;

function bag(slideId: string, n: number, seed: number, dim = DIM): PatchBag {
  const rng = new SeededRandom(seed);
  return { slideId, n, dim, features: Float32Array.from({ length: n * dim }, () => rng.normal()) };
}

const train: Case[] = [
  { id: 'a', wsi: [bag('a1', 7, 1)] },
  { id: 'b', wsi: [bag('b1', 4, 2), bag('b2', 5, 3)] },
  { id: 'c', wsi: [bag('c1', 9, 4)] },
];

const opts = (o: Partial<AbmilEncoderOptions> = {}): AbmilEncoderOptions => optionsWithDefaults(abmilEncoderSpec, { dim: 8, ...o });

/** Plain-JS gated attention from the encoder's weights: rows of x -> { alpha, z }. */
function jsAbmil(enc: AbmilEncoder, rows: number[][]): { alpha: number[]; z: number[] } {
  const [W, b, V, bV, U, bU, w] = enc.variables.map((v) => ({ data: v.dataSync(), shape: v.shape }));
  const lin = (x: number[], k: { data: ArrayLike<number>; shape: number[] }, bias?: { data: ArrayLike<number> }) => {
    const [inDim, outDim] = k.shape as [number, number];
    return Array.from({ length: outDim }, (_, j) => {
      let s = bias ? bias.data[j]! : 0;
      for (let i = 0; i < inDim; i++) s += x[i]! * k.data[i * outDim + j]!;
      return s;
    });
  };
  const h = rows.map((x) => lin(x, W!, b).map((v) => Math.max(0, v)));
  const a = h.map((hi) => {
    const t = lin(hi, V!, bV).map(Math.tanh);
    const s = lin(hi, U!, bU).map((v) => 1 / (1 + Math.exp(-v)));
    return lin(t.map((v, j) => v * s[j]!), w!)[0]!;
  });
  const m = Math.max(...a);
  const e = a.map((v) => Math.exp(v - m));
  const sum = e.reduce((p, q) => p + q, 0);
  const alpha = e.map((v) => v / sum);
  const z = h[0]!.map((_, j) => h.reduce((acc, hi, i) => acc + alpha[i]! * hi[j]!, 0));
  return { alpha, z };
}

function rowsOf(c: Case): number[][] {
  return c.wsi!.flatMap((b) => Array.from({ length: b.n }, (_, i) => Array.from(b.features!.subarray(i * b.dim, (i + 1) * b.dim))));
}

describe('abmil encoder', () => {
  it('has a conforming options schema: dim 512, attentionDim null (= dim / 2), dropout 0.25, maxPatches null, evalChunk 8192', () => {
    expect(schemaProblems(abmilEncoderSpec)).toEqual([]);
    expect(abmilEncoderSpec.id).toBe('abmil');
    expect(abmilEncoderSpec.modalities).toEqual(['wsi']);
    expect(optionsWithDefaults(abmilEncoderSpec)).toEqual({ dim: 512, attentionDim: null, dropout: 0.25, maxPatches: null, evalChunk: 8192 });
    const enc = abmilEncoderSpec.create(optionsWithDefaults(abmilEncoderSpec), testContext('encoders.wsi')) as AbmilEncoder;
    enc.fit(train);
    expect(enc.outDim).toBe(512);
    expect(enc.attentionDim).toBe(256);
    // W, b, V, b_V, U, b_U, w (no bias on the score)
    expect(enc.variables.map((v) => v.shape)).toEqual([[DIM, 512], [512], [512, 256], [256], [512, 256], [256], [256, 1]]);
    enc.dispose();
  });

  it('streams bags larger than evalChunk (online softmax): the same token and attention as the plain-JS one-pass pooling, tensors flat', () => {
    // 23 patches over two slides; the last rows are scaled up so the running maximum of the scores grows mid-bag
    const big = bag('s2', 14, 8);
    for (let i = 10 * DIM; i < big.features!.length; i++) big.features![i]! *= 25;
    const c: Case = { id: 'big', wsi: [bag('s1', 9, 7), big] };
    for (const evalChunk of [1, 4, 5, 22]) {
      const enc = new AbmilEncoder(opts({ attentionDim: 5, evalChunk }), testContext('encoders.wsi', 3));
      enc.fit(train);
      const ref = jsAbmil(enc, rowsOf(c));
      expect(ref.alpha.indexOf(Math.max(...ref.alpha))).toBeGreaterThanOrEqual(19); // the top patch comes late: the rescaling matters
      expect(Math.max(...ref.alpha)).toBeGreaterThan(0.1);
      const before = tf.memory().numTensors;
      const z = enc.encode(c, 'eval')!;
      expect(z.shape).toEqual([1, 8]);
      expect(maxAbsDiff(z.dataSync(), ref.z)).toBeLessThan(1e-5);
      z.dispose();
      const { attention } = enc.explain(c)!;
      expect(maxAbsDiff(attention, ref.alpha)).toBeLessThan(1e-6);
      expect(tf.memory().numTensors).toBe(before);
      enc.dispose();
    }
  });

  it('eval token and explain() equal the gated attention recomputed in plain JS, over all slides in slide order', () => {
    const enc = new AbmilEncoder(opts({ attentionDim: 5 }), testContext('encoders.wsi'));
    enc.fit(train);
    const c = train[1]!;
    const ref = jsAbmil(enc, rowsOf(c));
    const z = enc.encode(c, 'eval')!;
    expect(z.shape).toEqual([1, 8]);
    expect(maxAbsDiff(z.dataSync(), ref.z)).toBeLessThan(1e-5);
    const { attention } = enc.explain(c)!;
    expect(attention.length).toBe(9);
    expect(maxAbsDiff(attention, ref.alpha)).toBeLessThan(1e-6);
    expect(attention.reduce((p, q) => p + q, 0)).toBeCloseTo(1, 5);
    expect(Math.max(...attention) - Math.min(...attention)).toBeGreaterThan(1e-3); // not uniform
    // swapping the slides permutes the attention and leaves the token unchanged
    const swapped: Case = { id: 'b', wsi: [c.wsi![1]!, c.wsi![0]!] };
    const att2 = enc.explain(swapped)!.attention;
    expect(maxAbsDiff(att2, [...attention.slice(4), ...attention.slice(0, 4)])).toBeLessThan(1e-6);
    const z2 = enc.encode(swapped, 'eval')!;
    expect(maxAbsDiff(z2.dataSync(), z.dataSync())).toBeLessThan(1e-5);
    tf.dispose([z, z2]);
    enc.dispose();
  });

  it('samples at most maxPatches patches in training (a seeded subset), all patches in eval', () => {
    const make = (seed: number) => {
      const e = new AbmilEncoder(opts({ maxPatches: 4, dropout: 0 }), testContext('encoders.wsi', seed));
      e.fit(train);
      return e;
    };
    const c = train[2]!; // 9 patches
    const [e1, e2] = [make(3), make(3)];
    const t1 = e1.encode(c, 'train')!;
    const t2 = e2.encode(c, 'train')!;
    expect(Array.from(t1.dataSync())).toEqual(Array.from(t2.dataSync()));
    // the training token is ABMIL over exactly one 4-subset of the 9 patches
    const rows = rowsOf(c);
    const matches: number[][] = [];
    for (let m = 0; m < 1 << 9; m++) {
      const idx = [...Array(9).keys()].filter((i) => m & (1 << i));
      if (idx.length !== 4) continue;
      if (maxAbsDiff(jsAbmil(e1, idx.map((i) => rows[i]!)).z, t1.dataSync()) < 1e-5) matches.push(idx);
    }
    expect(matches.length).toBe(1);
    const full = e1.encode(c, 'eval')!;
    expect(maxAbsDiff(full.dataSync(), jsAbmil(e1, rows).z)).toBeLessThan(1e-5);
    expect(e1.explain(c)!.attention.length).toBe(9);
    // a bag no larger than maxPatches is used whole in training too
    const small = e1.encode({ id: 's', wsi: [bag('s', 3, 9)] }, 'train')!;
    const smallEval = e1.encode({ id: 's', wsi: [bag('s', 3, 9)] }, 'eval')!;
    expect(maxAbsDiff(small.dataSync(), smallEval.dataSync())).toBeLessThan(1e-6);
    tf.dispose([t1, t2, full, small, smallEval]);
    e1.dispose();
    e2.dispose();
  });

  it('null without patches; unloaded features, other widths and unfitted use are explained', () => {
    expect(() => new AbmilEncoder(opts(), testContext('encoders.rna'))).toThrow(/encoders.rna: the 'abmil' encoder reads slide patch features/);
    const enc = new AbmilEncoder(opts(), testContext('encoders.wsi'));
    expect(() => enc.encode(train[0]!, 'eval')).toThrow(/encoders.wsi: call fit/);
    expect(() => enc.fit([train[0]!, { id: 'x', wsi: [bag('x', 2, 1, 5)] }])).toThrow(/encoders.wsi: expected one patch feature width .* found 6, 5/);
    enc.fit(train);
    expect(enc.encode({ id: 'none' }, 'eval')).toBeNull();
    expect(enc.encode({ id: 'empty', wsi: [] }, 'train')).toBeNull();
    expect(enc.explain({ id: 'none' })).toBeNull();
    expect(() => enc.encode({ id: 'u', wsi: [{ slideId: 's9', n: 3, dim: DIM }] }, 'eval')).toThrow(/encoders.wsi: case u: slide s9 features are not loaded/);
    expect(() => enc.encode({ id: 'w', wsi: [bag('s8', 2, 1, 4)] }, 'eval')).toThrow(/case w: slide s8 has feature width 4, the encoder was fitted on 6/);
    enc.dispose();
  });

  it('initialises from the seed; state -> JSON -> restore plus copied weights reproduces tokens and attention', () => {
    const a = new AbmilEncoder(opts(), testContext('encoders.wsi', 11));
    const b = new AbmilEncoder(opts(), testContext('encoders.wsi', 11));
    const c = new AbmilEncoder(opts(), testContext('encoders.wsi', 12));
    [a, b, c].forEach((e) => e.fit(train));
    a.variables.forEach((v, i) => expect(maxAbsDiff(v.dataSync(), b.variables[i]!.dataSync())).toBe(0));
    expect(maxAbsDiff(a.variables[0]!.dataSync(), c.variables[0]!.dataSync())).toBeGreaterThan(0.01);
    const fresh = new AbmilEncoder(opts(), testContext('encoders.wsi', 13));
    fresh.restore(JSON.parse(JSON.stringify(a.state())));
    assignWeights(fresh.variables, snapshotWeights(a.variables), 'abmil');
    const [za, zf] = [a.encode(train[1]!, 'eval')!, fresh.encode(train[1]!, 'eval')!];
    expect(Array.from(zf.dataSync())).toEqual(Array.from(za.dataSync()));
    expect(Array.from(fresh.explain(train[1]!)!.attention)).toEqual(Array.from(a.explain(train[1]!)!.attention));
    expect(() => fresh.restore({ inDim: 0 })).toThrow(/encoders.wsi: expected a saved state \{ inDim: positive integer \}/);
    tf.dispose([za, zf]);
    [a, b, c, fresh].forEach((e) => e.dispose());
  });

  it('gradients reach every variable (attention branches included) and nothing leaks', () => {
    const enc = new AbmilEncoder(opts({ maxPatches: 6 }), testContext('encoders.wsi'));
    enc.fit(train);
    const loss = () => readoutLoss(tf.concat(train.map((c) => enc.encode(c, 'train')!)) as tf.Tensor2D);
    expectGradientOnEveryVariable(enc.variables, loss, 'abmil');
    const before = tf.memory().numTensors;
    tf.dispose([enc.encode(train[1]!, 'eval')!, enc.encode(train[2]!, 'train')!]);
    enc.explain(train[1]!);
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

describe('abmil encoder on the wasm backend (explicit-transpose gradients)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the plain-JS reference and trains every variable', () => {
    const ctx = testContext('encoders.wsi');
    expect(explicitTransposeIn(ctx)).toBe(!nativeMatmulStatus().active); // native sgemm: stock gradients
    const enc = new AbmilEncoder(opts({ maxPatches: 6 }), ctx);
    enc.fit(train);
    const z = enc.encode(train[1]!, 'eval')!;
    expect(maxAbsDiff(z.dataSync(), jsAbmil(enc, rowsOf(train[1]!)).z)).toBeLessThan(1e-5);
    z.dispose();
    expectGradientOnEveryVariable(enc.variables, () => readoutLoss(tf.concat(train.map((c) => enc.encode(c, 'train')!)) as tf.Tensor2D), 'abmil (wasm)');
    enc.dispose();
  });
});
