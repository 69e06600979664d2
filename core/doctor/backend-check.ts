/**
 * The TensorFlow.js backend `auto` selects on this machine and why each better one was skipped: the selection of
 * core/backend/select (it really runs), plus what is installed, the CUDA libraries and whether there is a GPU.
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import type { BackendAttempt, BackendName } from '../contracts/backend.js';
import { BACKEND_ORDER, BACKEND_PACKAGES, packageInstalled, selectBackend } from '../backend/select.js';
import type { CudaSearch, DoctorBackendReport, DoctorCheck } from './check.js';
import { CUDA_LIBRARIES, findCudaLibraries, missingCudaLibraries } from './cuda-libraries.js';

/** What the backend check looks at. */
export interface BackendFacts {
  /** selectBackend({ prefer: 'auto' }): the backend and its attempts, or the error when none loaded. */
  selection: { name: BackendName; attempts: readonly BackendAttempt[] } | { error: string };
  /** Whether each backend's npm package resolves from mmsurv (cpu has none). */
  installed: Partial<Record<BackendName, boolean>>;
  cuda: CudaSearch;
  nvidiaGpu: boolean;
}

const DESCRIPTION: Record<BackendName, string> = {
  'tfjs-node-gpu': 'native TensorFlow on an NVIDIA GPU',
  'tfjs-node': 'native TensorFlow on the CPU',
  wasm: 'WebAssembly SIMD, bundled, one core per process',
  cpu: 'pure JavaScript, ~30x slower than wasm',
};

const GPU_INSTALL =
  'with network access, `npm install @tensorflow/tfjs-node-gpu@4.22.0` in the mmsurv folder (its install downloads ' +
  `libtensorflow), on a machine with CUDA 11.2 + cuDNN 8.1 (${CUDA_LIBRARIES.join(', ')}); or build the GPU image ` +
  '(`mmsurv package --target gpu`), which installs it at build time';

function short(reason: string | undefined): string {
  if (!reason) return 'failed';
  if (reason.startsWith('not installed')) return 'not installed';
  const line = reason.split('\n')[0]!.trim();
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

/** Why one skipped candidate was skipped, in words a user can act on. */
function explain(a: BackendAttempt): string {
  if (a.reason?.startsWith('not installed')) {
    if (a.name === 'tfjs-node-gpu') {
      return '@tensorflow/tfjs-node-gpu is not installed (an optional dependency whose install script downloads ' +
        'libtensorflow from the internet; it is absent after an offline or failed install)';
    }
    if (a.name === 'tfjs-node') return '@tensorflow/tfjs-node is not installed (not a dependency of mmsurv; its install also downloads libtensorflow)';
    return `${BACKEND_PACKAGES[a.name] ?? a.name} is not installed`;
  }
  return `${a.name} failed: ${short(a.reason)}`;
}

function cudaLine(cuda: CudaSearch): string {
  const libs = cuda.libraries.map((l) => (l.path ? `${l.name} at ${l.path} (${l.via})` : `${l.name} not found`)).join(', ');
  return `CUDA libraries for tfjs-node-gpu 4.22: ${libs}; searched ${cuda.searched.join(', ')}`;
}

/** The backend check and the `backend` object of the JSON report. */
export function backendCheck(f: BackendFacts): { check: DoctorCheck; report: DoctorBackendReport } {
  const attempts = 'error' in f.selection ? [] : [...f.selection.attempts];
  const selected = 'error' in f.selection ? null : f.selection.name;
  const report: DoctorBackendReport = {
    selected,
    why: '',
    attempts: attempts.map((a) => ({
      name: a.name,
      ok: a.ok,
      installed: BACKEND_PACKAGES[a.name] ? (f.installed[a.name] ?? false) : null,
      package: BACKEND_PACKAGES[a.name] ?? null,
      reason: a.ok ? null : (a.reason ?? 'failed'),
    })),
    cuda: f.cuda,
    nvidiaGpu: f.nvidiaGpu,
  };
  const missing = missingCudaLibraries(f.cuda);
  const detail = [
    ...attempts.map((a) => `${a.name}: ${a.ok ? 'loaded' : a.reason ?? 'failed'}`),
    cudaLine(f.cuda),
    ...(f.cuda.otherVersions.length ? [`other CUDA versions here (libtensorflow 2.9 does not load them): ${f.cuda.otherVersions.join(', ')}`] : []),
    f.nvidiaGpu ? 'NVIDIA driver: present' : 'NVIDIA driver: none visible (no /proc/driver/nvidia/version, no /dev/nvidiactl)',
  ];
  const data = { selected, order: [...BACKEND_ORDER], nvidiaGpu: f.nvidiaGpu, missingCudaLibraries: missing };

  if (selected === null) {
    const error = (f.selection as { error: string }).error;
    report.why = `no backend could be loaded: ${error}`;
    return {
      report,
      check: {
        id: 'backend', status: 'fail', data, detail: [...error.split('\n'), ...detail],
        summary: 'no TensorFlow.js backend loads',
        fix: 'run `npm ci` in the mmsurv folder: the cpu backend needs only @tensorflow/tfjs, wasm only @tensorflow/tfjs-backend-wasm',
      },
    };
  }

  const skipped = attempts.filter((a) => !a.ok);
  report.why = skipped.length
    ? `auto chose ${selected} because ${skipped.map(explain).join('; ')}`
    : `auto chose ${selected}, the first in the order ${BACKEND_ORDER.join(' > ')}`;
  const summary = `${selected} (${DESCRIPTION[selected]})` +
    (skipped.length ? `; skipped ${skipped.map((a) => `${a.name}: ${short(a.reason)}`).join(', ')}` : '');
  const check: DoctorCheck = { id: 'backend', status: 'pass', summary, detail, fix: null, data };

  if (selected === 'cpu') {
    check.status = 'warn';
    check.fix = 'reinstall the bundled wasm backend (`npm ci` in the mmsurv folder), which is ~30x faster than cpu; see the wasm line above for why it failed';
  } else if (f.nvidiaGpu && selected !== 'tfjs-node-gpu') {
    const gpu = attempts.find((a) => a.name === 'tfjs-node-gpu');
    check.status = 'warn';
    check.summary += '; an NVIDIA GPU is present but unused';
    if (!f.installed['tfjs-node-gpu'] || gpu?.reason?.startsWith('not installed')) check.fix = GPU_INSTALL;
    else if (missing.length) {
      check.fix = `install the CUDA 11.2 runtime and cuDNN 8.1 (missing: ${missing.join(', ')}) and add their folder to LD_LIBRARY_PATH ` +
        '(or run in an nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 based image)';
    } else check.fix = 'tfjs-node-gpu is installed and the CUDA libraries were found but it failed to load (see above): run `npm rebuild @tensorflow/tfjs-node-gpu` with network access';
  }
  return { check, report };
}


async function ldconfigCache(timeoutMs: number): Promise<string> {
  for (const bin of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = await execa(bin, ['-p'], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
    if (!r.failed) return String(r.stdout);
  }
  return '';
}

/** The real facts of this machine; this selects the process's backend (as any computing command would). */
export async function probeBackend(): Promise<BackendFacts> {
  let selection: BackendFacts['selection'];
  try {
    const b = await selectBackend({ prefer: 'auto' });
    selection = { name: b.name, attempts: b.attempts };
  } catch (err) {
    selection = { error: err instanceof Error ? err.message : String(err) };
  }
  const installed: BackendFacts['installed'] = {};
  for (const name of BACKEND_ORDER) {
    const pkg = BACKEND_PACKAGES[name];
    if (pkg) installed[name] = packageInstalled(pkg);
  }
  const cuda = findCudaLibraries({ ldconfig: await ldconfigCache(5000), ldLibraryPath: process.env['LD_LIBRARY_PATH'] });
  const nvidiaGpu = existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidiactl');
  return { selection, installed, cuda, nvidiaGpu };
}
