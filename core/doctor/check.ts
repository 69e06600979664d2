/**
 * DoctorCheck: the result of one `mmsurv doctor` check of the machine (core/doctor/run-doctor runs them all).
 *
 * A check looks at one thing mmsurv needs (Node, the TensorFlow.js backend, Docker, Docker's GPU runtime, the
 * offline base image, R for the reference tests, disk space) and says how it stands, why, and what to do.
 *
 * Invariants
 * - `status` is 'pass' (works), 'warn' (works with a limitation, or an optional tool is missing: mmsurv still runs)
 *   or 'fail' (mmsurv will not work here). `mmsurv doctor` exits 1 when any check fails, else 0.
 * - `fix` is a non-empty instruction (a command to run where there is one) whenever `status` is not 'pass';
 *   it is null on 'pass'.
 * - `summary` is one line (no newline); `detail` holds the supporting lines (found paths, reasons), possibly none.
 * - `data` holds the measured facts behind the status (numbers in bytes, paths, versions), JSON-serialisable; its
 *   keys are per check and documented where the check is made. A check that could not be made because another one
 *   failed (e.g. the GPU runtime without a Docker engine) is a 'warn' with `data.skipped === true`.
 * - A check never throws and never hangs: run-doctor turns an error or a timeout into a 'warn' naming it.
 *
 * @example
 * { id: 'docker', status: 'warn', summary: 'no Docker engine answers at unix:///var/run/docker.sock',
 *   detail: ['connect ENOENT /var/run/docker.sock'], fix: 'install the engine: apt-get install -y docker.io ...',
 *   data: { endpoint: 'unix:///var/run/docker.sock', reachable: false } }
 */
import type { BackendName } from '../contracts/backend.js';

export type DoctorStatus = 'pass' | 'warn' | 'fail';

/** The ids of the built-in checks, in the order they are printed. */
export type DoctorCheckId = 'node' | 'backend' | 'docker' | 'docker-gpu' | 'base-image' | 'r' | 'disk';

export interface DoctorCheck {
  id: DoctorCheckId;
  status: DoctorStatus;
  summary: string;
  detail: string[];
  fix: string | null;
  data: Record<string, unknown>;
}

/**
 * How `auto` chose the TensorFlow.js backend, as `mmsurv doctor --json` prints it under `backend`.
 * - `selected`: the backend `auto` ends on (null when none loads, which is also a 'fail' of the backend check).
 * - `attempts`: the candidates tried, in order (tfjs-node-gpu > tfjs-node > wasm > cpu), up to the selected one:
 *   `ok` false with `reason` (selectBackend's own text, e.g. 'not installed: ...' or 'failed to load: ...') for each
 *   better backend that was skipped; `installed` says whether its npm package resolves (null for cpu: no package).
 * - `why`: one sentence saying why `selected` and not a better one.
 * - `cuda`: the CUDA 11 runtime and cuDNN 8 libraries tfjs-node-gpu 4.22 needs, and where they were looked for.
 * - `nvidiaGpu`: an NVIDIA driver is visible on this machine (/proc/driver/nvidia/version or /dev/nvidiactl).
 */
export interface DoctorBackendReport {
  selected: BackendName | null;
  why: string;
  attempts: { name: BackendName; ok: boolean; installed: boolean | null; package: string | null; reason: string | null }[];
  cuda: CudaSearch;
  nvidiaGpu: boolean;
}

/** Where each required CUDA library was found (null: nowhere), the folders searched and other versions seen. */
export interface CudaSearch {
  libraries: { name: string; path: string | null; via: 'ldconfig' | 'LD_LIBRARY_PATH' | 'dir' | null }[];
  searched: string[];
  /** Other versions of the same libraries (e.g. libcudart.so.13): present, but not the ones libtensorflow 2.9 loads. */
  otherVersions: string[];
}

/**
 * What `mmsurv doctor --json` prints: `ok` is true when no check failed (the exit code is then 0), `counts` per
 * status, `checks` in print order, and `backend` (see DoctorBackendReport).
 */
export interface DoctorReport {
  ok: boolean;
  counts: Record<DoctorStatus, number>;
  checks: DoctorCheck[];
  backend: DoctorBackendReport;
}
