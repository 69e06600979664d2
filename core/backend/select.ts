/**
 * Choosing the TensorFlow.js backend of the process: tfjs-node-gpu > tfjs-node > wasm > cpu.
 *
 * tfjs-node(-gpu) are optional: their install downloads libtensorflow and is absent wherever that failed (offline
 * installs, this repository's CI). wasm ships its `.wasm` files inside the npm package, so it is loaded from disk
 * and works offline. cpu (pure JS) always works and is ~30x slower than wasm on matmul.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Backend, BackendAttempt, BackendName } from '../contracts/backend.js';
import type { Logger } from '../contracts/logger.js';
import { explicitTransposeFor } from '../model/dense.js';
import { describeNativeMatmul, installNativeMatmul } from './native-matmul.js';
import { installWasmFastKernels } from './wasm-fast-kernels.js';
import { installWasmSharedCopies } from './wasm-shared-copies.js';

/** One way to get a backend. `load()` activates it (ends with the engine on it) or throws an Error saying why not. */
export interface BackendCandidate {
  readonly name: BackendName;
  load(): Promise<void>;
}

export interface SelectBackendOptions {
  /** A specific backend (only that one is tried; failure is an error), or 'auto' (default): the best that loads. */
  prefer?: BackendName | 'auto';
  logger?: Logger;
  /** Replaces the built-in candidates (tests); tried in the order given. */
  candidates?: BackendCandidate[];
}

/** The order 'auto' tries. */
export const BACKEND_ORDER: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);

const NOT_INSTALLED: Record<'tfjs-node-gpu' | 'tfjs-node', string> = {
  'tfjs-node-gpu':
    'not installed: @tensorflow/tfjs-node-gpu is an optional dependency whose install downloads libtensorflow ' +
    '(CUDA 11.2 + cuDNN 8.1); it is absent when that download failed or was skipped. To use an NVIDIA GPU, ' +
    'reinstall with network access (npm install @tensorflow/tfjs-node-gpu@4.22.0) on a machine with those CUDA libraries',
  'tfjs-node':
    'not installed: @tensorflow/tfjs-node (native CPU TensorFlow) is not a dependency of mmsurv; its install ' +
    'downloads libtensorflow. Install it yourself (npm install @tensorflow/tfjs-node@4.22.0) to use it',
};

const ALTERNATIVES: Record<BackendName, string> = {
  'tfjs-node-gpu': "'tfjs-node-gpu' (NVIDIA GPU, needs @tensorflow/tfjs-node-gpu and CUDA 11.2 + cuDNN 8.1)",
  'tfjs-node': "'tfjs-node' (native CPU, needs @tensorflow/tfjs-node)",
  wasm: "'wasm' (WebAssembly SIMD, bundled, works offline)",
  cpu: "'cpu' (pure JavaScript, always available, slow)",
};

/** Whether an npm package resolves from mmsurv's install (present in node_modules). */
export function packageInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** The npm package a candidate imports, where it imports one (cpu needs only @tensorflow/tfjs). */
export const BACKEND_PACKAGES: Partial<Record<BackendName, string>> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
};

/** The tfjs engine's name for each backend (tfjs-node and tfjs-node-gpu both register 'tensorflow'). */
const ENGINE_NAME: Record<BackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** Problem text when `pkg` would load a different @tensorflow/tfjs-core file than @tensorflow/tfjs does. */
function coreInstanceProblem(pkg: string): string | null {
  try {
    const ours = realpathSync(createRequire(require.resolve('@tensorflow/tfjs')).resolve('@tensorflow/tfjs-core'));
    const theirs = realpathSync(createRequire(require.resolve(pkg)).resolve('@tensorflow/tfjs-core'));
    if (ours === theirs) return null;
    return (
      `two copies of @tensorflow/tfjs-core: @tensorflow/tfjs uses ${dirname(ours)} but ${pkg} uses ${dirname(theirs)}; ` +
      'tensors of one are foreign to the other. Align the versions (all 4.22.0) and run `npm dedupe`'
    );
  } catch {
    return null; // unusual layouts (bundles) cannot be checked here; setBackend below still has to succeed
  }
}

/** Activate a backend registered under `engineName` and check the engine is really on it. */
async function activate(engineName: string, pkg: string): Promise<void> {
  if (tf.findBackendFactory(engineName) == null) {
    throw new Error(`${pkg} loaded but registered no '${engineName}' backend with the @tensorflow/tfjs of mmsurv`);
  }
  const ok = await tf.setBackend(engineName);
  await tf.ready();
  if (!ok || tf.getBackend() !== engineName) {
    throw new Error(`failed to initialise: tf.setBackend('${engineName}') returned ${ok} (see the tfjs warning above)`);
  }
}

function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`)) &&
    !e.message.includes(`${pkg}/`) // a file missing inside the package is a broken install, not an absent one
  );
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
}

function loadHint(name: BackendName, pkg: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('tfjs_binding')) {
    return ` (the native binding was never built: the install script that downloads libtensorflow did not run or failed; run \`npm rebuild ${pkg}\` with network access)`;
  }
  if (name === 'tfjs-node-gpu' && /lib(cudart|cudnn|cublas|cufft|curand|cusolver|cusparse)/.test(message)) {
    return ' (tfjs-node-gpu 4.22 needs the CUDA 11.2 and cuDNN 8.1 libraries on the library path, e.g. an nvidia/cuda:11.2.2-cudnn8 base image)';
  }
  return '';
}

/**
 * Why importing tfjs-node(-gpu) failed: 'not installed: ...' when the package itself is absent, else
 * 'failed to load: <first line of the error>' plus a hint (e.g. missing CUDA libraries, binding never built).
 */
export function nativeImportFailure(name: 'tfjs-node-gpu' | 'tfjs-node', err: unknown): string {
  const pkg = BACKEND_PACKAGES[name]!;
  if (isMissingPackage(err, pkg)) return NOT_INSTALLED[name];
  return `failed to load: ${firstLine(err)}${loadHint(name, pkg, err)}`;
}

function nativeCandidate(name: 'tfjs-node-gpu' | 'tfjs-node'): BackendCandidate {
  const pkg = BACKEND_PACKAGES[name]!;
  return {
    name,
    async load() {
      try {
        await import(pkg);
      } catch (err) {
        throw new Error(nativeImportFailure(name, err));
      }
      const problem = coreInstanceProblem(pkg);
      if (problem) throw new Error(problem);
      await activate(ENGINE_NAME[name], pkg);
    },
  };
}

function wasmCandidate(): BackendCandidate {
  const pkg = BACKEND_PACKAGES.wasm!;
  return {
    name: 'wasm',
    async load() {
      let wasm: { setWasmPaths(prefix: string): void };
      try {
        wasm = (await import(pkg)) as typeof wasm;
      } catch (err) {
        if (isMissingPackage(err, pkg)) {
          throw new Error(`not installed: ${pkg} is a dependency of mmsurv; run \`npm install\` (or \`npm ci\`)`);
        }
        throw new Error(`failed to load: ${firstLine(err)}`);
      }
      const problem = coreInstanceProblem(pkg);
      if (problem) throw new Error(problem);
      if (tf.findBackend('wasm') == null) {
        // The .wasm binaries sit next to the package's main file (dist/); load them from disk, never from a CDN.
        const distDir = dirname(require.resolve(pkg));
        try {
          wasm.setWasmPaths(distDir.endsWith('/') ? distDir : `${distDir}/`);
        } catch (err) {
          throw new Error(`failed to initialise: ${firstLine(err)}`);
        }
      }
      await activate('wasm', pkg);
      installNativeMatmul();
      installWasmSharedCopies();
      installWasmFastKernels();
    },
  };
}

function cpuCandidate(): BackendCandidate {
  return {
    name: 'cpu',
    async load() {
      await activate('cpu', '@tensorflow/tfjs');
      // The cpu backend prints an "install our node backend" banner on first use; the selection line already says
      // why cpu was chosen, so silence it.
      const cpu = tf.backend() as unknown as { firstUse?: boolean };
      if (cpu.firstUse === true) cpu.firstUse = false;
    },
  };
}

/** The built-in candidates, in 'auto' order. */
export function defaultCandidates(): BackendCandidate[] {
  return [nativeCandidate('tfjs-node-gpu'), nativeCandidate('tfjs-node'), wasmCandidate(), cpuCandidate()];
}

function shortReason(reason: string | undefined): string {
  if (!reason) return 'failed';
  if (reason.startsWith('not installed')) return 'not installed';
  const line = firstLine(reason);
  return line.length > 140 ? `${line.slice(0, 137)}...` : line;
}

/** One line: the backend and why each better candidate was skipped, e.g. `wasm (tfjs-node-gpu: not installed; ...)`. */
export function describeBackend(b: Backend): string {
  const skipped = b.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${shortReason(a.reason)}`);
  return skipped.length ? `${b.name} (${skipped.join('; ')})` : b.name;
}

let current: { backend: Backend; prefer: BackendName | 'auto' } | undefined;

/**
 * Select the backend of this process. 'auto' takes the first of tfjs-node-gpu, tfjs-node, wasm, cpu that loads;
 * a specific name tries only that one and throws an Error naming it, why it failed and the alternatives.
 * Selecting again with the same choice returns the current selection when the engine is still on it.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<Backend> {
  const prefer = opts.prefer ?? 'auto';
  if (prefer !== 'auto' && !BACKEND_ORDER.includes(prefer)) {
    throw new Error(
      `unknown backend '${String(prefer)}': expected 'auto' or one of ${BACKEND_ORDER.map((n) => `'${n}'`).join(', ')}`,
    );
  }
  if (
    !opts.candidates &&
    current &&
    (current.prefer === prefer || current.backend.name === prefer) &&
    tf.getBackend() === ENGINE_NAME[current.backend.name]
  ) {
    return current.backend;
  }

  const all = opts.candidates ?? defaultCandidates();
  const tried = prefer === 'auto' ? all : all.filter((c) => c.name === prefer);
  if (tried.length === 0) {
    throw new Error(`backend '${prefer}': no candidate of that name was given (candidates: ${all.map((c) => c.name).join(', ') || 'none'})`);
  }

  const attempts: BackendAttempt[] = [];
  for (const candidate of tried) {
    try {
      await candidate.load();
    } catch (err) {
      attempts.push({ name: candidate.name, ok: false, reason: err instanceof Error ? err.message : String(err) });
      opts.logger?.debug(`backend ${candidate.name} skipped: ${attempts.at(-1)!.reason}`);
      continue;
    }
    attempts.push({ name: candidate.name, ok: true });
    const backend: Backend = {
      name: candidate.name,
      tf,
      attempts,
      explicitTransposeGrad: explicitTransposeFor(candidate.name),
      matmul: candidate.name === 'wasm' ? describeNativeMatmul() : `${candidate.name} matmul`,
    };
    if (!opts.candidates) current = { backend, prefer };
    opts.logger?.info(`backend: ${describeBackend(backend)}${prefer === 'auto' ? '' : ' (requested)'}`);
    if (backend.name === 'wasm' && !opts.candidates) opts.logger?.info(`matmul: ${backend.matmul}`);
    return backend;
  }

  if (prefer !== 'auto') {
    const others = BACKEND_ORDER.filter((n) => n !== prefer).map((n) => ALTERNATIVES[n]);
    throw new Error(
      `backend '${prefer}' was requested but is not available: ${attempts[0]!.reason}.\n` +
        `Alternatives: ${others.join(', ')}; or 'auto' to take the best one that loads (order: ${BACKEND_ORDER.join(' > ')}).`,
    );
  }
  throw new Error(
    `no TensorFlow.js backend could be loaded; tried, in order:\n` +
      attempts.map((a) => `  - ${a.name}: ${a.reason}`).join('\n') +
      `\nThe 'cpu' backend needs only @tensorflow/tfjs: check that \`npm install\` completed.`,
  );
}
