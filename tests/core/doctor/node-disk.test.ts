/** Node version comparison and disk thresholds; the disk numbers are compared with df (coreutils), not statfs. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { compareVersions, nodeCheck, parseVersion } from '../../../core/doctor/node-check.js';
import { DISK_FAIL_BYTES, DISK_WARN_BYTES, diskCheck, probeDisk, type DiskFacts } from '../../../core/doctor/disk-check.js';
import type { DockerFacts } from '../../../core/doctor/docker-checks.js';

describe('nodeCheck', () => {
  it('parses versions and ranges', () => {
    expect(parseVersion('20.19.0')).toEqual([20, 19, 0]);
    expect(parseVersion('v22.1')).toEqual([22, 1, 0]);
    expect(parseVersion('>=20.19')).toEqual([20, 19, 0]);
    expect(parseVersion('^20')).toBeNull();
    expect(compareVersions([20, 9, 0], [20, 19, 0])).toBe(-1); // numeric, not string, comparison
    expect(compareVersions([20, 19, 0], [20, 19, 0])).toBe(0);
    expect(compareVersions([21, 0, 0], [20, 19, 5])).toBe(1);
  });

  it.each([
    ['20.19.0', 'pass'],
    ['20.20.2', 'pass'],
    ['22.0.0', 'pass'],
    ['20.18.3', 'fail'],
    ['20.9.0', 'fail'],
    ['18.20.4', 'fail'],
  ] as const)('Node %s against >=20.19 is %s', (version, status) => {
    const c = nodeCheck(version, '>=20.19');
    expect(c.id).toBe('node');
    expect(c.status).toBe(status);
    expect(c.summary).toContain(`v${version}`);
    if (status === 'fail') expect(c.fix).toMatch(/install Node 20\.19\.0 or newer/);
    else expect(c.fix).toBeNull();
  });

  it('a range it cannot read is a warning with a fix, not a pass', () => {
    const c = nodeCheck('20.20.2', '^20.19.0 || >=22');
    expect(c.status).toBe('warn');
    expect(c.fix).toContain('^20.19.0 || >=22');
  });
});

const GiB = 1024 ** 3;
const disk = (freeBytes: number): DiskFacts => ({ path: '/data', source: 'cwd', freeBytes, totalBytes: 100 * GiB });

describe('diskCheck', () => {
  it('thresholds: fail under 2 GiB, warn under 20 GiB, pass from 20 GiB', () => {
    expect(DISK_FAIL_BYTES).toBe(2 * GiB);
    expect(DISK_WARN_BYTES).toBe(20 * GiB);
    expect(diskCheck(disk(2 * GiB - 1)).status).toBe('fail');
    expect(diskCheck(disk(2 * GiB)).status).toBe('warn');
    expect(diskCheck(disk(20 * GiB - 1)).status).toBe('warn');
    expect(diskCheck(disk(20 * GiB)).status).toBe('pass');
    expect(diskCheck(disk(0)).status).toBe('fail');
  });

  it('prints the numbers and where, and a fix unless it passes', () => {
    const warn = diskCheck(disk(1.5 * GiB * 10));
    expect(warn.summary).toBe('15.0 GiB free of 100.0 GiB at /data: under 20.0 GiB, a CUDA image (~10 GB) may not fit');
    expect(warn.fix).toMatch(/docker system prune/);
    expect(warn.data).toMatchObject({ freeBytes: 15 * GiB, totalBytes: 100 * GiB, source: 'cwd' });
    const fail = diskCheck(disk(GiB));
    expect(fail.summary).toMatch(/^1\.0 GiB free of 100\.0 GiB at \/data: under 2\.0 GiB/);
    expect(fail.fix).toBeTruthy();
    const pass = diskCheck({ ...disk(50 * GiB), source: 'docker-root', path: '/var/lib/docker' });
    expect(pass.summary).toBe("50.0 GiB free of 100.0 GiB at Docker's root dir /var/lib/docker");
    expect(pass.fix).toBeNull();
  });
});

function dockerFacts(over: Partial<DockerFacts>): DockerFacts {
  return {
    endpoint: 'unix:///var/run/docker.sock', fromEnv: false, remote: false, reachable: true, runtimes: ['runc'], cdiDevices: [],
    nvidiaHook: false, baseImage: { name: 'mmsurv-base:bookworm-node20', present: true }, ...over,
  };
}

/** Available bytes of the filesystem holding `path`, as df reports them. */
async function dfAvail(path: string): Promise<number> {
  const r = await execa('df', ['-B1', '--output=avail', path]);
  return Number(r.stdout.trim().split('\n').at(-1));
}

describe('probeDisk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmsurv-doctor-disk-'));

  it('measures the working directory when no engine answers, and agrees with df', async () => {
    const f = await probeDisk(null, dir);
    expect(f.source).toBe('cwd');
    expect(f.path).toBe(dir);
    expect(f.note).toMatch(/no Docker engine/);
    expect(f.totalBytes).toBeGreaterThan(f.freeBytes);
    expect(Math.abs(f.freeBytes - (await dfAvail(dir)))).toBeLessThan(256 * 1024 ** 2);
  });

  it("measures Docker's root dir of a local engine, and falls back to the cwd for a remote one", async () => {
    const local = await probeDisk(dockerFacts({ rootDir: dir }), tmpdir());
    expect(local).toMatchObject({ source: 'docker-root', path: dir });
    expect(local.note).toBeUndefined();
    const remote = await probeDisk(dockerFacts({ rootDir: dir, remote: true, endpoint: 'tcp://build:2375' }), dir);
    expect(remote.source).toBe('cwd');
    expect(remote.note).toMatch(/tcp:\/\/build:2375 is remote/);
    const invisible = await probeDisk(dockerFacts({ rootDir: join(dir, 'no-such-dir') }), dir);
    expect(invisible.source).toBe('cwd');
    expect(invisible.note).toMatch(/not visible from here/);
  });
});
