import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import type { Case } from '../../../core/contracts/case.js';
import { SeededRandom } from '../../../core/services/random.js';
import { Ppeg, squareGrid, TransmilEncoder, transmilEncoderSpec, type TransmilEncoderOptions } from '../../../plugins/common/transmil-encoder.js';
import { testContext } from '../../support/context.js';
import { depthwiseSame, fromFlat, layerNorm, matmul, maxAbsDiff, nystromAttention, toGrid, type Mat } from '../../core/model/plain-js.js';
import { checkSpec } from './spec-conformance.js';

const tiny: TransmilEncoderOptions = { dim: 8, heads: 2, landmarks: 4, pinvIterations: 6, attention: 'auto', dropout: 0, maxPatches: null };

function wsiCase(id: string, n: number, dim: number, seed = 1): Case {
  const rng = new SeededRandom(seed);
  return { id, wsi: [{ slideId: `${id}-1`, n, dim, features: Float32Array.from({ length: n * dim }, () => rng.normal()) }] };
}

/** TransMIL.forward of the official repository, by loops, from the encoder's variables (dropout off). */
function plainTransmil(enc: TransmilEncoder, c: Case, o: TransmilEncoderOptions): number[] {
  const vals = enc.variables.map((v) => Array.from(v.dataSync()));
  const bag = c.wsi![0]!;
  const dim = o.dim;
  const [fcK, fcB, cls] = vals;
  const layer = (off: number) => ({
    gamma: vals[off]!, beta: vals[off + 1]!,
    w: { qkv: fromFlat(vals[off + 2]!, dim, 3 * dim), out: fromFlat(vals[off + 3]!, dim, dim), outBias: vals[off + 4]!, residual: fromFlat(vals[off + 5]!, 33, o.heads) },
  });
  const [l1, l2] = [layer(3), layer(15)];
  const ppeg = [7, 5, 3].map((k, i) => ({ kernel: toGrid(vals[9 + 2 * i]!, k, k, dim), bias: vals[10 + 2 * i]! }));
  const [normG, normB] = [vals[21]!, vals[22]!];
  let h: Mat = matmul(fromFlat(bag.features!, bag.n, bag.dim), fromFlat(fcK!, bag.dim, dim)).map((r) => r.map((v, j) => Math.max(0, v + fcB![j]!)));
  const side = Math.ceil(Math.sqrt(bag.n));
  h = [...h, ...h.slice(0, side * side - bag.n)]; // h = torch.cat([h, h[:, :add_length, :]])
  h = [cls!, ...h];
  const transLayer = (x: Mat, l: typeof l1) => {
    const a = nystromAttention(layerNorm(x, l.gamma, l.beta), l.w, o.heads, o.landmarks!, o.pinvIterations, x.length <= o.landmarks!);
    return x.map((r, i) => r.map((v, j) => v + a[i]![j]!));
  };
  h = transLayer(h, l1);
  const grid = toGrid(h.slice(1).flat(), side, side, dim);
  const convs = ppeg.map((p) => depthwiseSame(grid, p.kernel));
  const mixed = grid.map((row, i) => row.map((cell, j) => cell.map((v, ch) => v + convs.reduce((s, cv, k) => s + cv[i]![j]![ch]! + ppeg[k]!.bias[ch]!, 0))));
  h = [h[0]!, ...mixed.flat()];
  h = transLayer(h, l2);
  return layerNorm([h[0]!], normG, normB)[0]!;
}

it('spec: strict schema, {} valid with the documented defaults, modalities [wsi]', () => {
  expect(checkSpec(transmilEncoderSpec)).toEqual({ dim: 512, heads: 8, landmarks: null, pinvIterations: 6, attention: 'auto', dropout: 0.1, maxPatches: null });
  expect(transmilEncoderSpec.modalities).toEqual(['wsi']);
});

it('squareGrid pads to the next square (official _H = ceil(sqrt(n)))', () => {
  expect([1, 2, 4, 5, 10, 4096, 4097].map((n) => squareGrid(n))).toEqual([
    { side: 1, add: 0 }, { side: 2, add: 2 }, { side: 2, add: 0 }, { side: 3, add: 4 }, { side: 4, add: 6 }, { side: 64, add: 0 }, { side: 65, add: 128 },
  ]);
});

describe.each<BackendName>(['cpu', 'wasm'])('transmil on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it('PPEG = x + dw7(x) + dw5(x) + dw3(x) with biases, by loops', () => {
    const p = new Ppeg(3, new SeededRandom(2));
    const rng = new SeededRandom(5);
    const x = Float32Array.from({ length: 16 * 3 }, () => rng.normal());
    const y = tf.tidy(() => p.apply(tf.tensor2d(x, [16, 3]), 4).dataSync());
    const vals = p.variables.map((v) => Array.from(v.dataSync()));
    const grid = toGrid(x, 4, 4, 3);
    const ref = grid.map((row, i) => row.map((cell, j) => cell.map((v, c) =>
      v + [7, 5, 3].reduce((s, k, n) => s + depthwiseSame(grid, toGrid(vals[2 * n]!, k, k, 3))[i]![j]![c]! + vals[2 * n + 1]![c]!, 0))));
    expect(maxAbsDiff(y, ref.flat(2))).toBeLessThan(1e-4);
    p.dispose();
  });

  it.each([
    ['auto', 7], // 10 tokens > 4 landmarks: Nystrom with front padding; grid 3x3 with 2 repeated patches
    ['auto', 3], // 5 tokens (grid 2x2, 1 repeated) ... still > 4: Nystrom
    ['auto', 1], // 2 tokens: exact
    ['exact', 7],
  ] as const)('attention %s, %i patches: the class token equals the plain-JS official forward', (attention, n) => {
    const o = { ...tiny, attention };
    const enc = new TransmilEncoder(o, testContext('encoders.wsi'));
    const c = wsiCase('a', n, 5);
    enc.fit([c]);
    const out = enc.encode(c, 'eval')!;
    expect(out.shape).toEqual([1, 8]);
    const ref = o.attention === 'exact' ? plainTransmilExact(enc, c, o) : plainTransmil(enc, c, o);
    expect(maxAbsDiff(out.dataSync(), ref)).toBeLessThan(5e-4);
    out.dispose();
    enc.dispose();
  });

  it('gradients reach all 23 variables, and the tensor count stays flat over training steps', () => {
    const enc = new TransmilEncoder({ ...tiny, dropout: 0.1, maxPatches: 20 }, testContext('encoders.wsi'));
    const c = wsiCase('a', 30, 5);
    enc.fit([c]);
    expect(enc.variables).toHaveLength(23); // fc 2, class token, layer 6, PPEG 6, layer 6, norm 2
    const weights = tf.tensor1d(Float32Array.from({ length: 8 }, (_, i) => i - 3.5));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(enc.encode(c, 'train')!, weights)) as tf.Scalar, enc.variables);
    enc.variables.forEach((v, i) => {
      const norm = tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!);
      expect(Number.isFinite(norm), `variable ${i}`).toBe(true);
      expect(norm, `variable ${i} (${v.shape.join('x')}) gets no gradient`).toBeGreaterThan(0);
    });
    tf.dispose([value, ...Object.values(grads)]);
    const opt = tf.train.adam(1e-3);
    const step = () => tf.tidy(() => { opt.minimize(() => tf.sum(tf.mul(enc.encode(c, 'train')!, weights)) as tf.Scalar, false, enc.variables); });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    const e = enc.encode(c, 'eval')!;
    e.dispose();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    weights.dispose();
    enc.dispose();
  });
});

/** The exact-attention variant of the reference (same code, exact flag forced). */
function plainTransmilExact(enc: TransmilEncoder, c: Case, o: TransmilEncoderOptions): number[] {
  return plainTransmil(enc, c, { ...o, landmarks: 1e9 });
}

it('cpu and wasm give the same gradients for the same seed', async () => {
  const c = wsiCase('a', 40, 6);
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend({ prefer: backend });
    const enc = new TransmilEncoder({ ...tiny, dim: 16, heads: 4, landmarks: 8 }, testContext('encoders.wsi', 7));
    enc.fit([c]);
    const w = tf.tensor1d(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(enc.encode(c, 'train')!, w)) as tf.Scalar, enc.variables);
    results.push([Float32Array.from(value.dataSync()), ...enc.variables.map((v) => Float32Array.from(grads[v.name]!.dataSync()))]);
    tf.dispose([w, value, ...Object.values(grads)]);
    enc.dispose();
  }
  results[0]!.forEach((a, i) => {
    const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
    expect(maxAbsDiff(a, results[1]![i]!) / scale, `entry ${i}`).toBeLessThan(1e-4);
  });
});

describe('state, sampling and errors (cpu)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
  });

  it('restore(state) on a fresh instance recreates the variables (order, shapes) and, with the weights, the output', () => {
    const a = new TransmilEncoder(tiny, testContext('encoders.wsi', 1));
    const c = wsiCase('a', 12, 5);
    a.fit([c]);
    const b = new TransmilEncoder(tiny, testContext('encoders.wsi', 2));
    expect(b.variables).toEqual([]);
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(b.variables.map((v) => v.shape)).toEqual(a.variables.map((v) => v.shape));
    b.variables.forEach((v, i) => v.assign(a.variables[i]!));
    const [ya, yb] = [a.encode(c, 'eval')!, b.encode(c, 'eval')!];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([ya, yb]);
    expect(() => b.restore({ inDim: 0 })).toThrow(/restore expects the state saved by the transmil encoder/);
    a.dispose();
    b.dispose();
  });

  it('maxPatches: a seeded subset in training (same seed, same subset), every patch in evaluation', () => {
    const c = wsiCase('a', 40, 5, 3);
    const make = (seed: number, maxPatches: number | null) => {
      const e = new TransmilEncoder({ ...tiny, maxPatches }, testContext('encoders.wsi', seed));
      e.fit([c]);
      return e;
    };
    const [e1, e2, all] = [make(3, 9), make(3, 9), make(3, null)];
    const t1 = e1.encode(c, 'train')!;
    const t2 = e2.encode(c, 'train')!;
    const ev = e1.encode(c, 'eval')!;
    const full = all.encode(c, 'train')!; // no cap: the whole bag, as in eval (dropout 0)
    expect(Array.from(t1.dataSync())).toEqual(Array.from(t2.dataSync()));
    expect(maxAbsDiff(t1.dataSync(), ev.dataSync())).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(full.dataSync(), ev.dataSync())).toBeLessThan(1e-6);
    tf.dispose([t1, t2, ev, full]);
    [e1, e2, all].forEach((e) => e.dispose());
  });

  it('null without slides; errors name the path, the case and what to do', () => {
    expect(() => new TransmilEncoder(tiny, testContext('encoders.rna'))).toThrow(/encoders.rna: the 'transmil' encoder reads patch features \('wsi'\)/);
    expect(() => new TransmilEncoder({ ...tiny, dim: 10, heads: 4 }, testContext('encoders.wsi'))).toThrow(/dim \(10\) must be a multiple of heads \(4\)/);
    const enc = new TransmilEncoder(tiny, testContext('encoders.wsi'));
    expect(() => enc.encode(wsiCase('a', 2, 5), 'eval')).toThrow(/call fit/);
    expect(() => enc.fit([{ id: 'x' }])).toThrow(/expected one patch feature width across training cases, found no slides/);
    enc.fit([wsiCase('a', 2, 5)]);
    expect(enc.encode({ id: 'none' }, 'eval')).toBeNull();
    expect(() => enc.encode({ id: 'x', wsi: [{ slideId: 's', n: 2, dim: 5 }] }, 'eval')).toThrow(/encoders.wsi: case x: slide s features are not loaded/);
    expect(() => enc.encode(wsiCase('y', 2, 7), 'eval')).toThrow(/case y: slide y-1 has feature width 7, the encoder was fitted on 5/);
    enc.dispose();
  });
});

it('wasm: a 4096-patch bag at the official sizes (dim 512, 8 heads, 256 landmarks) trains one step', async () => {
  await selectBackend({ prefer: 'wasm' });
  const enc = new TransmilEncoder({ dim: 512, heads: 8, landmarks: null, pinvIterations: 6, attention: 'auto', dropout: 0.1, maxPatches: 4096 }, testContext('encoders.wsi'));
  const c = wsiCase('big', 4100, 1024);
  enc.fit([c]);
  const opt = tf.train.adam(1e-4);
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const loss = tf.tidy(() => opt.minimize(() => tf.mean(tf.square(enc.encode(c, 'train')!)) as tf.Scalar, true, enc.variables)!.dataSync()[0]!);
  const ms = performance.now() - t0;
  expect(Number.isFinite(loss)).toBe(true);
  expect(tf.memory().numTensors - before).toBe(2 * enc.variables.length); // adam's two moments per variable, nothing else
  console.log(`transmil 4096-patch training step on wasm: ${ms.toFixed(0)} ms`);
  opt.dispose();
  enc.dispose();
}, 600_000);
