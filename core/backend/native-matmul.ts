/**
 * Native matmul for the wasm backend: tfjs's BatchMatMul kernel on 'wasm' replaced by the system BLAS's
 * cblas_sgemm (OpenBLAS), called in place on the wasm heap through the koffi FFI.
 *
 * Why: the wasm backend's XNNPACK matmul runs at ~16-30 GFLOP/s on one core here, OpenBLAS's sgemm at ~95
 * (bench/RESULTS.md). Survival models over 4096-patch bags spend most of a training step in matmuls, so this is
 * where mmsurv on CPU gets its speed. Transposed operands are sgemm flags, not copies, so the explicit-transpose
 * gradient trick (core/model/dense) is not needed when this is active.
 *
 * Optional by construction: koffi is an optionalDependency and the BLAS library a system package
 * (Debian: libopenblas0). When either is missing, or `MMSURV_NATIVE_MATMUL=0`, nothing is replaced and the
 * wasm kernel is used; `status()` says why. `MMSURV_BLAS_LIB` names another library exporting cblas_sgemm.
 *
 * Threads: one BLAS thread by default (`MMSURV_BLAS_THREADS` to change). Folds run in parallel worker threads, one
 * per core, and OpenBLAS's thread count is per process; one thread also keeps results independent of how many
 * workers a run uses. The thread count must stay fixed during a run: OpenBLAS 0.3.21 with 2 threads differs from
 * 1 thread in the last bits of 2-5 % of the outputs at bag shapes (measured, bench/RESULTS.md), so switching when
 * a worker trains alone would make results depend on timing.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { envFlagOff, type TensorInfoLike, type WasmKernelFunc as KernelFunc } from './wasm-kernel-swap.js';

export interface NativeMatmulStatus {
  /** True when tfjs's BatchMatMul on 'wasm' calls the native sgemm. */
  readonly active: boolean;
  /** The library loaded (e.g. 'libopenblas.so.0'), when active. */
  readonly library?: string;
  /** BLAS threads, when active. */
  readonly threads?: number;
  /** OpenBLAS's own description (openblas_get_config), when it has one. */
  readonly config?: string;
  /** Why it is not active. */
  readonly reason?: string;
}

/** Libraries tried in order (first that loads and exports cblas_sgemm). */
export const BLAS_LIBRARIES: readonly string[] = [
  'libopenblas.so.0',
  'libopenblas.so',
  'libopenblas64_.so.0',
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  'libopenblas.dylib',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
];

type Sgemm = (
  order: number, transA: number, transB: number, m: number, n: number, k: number, alpha: number,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number,
) => void;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array;
}

let state: NativeMatmulStatus = { active: false, reason: 'not installed yet (installNativeMatmul has not run)' };
let sgemm: Sgemm | undefined;
let wasmKernel: KernelFunc | undefined;
let setThreads: ((n: number) => void) | undefined;

/** Whether the native kernel is in place, and why not. */
export function nativeMatmulStatus(): NativeMatmulStatus {
  return state;
}

function threadsFromEnv(): number {
  const raw = process.env.MMSURV_BLAS_THREADS;
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MMSURV_BLAS_THREADS must be a positive integer, found '${raw}'`);
  return n;
}

interface KoffiLib { func(signature: string): (...args: unknown[]) => unknown }
interface Koffi { load(path: string): KoffiLib }

function loadKoffi(): Koffi | string {
  try {
    return createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND') return 'koffi (an optional dependency) is not installed';
    return `koffi failed to load: ${String(e.message ?? err).split('\n')[0]}`;
  }
}

/** Open the first BLAS library that exports cblas_sgemm; the reasons of each failure otherwise. */
function openBlas(koffi: Koffi, libraries: readonly string[]): { lib: KoffiLib; name: string } | string {
  const failures: string[] = [];
  for (const name of libraries) {
    try {
      const lib = koffi.load(name);
      lib.func('void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)');
      return { lib, name };
    } catch (err) {
      failures.push(`${name}: ${String((err as Error).message ?? err).split('\n')[0]}`);
    }
  }
  return `no BLAS library with cblas_sgemm could be opened (install OpenBLAS, e.g. apt-get install libopenblas0; tried ${failures.join('; ')})`;
}

function dims(a: TensorInfoLike, b: TensorInfoLike, transposeA: boolean, transposeB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((p, d) => p * d, 1);
  const batchB = outerB.reduce((p, d) => p * d, 1);
  return { m, k, kb, n, outerA, outerB, batchA, batchB };
}

/** The replacement kernel: shapes as tfjs's own (rank >= 2, batch dims equal or one of them 1), float32 only. */
function nativeBatchMatMul(args: Parameters<KernelFunc>[0]): TensorInfoLike {
  const { a, b } = args.inputs as { a: TensorInfoLike; b: TensorInfoLike };
  const transposeA = args.attrs.transposeA === true;
  const transposeB = args.attrs.transposeB === true;
  const d = dims(a, b, transposeA, transposeB);
  const simpleBatch = d.batchA === d.batchB || d.batchA === 1 || d.batchB === 1;
  // Anything unusual (other dtypes, general broadcasting, mismatched shapes) goes to tfjs's kernel and its errors.
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || d.k !== d.kb || !simpleBatch || a.shape.length < 2 || b.shape.length < 2) {
    return wasmKernel!(args);
  }
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(d.outerA, d.outerB);
  } catch {
    return wasmKernel!(args);
  }
  const batch = Math.max(d.batchA, d.batchB);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([...outer, d.m, d.n], 'float32');
  // Views after the allocation: makeOutput may grow the wasm memory, which detaches earlier views.
  const A = backend.typedArrayFromHeap(a);
  const B = backend.typedArrayFromHeap(b);
  const C = backend.typedArrayFromHeap(out);
  const { m, n, k } = d;
  if (m * n === 0) return out;
  if (k === 0) {
    C.fill(0);
    return out;
  }
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const ta = transposeA ? TRANS : NO_TRANS;
  const tb = transposeB ? TRANS : NO_TRANS;
  for (let i = 0; i < batch; i++) {
    const ai = d.batchA === 1 ? 0 : i;
    const bi = d.batchB === 1 ? 0 : i;
    sgemm!(
      ROW_MAJOR, ta, tb, m, n, k, 1,
      batch === 1 ? A : A.subarray(ai * m * k, (ai + 1) * m * k), lda,
      batch === 1 ? B : B.subarray(bi * k * n, (bi + 1) * k * n), ldb,
      0,
      batch === 1 ? C : C.subarray(i * m * n, (i + 1) * m * n), n,
    );
  }
  return out;
}

export interface InstallNativeMatmulOptions {
  /** Libraries to try instead of BLAS_LIBRARIES (tests). */
  libraries?: readonly string[];
  /** BLAS threads (default MMSURV_BLAS_THREADS, else 1). */
  threads?: number;
}

/**
 * Put the native BatchMatMul in place on the wasm backend (idempotent). Never throws for a missing library or
 * koffi: returns a status with the reason, and the wasm kernel stays. Call after the wasm backend is registered.
 */
export function installNativeMatmul(opts: InstallNativeMatmulOptions = {}): NativeMatmulStatus {
  if (state.active) return state;
  if (envFlagOff(process.env.MMSURV_NATIVE_MATMUL)) {
    state = { active: false, reason: 'turned off by MMSURV_NATIVE_MATMUL=0' };
    return state;
  }
  const existing = tf.getKernel('BatchMatMul', 'wasm');
  if (!existing) {
    state = { active: false, reason: "the wasm backend's BatchMatMul kernel is not registered (load @tensorflow/tfjs-backend-wasm first)" };
    return state;
  }
  const threads = opts.threads ?? threadsFromEnv();
  // OpenBLAS reads its thread count when it loads: set it before, so it starts no idle threads.
  process.env.OPENBLAS_NUM_THREADS ??= String(threads);
  const koffi = loadKoffi();
  if (typeof koffi === 'string') {
    state = { active: false, reason: koffi };
    return state;
  }
  const opened = openBlas(koffi, opts.libraries ?? (process.env.MMSURV_BLAS_LIB ? [process.env.MMSURV_BLAS_LIB] : BLAS_LIBRARIES));
  if (typeof opened === 'string') {
    state = { active: false, reason: opened };
    return state;
  }
  // Typed arrays are passed by address (no copy): C is written in place on the wasm heap.
  sgemm = opened.lib.func(
    'void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)',
  ) as unknown as Sgemm;
  let config: string | undefined;
  try {
    setThreads = opened.lib.func('void openblas_set_num_threads(int)') as unknown as (n: number) => void;
    setThreads(threads);
    config = String((opened.lib.func('const char *openblas_get_config()') as () => string)()).trim();
  } catch {
    setThreads = undefined; // not OpenBLAS: its own threading applies
  }
  wasmKernel = existing.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...existing, kernelFunc: nativeBatchMatMul as unknown as tf.KernelFunc });
  state = { active: true, library: opened.name, threads, ...(config ? { config } : {}) };
  return state;
}

/** Put tfjs's own wasm kernel back (tests, benchmarks). */
export function uninstallNativeMatmul(): void {
  if (!state.active || !wasmKernel) return;
  const current = tf.getKernel('BatchMatMul', 'wasm')!;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...current, kernelFunc: wasmKernel as unknown as tf.KernelFunc });
  state = { active: false, reason: 'uninstalled (uninstallNativeMatmul)' };
}

/** One line for logs and reports, e.g. 'native sgemm: libopenblas.so.0, 1 thread'. */
export function describeNativeMatmul(s: NativeMatmulStatus = state): string {
  if (!s.active) return `wasm matmul (native sgemm off: ${s.reason})`;
  return `native sgemm: ${s.library}, ${s.threads} thread${s.threads === 1 ? '' : 's'}${s.config ? ` (${s.config})` : ''}`;
}
