/**
 * `mmsurv doctor` as a user runs it, on this machine as it is. Docker and R are asked independently here (dockerode,
 * Rscript), so the expectations hold with and without an engine (CI starts one) and with and without R.
 */
import Docker from 'dockerode';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../../core/doctor/check.js';
import { mmsurv } from '../../support/cli.js';
import { packageInstalled } from '../../../core/backend/select.js';

const nativeInstalled = packageInstalled('@tensorflow/tfjs-node-gpu') || packageInstalled('@tensorflow/tfjs-node');

const IDS = ['node', 'backend', 'docker', 'docker-gpu', 'base-image', 'r', 'disk'];
let report: DoctorReport;
let jsonExit: number | undefined;
beforeAll(async () => {
  const r = await mmsurv(['doctor', '--json']);
  jsonExit = r.exitCode;
  try {
    report = JSON.parse(r.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
  }
});
const check = (id: string) => report.checks.find((c) => c.id === id)!;

async function engineAnswers(): Promise<boolean> {
  try {
    await new Docker({ timeout: 5000 }).ping();
    return true;
  } catch {
    return false;
  }
}

describe('mmsurv doctor --json', () => {
  it('lists every check with a status, a summary, and a fix whenever it is not a pass; exits 1 exactly when one fails', () => {
    expect(report.checks.map((c) => c.id)).toEqual(IDS);
    for (const c of report.checks) {
      expect(['pass', 'warn', 'fail'], c.id).toContain(c.status);
      expect(c.summary.length, c.id).toBeGreaterThan(0);
      if (c.status === 'pass') expect(c.fix, c.id).toBeNull();
      else expect(typeof c.fix === 'string' && c.fix.trim().length > 10, `${c.id} has a fix`).toBe(true);
    }
    const fails = report.checks.filter((c) => c.status === 'fail').length;
    expect(report.ok).toBe(fails === 0);
    expect(report.counts.fail).toBe(fails);
    expect(jsonExit).toBe(fails === 0 ? 0 : 1);
  });

  it('the node check passes (this Node satisfies engines.node)', () => {
    expect(check('node')).toMatchObject({ status: 'pass', data: { version: process.versions.node, required: '>=20.19' } });
  });

  it('backend: auto selects wasm because tfjs-node-gpu is not installed, and says so', (ctx) => {
    if (nativeInstalled) ctx.skip('@tensorflow/tfjs-node(-gpu) is installed here, so auto would not fall back to wasm');
    expect(report.backend.selected).toBe('wasm');
    const [gpu, node, wasm] = report.backend.attempts;
    expect(gpu).toMatchObject({ name: 'tfjs-node-gpu', ok: false, installed: false, package: '@tensorflow/tfjs-node-gpu' });
    expect(gpu!.reason).toMatch(/^not installed: /);
    expect(gpu!.reason).toContain('downloads libtensorflow');
    expect(node).toMatchObject({ name: 'tfjs-node', ok: false, installed: false });
    expect(wasm).toEqual({ name: 'wasm', ok: true, installed: true, package: '@tensorflow/tfjs-backend-wasm', reason: null });
    expect(report.backend.attempts).toHaveLength(3); // cpu is never tried once wasm loads
    expect(report.backend.why).toMatch(/^auto chose wasm because @tensorflow\/tfjs-node-gpu is not installed .*libtensorflow from the internet/);
    expect(check('backend').summary).toMatch(/^wasm \(WebAssembly SIMD.*skipped tfjs-node-gpu: not installed/);
    expect(report.backend.cuda.libraries.map((l) => l.name)).toEqual(['libcudart.so.11.0', 'libcudnn.so.8']);
    // a GPU left unused is a warning; without one wasm is a pass
    expect(check('backend').status).toBe(report.backend.nvidiaGpu ? 'warn' : 'pass');
  });

  it('Docker checks agree with a direct ping of the engine', async () => {
    const docker = check('docker');
    if (await engineAnswers()) {
      const info = (await new Docker().info()) as { ServerVersion: string; DockerRootDir: string };
      expect(docker.status).toBe('pass');
      expect(docker.data).toMatchObject({ reachable: true, serverVersion: info.ServerVersion, rootDir: info.DockerRootDir });
      expect(check('docker-gpu').data['skipped']).toBeUndefined();
      const image = await new Docker().getImage('mmsurv-base:bookworm-node20').inspect().then(() => true, () => false);
      expect(check('base-image').status).toBe(image ? 'pass' : 'warn');
      if (!process.env['DOCKER_HOST']) expect(check('disk').data).toMatchObject({ source: 'docker-root', path: info.DockerRootDir });
    } else {
      expect(docker.status).toBe('warn'); // never a failure: only packaging needs Docker
      expect(docker.data['reachable']).toBe(false);
      expect(docker.fix).toMatch(/docker\.io|DOCKER_HOST|docker group/);
      for (const id of ['docker-gpu', 'base-image']) expect(check(id)).toMatchObject({ status: 'warn', data: { skipped: true } });
      expect(check('disk').data['source']).toBe('cwd');
    }
  });

  it('R check agrees with running Rscript; disk check prints the numbers it measured', async () => {
    const r = await execa('Rscript', ['-e', 'library(survival); library(riskRegression)'], { reject: false, timeout: 60_000 });
    expect(check('r').status).toBe(r.exitCode === 0 ? 'pass' : 'warn');
    const disk = check('disk');
    const free = disk.data['freeBytes'] as number;
    expect(free).toBeGreaterThan(0);
    expect(disk.summary).toContain(`${(free / 1024 ** 3).toFixed(1)} GiB free of`);
    expect(disk.status).toBe(free < 2 * 1024 ** 3 ? 'fail' : free < 20 * 1024 ** 3 ? 'warn' : 'pass');
  });
});

describe('mmsurv doctor (text)', () => {
  it('prints one STATUS line per check and a fix line under each WARN and FAIL', async () => {
    const r = await mmsurv(['doctor']);
    expect(r.exitCode).toBe(jsonExit);
    const lines = r.stdout.split('\n');
    const heads = lines.filter((l) => /^(PASS|WARN|FAIL) {2}/.test(l));
    expect(heads.map((l) => l.split(/\s+/)[1])).toEqual(IDS);
    const byId = new Map<string, string>(report.checks.map((c) => [c.id, c.status]));
    for (const h of heads) {
      const [status, id] = h.split(/\s+/);
      expect(status!.toLowerCase(), id).toBe(byId.get(id!)); // the same verdicts as --json
    }
    const fixes = lines.filter((l) => /^ +fix: /.test(l)).length;
    expect(fixes).toBe(report.checks.filter((c) => c.status !== 'pass').length);
    expect(r.stdout).toMatch(/\n\d+ pass, \d+ warn, \d+ fail: /);
  });

  it('--help shows the examples', async () => {
    const r = await mmsurv(['doctor', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n\s+mmsurv doctor/);
    expect(r.stdout).toContain('--json');
  });
});
