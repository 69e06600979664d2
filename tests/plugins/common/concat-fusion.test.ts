import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConcatFusion } from '../../../plugins/common/concat-fusion.js';
import { testContext } from '../../support/context.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('concat fusion', () => {
  it('pools each modality and concatenates in sorted modality order; a missing modality is zeros', () => {
    const f = new ConcatFusion({ pool: 'mean' }, testContext('fusion'));
    f.build(new Map([['wsi', 2], ['rna', 3]]));
    expect(f.outDim).toBe(5);
    const wsi = tf.tensor2d([[1, 2], [3, 6]]);
    const rna = tf.tensor2d([[7, 8, 9]]);
    const { z } = f.fuse(new Map([['wsi', wsi], ['rna', rna]]), 'eval');
    expect(z.shape).toEqual([1, 5]);
    expect(Array.from(z.dataSync())).toEqual([7, 8, 9, 2, 4]); // rna before wsi, wsi mean over patches
    const { z: onlyWsi } = f.fuse(new Map([['wsi', wsi]]), 'eval');
    expect(Array.from(onlyWsi.dataSync())).toEqual([0, 0, 0, 2, 4]);
    const maxF = new ConcatFusion({ pool: 'max' }, testContext('fusion'));
    maxF.build(new Map([['wsi', 2]]));
    const { z: zMax } = maxF.fuse(new Map([['wsi', wsi]]), 'eval');
    expect(Array.from(zMax.dataSync())).toEqual([3, 6]);
    tf.dispose([wsi, rna, z, onlyWsi, zMax]);
  });

  it('explains an empty case, a width mismatch and a missing build', () => {
    const f = new ConcatFusion({ pool: 'mean' }, testContext('fusion'));
    expect(() => f.fuse(new Map(), 'eval')).toThrow(/fusion: call build/);
    f.build(new Map([['wsi', 2]]));
    expect(() => f.fuse(new Map(), 'eval')).toThrow(/none of the modalities wsi/);
    const bad = tf.zeros([3, 4]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    expect(() => f.fuse(new Map([['wsi', bad]]), 'eval')).toThrow(/'wsi' tokens have width 4, expected 2/);
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
  });
});
