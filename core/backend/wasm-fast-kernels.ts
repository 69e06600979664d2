/**
 * Two wasm kernels replaced where tfjs's are slow on the shapes survival models run (kernel times from tf.profile of
 * a chimera-bilinear training step over 4096-patch bags, bench/RESULTS.md):
 *
 * - Sum over leading axes (a bias gradient: dy [n, d] summed over its n rows). tfjs's wasm Sum can only reduce the
 *   innermost axes, so it first transposes the whole input: ~10 ms per [4096, 512], 17% of the step's kernel time.
 *   Here the rows are added in place with float64 accumulators: ~1 ms, and more accurate than the float32 sum.
 * - Tanh. tfjs's wasm Tanh calls a scalar tanhf: ~17 ms per [4096, 256] where its (vectorised) Sigmoid takes ~1 ms.
 *   Here tanh(x) = 2 sigmoid(2x) - 1 through the wasm Sigmoid, except for |x| < 1/16 where that form cancels, which
 *   take the odd Taylor series to x^9 instead (error < 1e-12 there). Measured error against float64 tanh: below
 *   3e-7 absolute and 2e-6 relative (tests/core/backend/wasm-fast-kernels.test.ts); tanhf is ~1e-7.
 *
 * Other dtypes and reductions (innermost axes, all axes) go to tfjs's kernels. Installed by selectBackend after the
 * wasm backend is registered; `MMSURV_WASM_FAST_KERNELS=0` keeps tfjs's kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { WasmKernelSwap, type TensorInfoLike, type WasmKernelFunc as KernelFunc } from './wasm-kernel-swap.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array;
  disposeData(dataId: object): boolean;
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The axes as a sorted list of non-negative indices, or null when they are not 0..r-1 for some 0 < r < rank. */
function leadingAxes(axis: unknown, rank: number): number | null {
  const list = (Array.isArray(axis) ? axis : [axis]) as unknown[];
  if (list.some((a) => !Number.isInteger(a))) return null;
  const norm = [...new Set((list as number[]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (norm.length === 0 || norm.length >= rank || norm.some((a, i) => a !== i)) return null;
  return norm.length;
}

function leadingSum(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x!;
    const r = x.dtype === 'float32' ? leadingAxes(args.attrs.axis, x.shape.length) : null;
    if (r === null) return original(args);
    const backend = args.backend as WasmBackendLike;
    const outShape = args.attrs.keepDims === true ? x.shape.map((d, i) => (i < r ? 1 : d)) : x.shape.slice(r);
    const out = backend.makeOutput(outShape, 'float32');
    const rows = size(x.shape.slice(0, r));
    const cols = size(x.shape.slice(r));
    const X = backend.typedArrayFromHeap(x);
    const Y = backend.typedArrayFromHeap(out);
    const acc = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let j = 0; j < cols; j++) acc[j]! += X[base + j]!;
    }
    Y.set(acc);
    return out;
  };
}

const SMALL = 0.0625;

// The loops are top-level functions so that V8 optimises each on its own.
function doubled(x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = 2 * x[i]!;
}

/**
 * y = 2 s - 1 in place (s = sigmoid(2x)), or the Taylor series of tanh where |x| < SMALL. A select on Math.abs, not
 * `v < SMALL && v > -SMALL`: that first test is a coin flip for the CPU's branch predictor (~4x slower).
 */
function tanhFromSigmoid(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const v2 = v * v;
    const fromSigmoid = 2 * y[i]! - 1;
    // tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - ...
    y[i] = Math.abs(v) < SMALL ? v * (1 + v2 * (-1 / 3 + v2 * (2 / 15 + v2 * (-17 / 315 + v2 * (62 / 2835))))) : fromSigmoid;
  }
}

function sigmoidTanh(original: KernelFunc): KernelFunc {
  const sigmoid = tf.getKernel('Sigmoid', 'wasm')!.kernelFunc as unknown as KernelFunc;
  return (args) => {
    const x = args.inputs.x!;
    if (x.dtype !== 'float32') return original(args);
    const backend = args.backend as WasmBackendLike;
    const twice = backend.makeOutput(x.shape, 'float32');
    doubled(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(twice));
    const out = sigmoid({ inputs: { x: twice }, backend, attrs: {} });
    backend.disposeData(twice.dataId);
    // Views after the allocations: they may grow the wasm memory, which detaches earlier views.
    tanhFromSigmoid(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out));
    return out;
  };
}

const swap = new WasmKernelSwap('MMSURV_WASM_FAST_KERNELS', { Sum: leadingSum, Tanh: sigmoidTanh }, ['Sigmoid']);

/** Whether the replacement kernels are in place. */
export function wasmFastKernelsActive(): boolean {
  return swap.active;
}

/**
 * Put the Sum and Tanh replacements in place on wasm (idempotent). Returns false, changing nothing, when turned off
 * by MMSURV_WASM_FAST_KERNELS=0 or when the wasm kernels are not registered.
 */
export function installWasmFastKernels(): boolean {
  return swap.install();
}

/** Put tfjs's kernels back (tests, benchmarks). */
export function uninstallWasmFastKernels(): void {
  swap.uninstall();
}
