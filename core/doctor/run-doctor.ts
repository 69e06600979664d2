/**
 * `mmsurv doctor`: run every check (the independent ones in parallel, each under a timeout) and format the result.
 * The probes that touch the machine are injectable, so the status and formatting logic is testable without it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import type { DoctorBackendReport, DoctorCheck, DoctorCheckId, DoctorReport, DoctorStatus } from './check.js';
import { backendCheck, probeBackend, type BackendFacts } from './backend-check.js';
import { baseImageCheck, dockerEngineCheck, dockerGpuCheck, probeDocker, type DockerFacts } from './docker-checks.js';
import { diskCheck, probeDisk, type DiskFacts } from './disk-check.js';
import { nodeCheck } from './node-check.js';
import { probeR, rCheck, type RFacts } from './r-check.js';

/** The parts of the machine doctor looks at; each defaults to the real one. */
export interface DoctorProbe {
  nodeVersion(): string;
  /** package.json engines.node. */
  enginesNode(): string;
  backend(): Promise<BackendFacts>;
  docker(): Promise<DockerFacts>;
  r(): Promise<RFacts>;
  /** Free space; `docker` is null when the Docker probe failed or timed out. */
  disk(docker: DockerFacts | null): Promise<DiskFacts>;
}

export interface RunDoctorOptions {
  probe?: Partial<DoctorProbe>;
  /** Per-probe time limits in ms (defaults: backend 90 s, docker 15 s, r 40 s, disk 10 s). */
  timeoutMs?: Partial<Record<'backend' | 'docker' | 'r' | 'disk', number>>;
}

const DEFAULT_TIMEOUT_MS = { backend: 90_000, docker: 15_000, r: 40_000, disk: 10_000 };

/** How to look by hand when a probe itself broke or hung. */
const BY_HAND: Record<DoctorCheckId, string> = {
  node: 'node --version',
  backend: `node -e "import('@tensorflow/tfjs-backend-wasm').then(() => console.log('wasm ok'))" in the mmsurv folder`,
  docker: 'docker info',
  'docker-gpu': "docker info --format '{{json .Runtimes}}'",
  'base-image': 'docker image inspect mmsurv-base:bookworm-node20',
  r: "Rscript -e 'library(survival); library(riskRegression)'",
  disk: 'df -h .',
};

function enginesNode(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { engines?: { node?: string } };
    return pkg.engines?.node ?? '>=20.19';
  } catch {
    return '>=20.19';
  }
}

const realProbe: DoctorProbe = {
  nodeVersion: () => process.versions.node,
  enginesNode,
  backend: () => probeBackend(),
  docker: () => probeDocker({ timeoutMs: 5000 }),
  r: () => probeR({ timeoutMs: 30_000 }),
  disk: (docker) => probeDisk(docker),
};

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** `run()` settled, or an error after `ms` (the timer does not keep the process alive). */
async function within<T>(ms: number, run: () => Promise<T>): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `did not finish within ${ms / 1000} s` }), ms);
    timer.unref();
  });
  try {
    return await Promise.race([
      run().then((value): Outcome<T> => ({ ok: true, value }), (err: unknown): Outcome<T> => ({ ok: false, error: err instanceof Error ? err.message : String(err) })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function broken(id: DoctorCheckId, error: string): DoctorCheck {
  return {
    id, status: 'warn', summary: `could not be checked: ${error.split('\n')[0]}`, detail: error.split('\n').slice(1),
    fix: `check by hand: ${BY_HAND[id]}`, data: { error },
  };
}

/** Run every check. Never throws; a probe that throws or times out becomes a 'warn' check saying so. */
export async function runDoctor(opts: RunDoctorOptions = {}): Promise<DoctorReport> {
  const probe: DoctorProbe = { ...realProbe, ...opts.probe };
  const limit = { ...DEFAULT_TIMEOUT_MS, ...opts.timeoutMs };

  const dockerP = within(limit.docker, () => probe.docker());
  const diskP = dockerP.then((d) => within(limit.disk, () => probe.disk(d.ok ? d.value : null)));
  const [backendO, dockerO, rO, diskO] = await Promise.all([within(limit.backend, () => probe.backend()), dockerP, within(limit.r, () => probe.r()), diskP]);

  const checks: DoctorCheck[] = [];
  try {
    checks.push(nodeCheck(probe.nodeVersion(), probe.enginesNode()));
  } catch (err) {
    checks.push(broken('node', err instanceof Error ? err.message : String(err)));
  }

  let backend: DoctorBackendReport;
  if (backendO.ok) {
    const b = backendCheck(backendO.value);
    checks.push(b.check);
    backend = b.report;
  } else {
    checks.push(broken('backend', backendO.error));
    backend = { selected: null, why: `the backend selection could not be made: ${backendO.error}`, attempts: [], cuda: { libraries: [], searched: [], otherVersions: [] }, nvidiaGpu: false };
  }

  if (dockerO.ok) checks.push(dockerEngineCheck(dockerO.value), dockerGpuCheck(dockerO.value), baseImageCheck(dockerO.value));
  else checks.push(broken('docker', dockerO.error), broken('docker-gpu', dockerO.error), broken('base-image', dockerO.error));
  checks.push(rO.ok ? rCheck(rO.value) : broken('r', rO.error));
  checks.push(diskO.ok ? diskCheck(diskO.value) : broken('disk', diskO.error));

  const counts: Record<DoctorStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  const ordered = checks.map(({ id, status, summary, detail, fix, data }) => ({ id, status, summary, detail, fix, data }));
  return { ok: counts.fail === 0, counts, checks: ordered, backend };
}

/**
 * `text` on lines of at most `width` characters: the first holds `firstWidth` characters (it follows a prefix the
 * caller prints), the others start with `indent`. A word longer than a line (a path) gets a line of its own.
 */
function wrap(text: string, firstWidth: number, indent: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter((x) => x !== '')) {
    const room = lines.length === 0 ? firstWidth : width - indent.length;
    if (line && line.length + 1 + w.length > room) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/**
 * The text report: one `PASS  id  summary` line per check; under a WARN or FAIL line (under every line with
 * `verbose`) its detail lines, and for WARN and FAIL a `fix:` line; then a count line. Long lines wrap at `width`.
 */
export function formatDoctorReport(report: DoctorReport, opts: { verbose?: boolean; width?: number } = {}): string {
  const width = Math.max(60, opts.width ?? 110);
  const idWidth = Math.max(0, ...report.checks.map((c) => c.id.length)) + 2;
  const indent = ' '.repeat(6 + idWidth);
  const out: string[] = [];
  for (const c of report.checks) {
    out.push(`${c.status.toUpperCase().padEnd(6)}${c.id.padEnd(idWidth)}${wrap(c.summary, width - indent.length, indent, width)}`);
    if (c.status !== 'pass' || opts.verbose) for (const d of c.detail) out.push(indent + wrap(d, width - indent.length, `${indent}  `, width));
    if (c.fix && c.status !== 'pass') out.push(`${indent}fix: ${wrap(c.fix, width - indent.length - 5, `${indent}     `, width)}`);
  }
  const { pass, warn, fail } = report.counts;
  const verdict = !report.ok
    ? 'mmsurv will not work here until the FAIL lines are fixed'
    : warn ? 'mmsurv runs here; the WARN lines are optional tools or slower paths' : 'everything mmsurv can use is here';
  out.push('', `${pass} pass, ${warn} warn, ${fail} fail: ${verdict}` +
    (opts.verbose ? '' : '\n(--verbose shows the details of every line, --json the same as one JSON object)'));
  return out.join('\n');
}
