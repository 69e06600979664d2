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
import { WasmKernelSwap, type TensorInfoLike, type WasmKernelFunc } from './wasm-kernel-swap.js';

interface RefCountingBackend { incRef(dataId: object): void }

function share(x: TensorInfoLike, backend: unknown): TensorInfoLike {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const swap = new WasmKernelSwap('MMSURV_WASM_SHARED_COPIES', {
  Identity: (original: WasmKernelFunc): WasmKernelFunc => (args) => (args.inputs.x!.dtype === 'string' ? original(args) : share(args.inputs.x!, args.backend)),
  Cast: (original: WasmKernelFunc): WasmKernelFunc => (args) => {
    const x = args.inputs.x!;
    return x.dtype === args.attrs.dtype && x.dtype !== 'string' ? share(x, args.backend) : original(args);
  },
});

/** Whether the sharing kernels are in place. */
export function wasmSharedCopiesActive(): boolean {
  return swap.active;
}

/**
 * Replace wasm's Identity and same-dtype Cast by buffer sharing (idempotent). Returns false, changing nothing, when
 * turned off by MMSURV_WASM_SHARED_COPIES=0 or when the wasm kernels are not registered.
 */
export function installWasmSharedCopies(): boolean {
  return swap.install();
}

/** Put tfjs's copying kernels back (tests, benchmarks). */
export function uninstallWasmSharedCopies(): void {
  swap.uninstall();
}
