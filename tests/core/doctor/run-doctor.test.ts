/** runDoctor with injected probes (order, timeouts, broken probes, exit status) and the text format. */
import { describe, expect, it } from 'vitest';
import type { DoctorCheck, DoctorReport } from '../../../core/doctor/check.js';
import type { DockerFacts } from '../../../core/doctor/docker-checks.js';
import { formatDoctorReport, runDoctor, type DoctorProbe } from '../../../core/doctor/run-doctor.js';

const GiB = 1024 ** 3;
const noDocker: DockerFacts = {
  endpoint: 'unix:///var/run/docker.sock', fromEnv: false, remote: false, reachable: false, runtimes: [], cdiDevices: [], nvidiaHook: false,
  error: { code: 'ENOENT', message: 'connect ENOENT /var/run/docker.sock' }, baseImage: { name: 'mmsurv-base:bookworm-node20', present: null },
};
const never = <T>() => new Promise<T>(() => {});

function fakeProbe(over: Partial<DoctorProbe> = {}): Partial<DoctorProbe> {
  return {
    nodeVersion: () => '20.20.2',
    enginesNode: () => '>=20.19',
    backend: async () => ({
      selection: { name: 'wasm', attempts: [{ name: 'tfjs-node-gpu', ok: false, reason: 'not installed: x' }, { name: 'tfjs-node', ok: false, reason: 'not installed: y' }, { name: 'wasm', ok: true }] },
      installed: { 'tfjs-node-gpu': false, 'tfjs-node': false, wasm: true },
      cuda: { libraries: [], searched: [], otherVersions: [] },
      nvidiaGpu: false,
    }),
    docker: async () => noDocker,
    r: async () => ({ found: true, ok: true, timedOut: false, versions: { r: '4.2.2', survival: '3.4.0', riskRegression: '2023.03.22' } }),
    disk: async () => ({ path: '/work', source: 'cwd', freeBytes: 50 * GiB, totalBytes: 100 * GiB }),
    ...over,
  };
}

describe('runDoctor', () => {
  it('runs every check, in print order, and is ok when nothing fails', async () => {
    let diskSaw: DockerFacts | null | undefined;
    const r = await runDoctor({ probe: fakeProbe({ disk: async (d) => { diskSaw = d; return { path: '/w', source: 'cwd', freeBytes: 50 * GiB, totalBytes: 100 * GiB }; } }) });
    expect(r.checks.map((c) => c.id)).toEqual(['node', 'backend', 'docker', 'docker-gpu', 'base-image', 'r', 'disk']);
    expect(r.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'warn', 'warn', 'warn', 'pass', 'pass']);
    expect(r.ok).toBe(true);
    expect(r.counts).toEqual({ pass: 4, warn: 3, fail: 0 });
    expect(r.backend.selected).toBe('wasm');
    expect(diskSaw).toBe(noDocker); // the disk check is told what Docker answered
    for (const c of r.checks) expect(Object.keys(c)).toEqual(['id', 'status', 'summary', 'detail', 'fix', 'data']);
  });

  it('a failing check makes it not ok', async () => {
    const r = await runDoctor({ probe: fakeProbe({ nodeVersion: () => '18.20.0' }) });
    expect(r.checks[0]!.status).toBe('fail');
    expect(r.ok).toBe(false);
    expect(r.counts.fail).toBe(1);
  });

  it('a probe that hangs or throws becomes a warning that says so; the rest still run', async () => {
    const t0 = Date.now();
    const r = await runDoctor({
      probe: fakeProbe({ backend: never, docker: never, r: async () => { throw new Error('R exploded'); } }),
      timeoutMs: { backend: 200, docker: 200 },
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    const by = Object.fromEntries(r.checks.map((c) => [c.id, c])) as Record<string, DoctorCheck>;
    expect(by['backend']).toMatchObject({ status: 'warn', summary: 'could not be checked: did not finish within 0.2 s' });
    expect(by['docker']!.summary).toBe('could not be checked: did not finish within 0.2 s');
    expect(by['docker-gpu']!.status).toBe('warn');
    expect(by['r']).toMatchObject({ status: 'warn', summary: 'could not be checked: R exploded' });
    expect(by['r']!.fix).toMatch(/^check by hand: Rscript/);
    expect(by['disk']!.status).toBe('pass'); // measured anyway (docker: null)
    expect(r.backend).toMatchObject({ selected: null, attempts: [] });
    expect(r.ok).toBe(true);
  });
});

const check = (id: DoctorCheck['id'], status: DoctorCheck['status'], summary: string, detail: string[] = [], fix: string | null = null): DoctorCheck =>
  ({ id, status, summary, detail, fix, data: {} });
const report = (checks: DoctorCheck[]): DoctorReport => {
  const counts = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, checks, backend: { selected: 'wasm', why: '', attempts: [], cuda: { libraries: [], searched: [], otherVersions: [] }, nvidiaGpu: false } };
};

describe('formatDoctorReport', () => {
  const r = report([
    check('node', 'pass', 'Node v20.20.2', ['a pass detail']),
    check('docker-gpu', 'warn', 'no GPU runtime', ['runtimes: runc'], 'install nvidia-container-toolkit'),
    check('disk', 'fail', '1.0 GiB free', [], 'free space'),
  ]);

  it('one STATUS id summary line per check; detail and fix only under WARN and FAIL', () => {
    expect(formatDoctorReport(r).split('\n')).toEqual([
      'PASS  node        Node v20.20.2',
      'WARN  docker-gpu  no GPU runtime',
      '                  runtimes: runc',
      '                  fix: install nvidia-container-toolkit',
      'FAIL  disk        1.0 GiB free',
      '                  fix: free space',
      '',
      '1 pass, 1 warn, 1 fail: mmsurv will not work here until the FAIL lines are fixed',
      '(--verbose shows the details of every line, --json the same as one JSON object)',
    ]);
  });

  it('verbose shows the details of passing checks too', () => {
    const lines = formatDoctorReport(r, { verbose: true }).split('\n');
    expect(lines.slice(0, 2)).toEqual(['PASS  node        Node v20.20.2', '                  a pass detail']);
    expect(lines.at(-1)).toBe('1 pass, 1 warn, 1 fail: mmsurv will not work here until the FAIL lines are fixed');
  });

  it('wraps long lines at the width, indented under the summary', () => {
    const long = report([check('backend', 'warn', 'word '.repeat(40).trim(), [], 'fix '.repeat(40).trim())]);
    const lines = formatDoctorReport(long, { width: 70 }).split('\n');
    for (const l of lines.slice(0, -3)) expect(l.length).toBeLessThanOrEqual(70); // the footer is not wrapped
    expect(lines[1]).toMatch(/^ {15}word/);
    const fixAt = lines.findIndex((l) => l.trimStart().startsWith('fix: '));
    expect(lines[fixAt + 1]).toMatch(/^ {20}fix/);
    expect(lines.at(-2)).toBe('0 pass, 1 warn, 0 fail: mmsurv runs here; the WARN lines are optional tools or slower paths');
  });
});
