/**
 * The graded image, end to end, with a real Docker engine: a run trained on synthetic slides + RNA + clinical is
 * packaged for the CPU target on the offline base image, then `mmsurv test-container` runs every synthetic /input
 * case as the platform does (--network none, read-only root filesystem and /input, fresh /tmp volume).
 *
 * Needs a Docker engine and the base image of containers/base-image/make-base-image.sh (`.ci/run` provides both);
 * without them the tests are skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK3_INPUT_FILES } from '../../core/data/synth/write.js';
import { harrellC } from '../../core/survival/concordance.js';
import { mmsurv } from '../support/cli.js';
import { BASE_IMAGE, engineSkipReason, expectSameAsHost, hostRunMatching, type HostRunMatching } from '../support/container-engine.js';
import { buildPackagedRunFixture, type PackagedRunFixture } from '../support/packaged-run.js';

const BASE = BASE_IMAGE;
const TAG = `mmsurv-test-task3:${process.pid}`;
const docker = new Docker();
const skipReason = await engineSkipReason(docker);

interface Report {
  cases: { id: string; output: number | null; seconds: number; peak_mb: number | null; warnings: string[]; errors: string[]; tmp_leftovers: string[] | null }[];
  metric: { name: string; value: number; cases: number }[] | null;
  failed: number;
}

describe.skipIf(skipReason !== null)(`CPU image on ${BASE}`, () => {
  let fx: PackagedRunFixture;
  let ctx: string;
  let matching: HostRunMatching; // the host run uses the image's matmul kernel
  let hostRisks: Map<string, { risk: number; time: number }>;

  beforeAll(async () => {
    matching = await hostRunMatching(docker, BASE_IMAGE);
    fx = await buildPackagedRunFixture(await mkdtemp(join(tmpdir(), 'mmsurv-container-')), { trainCases: 60, inputCases: 22 });
    ctx = join(fx.root, 'ctx');
    const r = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task3', '--target', 'cpu', '--base-image', BASE, '--tag', TAG, '--out', ctx, '--save', '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    // the run's own predictions of the input cases, outside Docker (same code path, same model directory)
    hostRisks = new Map();
    for (const id of (await readdir(fx.inputDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)) {
      const out = await mkdtemp(join(tmpdir(), 'mmsurv-host-'));
      const p = await mmsurv(['infer', '--model', join(ctx, 'model'), '--input', join(fx.inputDir, id), '--output', out, '--json', '--quiet'], { env: matching.env });
      expect(p.exitCode, p.stderr).toBe(0);
      hostRisks.set(id, JSON.parse(p.stdout) as { risk: number; time: number });
      await rm(out, { recursive: true });
    }
  }, 900_000);

  afterAll(async () => {
    await docker.getImage(TAG).remove({ force: true }).catch(() => undefined);
    if (fx) await rm(fx.root, { recursive: true, force: true });
  });

  it('every case gives a bare JSON number; the outputs rank cases as the run\'s risks do', async () => {
    const r = await mmsurv(['test-container', '--challenge', 'chimera-task3', '--image', TAG, '--cases', fx.inputDir, '--memory', '4g', '--json']);
    expect(r.exitCode, r.stderr + r.stdout.slice(0, 2000)).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.cases).toHaveLength(22);
    expect(report.failed).toBe(0);
    for (const c of report.cases) {
      expect(c.errors).toEqual([]);
      expect(typeof c.output).toBe('number');
      expect(c.tmp_leftovers).toEqual([]); // nothing left in /tmp; the root filesystem was read-only
      expect(c.peak_mb).toBeGreaterThan(0);
      // identical to the host run of the same model directory
      expectSameAsHost(c.output!, hostRisks.get(c.id)!.time, matching.exact, c.id);
    }
    const labels = JSON.parse(await readFile(join(fx.inputDir, 'labels.json'), 'utf8')) as Record<string, { time: number; event: number }>;
    const ids = report.cases.map((c) => c.id);
    const t = ids.map((id) => labels[id]!.time);
    const e = ids.map((id) => labels[id]!.event);
    const fromOutputs = harrellC(t, e, report.cases.map((c) => -c.output!));
    const fromRisks = harrellC(t, e, ids.map((id) => hostRisks.get(id)!.risk));
    expect(fromOutputs.cIndex).toBe(fromRisks.cIndex);
    expect(fromOutputs.tiedRisk).toBe(fromRisks.tiedRisk);
    expect(new Set(report.cases.map((c) => c.output)).size).toBe(new Set(ids.map((id) => hostRisks.get(id)!.risk)).size);
    expect(report.metric![0]!.value).toBeCloseTo(fromOutputs.cIndex, 12);
  }, 300_000); // 12-22 cases of a few seconds each in Docker; slower when the machine is shared

  it('runs as a non-root user, holds no files under /tmp, keeps its model under /opt/app/model', async () => {
    const info = await docker.getImage(TAG).inspect();
    expect(info.Config.User).toBe('user');
    expect(info.Config.Entrypoint).toEqual(['node', '/opt/app/dist/core/cli/bin.js', 'infer', '--input', '/input', '--output', '/output']);
    const ls = execFileSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', TAG, '-c', 'id -un; ls -A /tmp | wc -l; ls /opt/app/model']).toString().split('\n');
    expect(ls[0]).toBe('user');
    expect(ls[1]).toBe('0');
    expect(ls).toContain('metadata.json');
  });

  it('a corrupt slide fails the job with a clear error and writes no output', async () => {
    const cases = await mkdtemp(join(tmpdir(), 'mmsurv-bad-'));
    const id = (await readdir(fx.inputDir, { withFileTypes: true })).find((e) => e.isDirectory())!.name;
    await cp(join(fx.inputDir, id), join(cases, id), { recursive: true });
    const slide = join(cases, id, TASK3_INPUT_FILES.slideDir, `${id}_HE.tif`);
    await writeFile(slide, (await readFile(slide)).subarray(0, 300));
    const r = await mmsurv(['test-container', '--challenge', 'chimera-task3', '--image', TAG, '--cases', cases, '--json']);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.cases[0]!.output).toBeNull();
    expect(report.cases[0]!.errors.join(' ')).toMatch(new RegExp(`exit code 1: error: .*${id}_HE\\.tif`));
    await rm(cases, { recursive: true });
  });

  it('--save wrote TAG_<created>.tar.gz as docker save | gzip does', async () => {
    const saved = (await readdir(fx.root)).filter((f) => f.endsWith('.tar.gz'));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(new RegExp(`^${TAG.replace(/[:/]/g, '_')}_\\d{8}_\\d{6}\\.tar\\.gz$`));
    const listing = execFileSync('tar', ['-tzf', join(fx.root, saved[0]!)]).toString();
    expect(listing).toMatch(/^manifest\.json$/m);
    expect(existsSync(join(ctx, 'do_build.sh'))).toBe(true);
  });
});

if (skipReason !== null) {
  describe('CPU image', () => {
    // skipped with its reason (the summary reporter prints it) where Docker or the base image is missing
    it('container tier', (c) => c.skip(true, `container tests: ${skipReason}`));
  });
}
