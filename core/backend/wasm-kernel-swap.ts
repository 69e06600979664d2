/**
 * Replacing tfjs kernels on the wasm backend, and putting them back: the mechanism under wasm-shared-copies.ts and
 * wasm-fast-kernels.ts. A replacement is made from the kernel it replaces (to fall back to it for the inputs it does
 * not handle); `install` is idempotent and changes nothing when the set is turned off by its environment variable
 * (0, false, off, no) or when a kernel it needs is not registered.
 *
 * @example
 * const swap = new WasmKernelSwap('MMSURV_WASM_FAST_KERNELS', { Tanh: (original) => (args) => ... }, ['Sigmoid']);
 * swap.install();    // true when in place
 * swap.uninstall();  // tfjs's kernels again
 */
import * as tf from '@tensorflow/tfjs';

/** What a wasm kernel receives and returns (tfjs's TensorInfo, loosely typed). */
export interface TensorInfoLike { dataId: object; shape: number[]; dtype: string }
export type WasmKernelFunc = (args: { inputs: Record<string, TensorInfoLike>; backend: unknown; attrs: Record<string, unknown> }) => TensorInfoLike;

/** True when an environment flag says off: 0, false, off or no (any case, surrounding spaces ignored). */
export function envFlagOff(v: string | undefined): boolean {
  return v !== undefined && ['0', 'false', 'off', 'no'].includes(v.trim().toLowerCase());
}

export class WasmKernelSwap {
  private readonly originals = new Map<string, WasmKernelFunc>();

  /**
   * @param offVariable the environment variable that turns the set off
   * @param replacements kernel name -> a function from the original kernel to its replacement
   * @param needs other wasm kernels the replacements call (install does nothing without them)
   */
  constructor(
    private readonly offVariable: string,
    private readonly replacements: Record<string, (original: WasmKernelFunc) => WasmKernelFunc>,
    private readonly needs: readonly string[] = [],
  ) {}

  get active(): boolean {
    return this.originals.size > 0;
  }

  install(): boolean {
    if (this.active) return true;
    if (envFlagOff(process.env[this.offVariable])) return false;
    if ([...Object.keys(this.replacements), ...this.needs].some((name) => !tf.getKernel(name, 'wasm'))) return false;
    for (const [name, make] of Object.entries(this.replacements)) {
      const existing = tf.getKernel(name, 'wasm')!;
      const original = existing.kernelFunc as unknown as WasmKernelFunc;
      this.originals.set(name, original);
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ ...existing, kernelFunc: make(original) as unknown as tf.KernelFunc });
    }
    return true;
  }

  uninstall(): void {
    for (const [name, original] of this.originals) {
      const current = tf.getKernel(name, 'wasm')!;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ ...current, kernelFunc: original as unknown as tf.KernelFunc });
    }
    this.originals.clear();
  }
}
