import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { LinearEncoder } from '../../../plugins/common/linear-encoder.js';
import { testContext } from '../../support/context.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function wsiCase(id: string, n: number, dim: number, offset = 0): Case {
  const features = Float32Array.from({ length: n * dim }, (_, i) => ((i + offset) % 7) / 7 - 0.5);
  return { id, wsi: [{ slideId: id, n, dim, features }] };
}

const opts = { outDim: 4, activation: 'none' as const, maxPatches: null };

describe('linear encoder', () => {
  it('projects every patch: tokens equal x W + b with the layer weights', () => {
    const enc = new LinearEncoder(opts, testContext('encoders.wsi'));
    const c = wsiCase('a', 5, 3);
    enc.fit([c]);
    const out = enc.encode(c, 'eval')!;
    expect(out.shape).toEqual([5, 4]);
    const [kernel, bias] = enc.variables;
    const expected = tf.tidy(() => tf.matMul(tf.tensor2d(c.wsi![0]!.features!, [5, 3]), kernel as tf.Tensor2D).add(bias!));
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected.dataSync()).map((v) => expect.closeTo(v, 6)));
    tf.dispose([out, expected]);
    enc.dispose();
  });

  it('concatenates the patches of several slides and returns null without slides', () => {
    const enc = new LinearEncoder(opts, testContext('encoders.wsi'));
    const a = wsiCase('a', 5, 3);
    const two: Case = { id: 'b', wsi: [wsiCase('b1', 2, 3).wsi![0]!, wsiCase('b2', 3, 3).wsi![0]!] };
    enc.fit([a]);
    const t = enc.encode(two, 'eval')!;
    expect(t.shape).toEqual([5, 4]);
    t.dispose();
    expect(enc.encode({ id: 'none' }, 'eval')).toBeNull();
    expect(() => enc.encode({ id: 'x', wsi: [{ slideId: 's', n: 2, dim: 3 }] }, 'eval')).toThrow(/case x: slide s features are not loaded/);
    enc.dispose();
  });

  it('samples at most maxPatches in training, deterministically per seed, and uses all patches in eval', () => {
    const make = (seed: number) => {
      const e = new LinearEncoder({ ...opts, maxPatches: 8 }, testContext('encoders.wsi', seed));
      e.fit([wsiCase('a', 40, 3)]);
      return e;
    };
    const c = wsiCase('a', 40, 3, 1);
    const e1 = make(3);
    const e2 = make(3);
    const t1 = e1.encode(c, 'train')!;
    const t2 = e2.encode(c, 'train')!;
    expect(t1.shape).toEqual([8, 4]);
    expect(Array.from(t1.dataSync())).toEqual(Array.from(t2.dataSync()));
    const full = e1.encode(c, 'eval')!;
    expect(full.shape).toEqual([40, 4]);
    tf.dispose([t1, t2, full]);
    e1.dispose();
    e2.dispose();
  });

  it('aligns RNA to the gene order fitted on training cases, whatever the file order', () => {
    const enc = new LinearEncoder(opts, testContext('encoders.rna'));
    const train: Case[] = [
      { id: 't1', rna: { genes: ['B', 'A', 'C'], values: Float32Array.from([2, 1, 3]) } },
      { id: 't2', rna: { genes: ['A', 'C'], values: Float32Array.from([1, 3]) } },
    ];
    enc.fit(train);
    expect(enc.state()).toEqual({ inDim: 3, geneOrder: ['A', 'B', 'C'] });
    const shuffled: Case = { id: 'v', rna: { genes: ['C', 'A', 'B'], values: Float32Array.from([3, 1, 2]) } };
    const a = enc.encode(train[0]!, 'eval')!;
    const b = enc.encode(shuffled, 'eval')!;
    expect(a.shape).toEqual([1, 4]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    enc.dispose();
  });

  it('refuses non-numeric modalities and mixed feature widths with a clear message', () => {
    expect(() => new LinearEncoder(opts, testContext('encoders.clinical'))).toThrow(/encoders.clinical: the 'linear' encoder reads numeric modalities/);
    const enc = new LinearEncoder(opts, testContext('encoders.wsi'));
    expect(() => enc.fit([wsiCase('a', 2, 3), wsiCase('b', 2, 5)])).toThrow(/one patch feature width .* found 3, 5/);
    expect(() => enc.encode(wsiCase('a', 2, 3), 'eval')).toThrow(/call fit/);
  });

  it('leaks no tensors over repeated training steps', () => {
    const enc = new LinearEncoder({ ...opts, maxPatches: 10 }, testContext('encoders.wsi'));
    const c = wsiCase('a', 30, 3);
    enc.fit([c]);
    const opt = tf.train.adam(0.01);
    const step = () =>
      tf.tidy(() => {
        opt.minimize(() => enc.encode(c, 'train')!.square().mean() as tf.Scalar, false, enc.variables);
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    enc.dispose();
  });
});
