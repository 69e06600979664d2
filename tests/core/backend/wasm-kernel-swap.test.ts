import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { envFlagOff, WasmKernelSwap } from '../../../core/backend/wasm-kernel-swap.js';

await selectBackend({ prefer: 'wasm' });
const negOf = (x: number[]) => tf.tidy(() => Array.from(tf.neg(tf.tensor1d(x)).dataSync()));
// a replacement that visibly differs from tfjs's Neg: -x + 1000, through the original kernel
const plus1000 = new WasmKernelSwap('MMSURV_TEST_SWAP', {
  Neg: (original) => (args) => {
    const out = original(args);
    const b = args.backend as { typedArrayFromHeap(t: unknown): Float32Array };
    const y = b.typedArrayFromHeap(out);
    for (let i = 0; i < y.length; i++) y[i] = y[i]! + 1000;
    return out;
  },
});

describe('WasmKernelSwap', () => {
  afterEach(() => { plus1000.uninstall(); delete process.env.MMSURV_TEST_SWAP; });

  it('envFlagOff reads 0, false, off and no (any case, spaces) as off, anything else as on', () => {
    for (const v of ['0', 'false', ' OFF ', 'No']) expect(envFlagOff(v)).toBe(true);
    for (const v of [undefined, '1', 'yes', '', 'true']) expect(envFlagOff(v)).toBe(false);
  });

  it('installs the replacement once and puts the original back', () => {
    expect(plus1000.install()).toBe(true);
    expect(plus1000.install()).toBe(true);
    expect(plus1000.active).toBe(true);
    expect(negOf([1, -2])).toEqual([999, 1002]);
    plus1000.uninstall();
    expect(plus1000.active).toBe(false);
    expect(negOf([1, -2])).toEqual([-1, 2]);
  });

  it('changes nothing when its variable says off, or when a kernel it needs is missing', () => {
    process.env.MMSURV_TEST_SWAP = '0';
    expect(plus1000.install()).toBe(false);
    expect(negOf([3])).toEqual([-3]);
    const needsMissing = new WasmKernelSwap('MMSURV_TEST_SWAP_2', { Neg: (o) => o }, ['NoSuchKernel']);
    expect(needsMissing.install()).toBe(false);
    expect(needsMissing.active).toBe(false);
  });
});
