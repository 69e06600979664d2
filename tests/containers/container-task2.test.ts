/**
 * The CHIMERA Task 2 image end to end, with a real Docker engine: a BRS3 classifier (binary head) trained on
 * synthetic slides + clinical data is packaged for the CPU target, and `mmsurv test-container --challenge chimera-task2`
 * runs synthetic Task 2 /input cases as the platform does. Every output is a probability in [0, 1] equal to the host
 * run of the same model directory, and the reported weighted F1 and AUC are scikit-learn's definitions (tested in
 * tests/core/classification) of those outputs against labels.json.
 *
 * Needs a Docker engine and the offline base image; without them the tests are skipped with the reason.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rocAuc, weightedF1 } from '../../core/classification/metrics.js';
import { mmsurv } from '../support/cli.js';
import { BASE_IMAGE, engineSkipReason, expectSameAsHost, hostRunMatching, type HostRunMatching } from '../support/container-engine.js';
import { buildPackagedRunFixture, type PackagedRunFixture } from '../support/packaged-run.js';

const TAG = `mmsurv-test-task2:${process.pid}`;
const docker = new Docker();
const skipReason = await engineSkipReason(docker);

interface Report {
  cases: { id: string; output: number | null; errors: string[]; tmp_leftovers: string[] | null }[];
  metric: { name: string; value: number; cases: number }[] | null;
  failed: number;
}

describe.skipIf(skipReason !== null)(`CPU image for chimera-task2 on ${BASE_IMAGE}`, () => {
  let fx: PackagedRunFixture;
  let ctx: string;
  let matching: HostRunMatching; // the host run uses the image's matmul kernel
  const host = new Map<string, { probability: number }>();

  beforeAll(async () => {
    matching = await hostRunMatching(docker, BASE_IMAGE);
    fx = await buildPackagedRunFixture(await mkdtemp(join(tmpdir(), 'mmsurv-container2-')), { trainCases: 60, inputCases: 12, task: 'task2' });
    ctx = join(fx.root, 'ctx');
    // a survival task refuses this run before anything is written
    const wrong = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task3', '--target', 'cpu', '--base-image', BASE_IMAGE, '--tag', TAG, '--out', ctx, '--quiet']);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/needs a time-like survival output; this run .* has a binary head/);
    const r = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task2', '--target', 'cpu', '--base-image', BASE_IMAGE, '--tag', TAG, '--out', ctx, '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const id of (await readdir(fx.inputDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)) {
      const out = await mkdtemp(join(tmpdir(), 'mmsurv-host-'));
      const p = await mmsurv(['infer', '--model', join(ctx, 'model'), '--input', join(fx.inputDir, id), '--output', out, '--json', '--quiet'], { env: matching.env });
      expect(p.exitCode, p.stderr).toBe(0);
      host.set(id, JSON.parse(p.stdout) as { probability: number });
      expect(JSON.parse(await readFile(join(out, 'brs-probability.json'), 'utf8'))).toBe(host.get(id)!.probability);
      await rm(out, { recursive: true });
    }
  }, 900_000);

  afterAll(async () => {
    await docker.getImage(TAG).remove({ force: true }).catch(() => undefined);
    if (fx) await rm(fx.root, { recursive: true, force: true });
  });

  it('every case writes brs-probability.json, a probability equal to the host run; weighted F1 and AUC are those of the outputs', async () => {
    const r = await mmsurv(['test-container', '--challenge', 'chimera-task2', '--image', TAG, '--cases', fx.inputDir, '--memory', '4g', '--json']);
    expect(r.exitCode, r.stderr + r.stdout.slice(0, 2000)).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.cases).toHaveLength(12);
    expect(report.failed).toBe(0);
    for (const c of report.cases) {
      expect(c.errors).toEqual([]);
      expect(c.tmp_leftovers).toEqual([]);
      expect(c.output).toBeGreaterThanOrEqual(0);
      expect(c.output).toBeLessThanOrEqual(1);
      expectSameAsHost(c.output!, host.get(c.id)!.probability, matching.exact, c.id);
    }
    expect(new Set(report.cases.map((c) => c.output)).size).toBeGreaterThan(1);
    const labels = JSON.parse(await readFile(join(fx.inputDir, 'labels.json'), 'utf8')) as Record<string, { label: number }>;
    const scored = report.cases.filter((c) => labels[c.id]);
    const y = scored.map((c) => labels[c.id]!.label);
    const p = scored.map((c) => c.output!);
    expect(report.metric!.map((m) => m.name)).toEqual(['weighted F1 (threshold 0.5)', 'ROC AUC']);
    expect(report.metric![0]!.value).toBeCloseTo(weightedF1(y, p.map((x) => (x >= 0.5 ? 1 : 0))), 12);
    expect(report.metric![1]!.value).toBeCloseTo(rocAuc(y, p), 12);
    expect(report.metric![0]!.cases).toBe(scored.length);
  }, 300_000); // 12-22 cases of a few seconds each in Docker; slower when the machine is shared
});

if (skipReason !== null) {
  describe('CPU image for chimera-task2', () => {
    it('container tier', (c) => c.skip(true, `container tests: ${skipReason}`));
  });
}
