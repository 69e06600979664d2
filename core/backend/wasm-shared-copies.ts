/**
 * Copies that share their buffer on the wasm backend. tfjs's wasm Identity kernel (and Cast to the dtype a tensor
 * already has) copies the whole buffer; the cpu backend instead hands out the same buffer with its reference count
 * raised. Autograd calls Identity for every tensor it saves for the backward pass (Engine.clone), so on wasm a
 * training step copied each saved activation once more: 7-10% of a chimera-bilinear step over 4096-patch bags
 * (node --cpu-prof, bench/RESULTS.md).
 *
 * Sharing is safe because no kernel writes into an existing buffer: every wasm kernel (and mmsurv's native sgemm)
 * writes only to outputs it allocates, and Variable.assign swaps buffers rather than writing into them. The wasm
 * backend counts references per buffer already (its Reshape shares the same way), so disposing either tensor leaves
 * the other intact and `tf.memory()` counts as before.
 *
 * Installed by selectBackend after the wasm backend is registered; `MMSURV_WASM_SHARED_COPIES=0` keeps the copying
 * kernels (to compare, or to rule this out when chasing a bug).
 */
import * as tf from '@tensorflow/tfjs';

interface TensorInfoLike { dataId: object; shape: number[]; dtype: string }
interface RefCountingBackend { incRef(dataId: object): void }
type KernelFunc = (args: { inputs: Record<string, TensorInfoLike>; backend: unknown; attrs: Record<string, unknown> }) => TensorInfoLike;

const originals = new Map<string, KernelFunc>();

function share(x: TensorInfoLike, backend: unknown): TensorInfoLike {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const replacements: Record<string, (original: KernelFunc) => KernelFunc> = {
  Identity: (original) => (args) => (args.inputs.x!.dtype === 'string' ? original(args) : share(args.inputs.x!, args.backend)),
  Cast: (original) => (args) => {
    const x = args.inputs.x!;
    return x.dtype === args.attrs.dtype && x.dtype !== 'string' ? share(x, args.backend) : original(args);
  },
};

function replace(name: string, make: (original: KernelFunc) => KernelFunc): void {
  const existing = tf.getKernel(name, 'wasm')!;
  const original = existing.kernelFunc as unknown as KernelFunc;
  originals.set(name, original);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...existing, kernelFunc: make(original) as unknown as tf.KernelFunc });
}

/** Whether the sharing kernels are in place. */
export function wasmSharedCopiesActive(): boolean {
  return originals.size > 0;
}

/**
 * Replace wasm's Identity and same-dtype Cast by buffer sharing (idempotent). Returns false, changing nothing, when
 * turned off by MMSURV_WASM_SHARED_COPIES=0 or when the wasm kernels are not registered.
 */
export function installWasmSharedCopies(): boolean {
  if (originals.size > 0) return true;
  const off = process.env.MMSURV_WASM_SHARED_COPIES;
  if (off !== undefined && ['0', 'false', 'off', 'no'].includes(off.trim().toLowerCase())) return false;
  if (Object.keys(replacements).some((name) => !tf.getKernel(name, 'wasm'))) return false;
  for (const [name, make] of Object.entries(replacements)) replace(name, make);
  return true;
}

/** Put tfjs's copying kernels back (tests, benchmarks). */
export function uninstallWasmSharedCopies(): void {
  for (const [name, original] of originals) {
    const current = tf.getKernel(name, 'wasm')!;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelFunc: original as unknown as tf.KernelFunc });
  }
  originals.clear();
}
