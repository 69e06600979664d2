/**
 * A run that uses a local LLM, as a graded CPU image with a real Docker engine: `mmsurv package --bundle-llm` puts the
 * run's knowledge cache and its GGUF model into the image, and the image runs llama.cpp (node-llama-cpp's prebuilt
 * CPU binary, the only one kept in the image) offline on each /input case. Every output equals the host `infer` of
 * the same model directory.
 *
 * Needs a Docker engine and the offline base image; without them the tests are skipped with the reason.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mmsurv } from '../support/cli.js';
import { BASE_IMAGE, engineSkipReason, expectSameAsHost, hostRunMatching, type HostRunMatching } from '../support/container-engine.js';
import { buildLlmRunFixture, type LlmRunFixture } from '../support/llm-run.js';

const TAG = `mmsurv-test-llm:${process.pid}`;
const docker = new Docker();
const skipReason = await engineSkipReason(docker);
const INPUTS = 4;

describe.skipIf(skipReason !== null)(`CPU image of an LLM run on ${BASE_IMAGE}`, () => {
  let fx: LlmRunFixture;
  let ctx: string;
  let matching: HostRunMatching; // the host run uses the image's matmul kernel
  const host = new Map<string, number>();

  beforeAll(async () => {
    matching = await hostRunMatching(docker, BASE_IMAGE);
    fx = await buildLlmRunFixture(await mkdtemp(join(tmpdir(), 'mmsurv-container-llm-')), { inputCases: INPUTS });
    ctx = join(fx.root, 'ctx');
    const r = await mmsurv(['package', '--run', fx.runDir, '--challenge', 'chimera-task3', '--target', 'cpu', '--base-image', BASE_IMAGE, '--tag', TAG, '--out', ctx, '--bundle-llm', '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    const llamaBinaries = await readdir(join(ctx, 'app', 'node_modules', '@node-llama-cpp'));
    expect(llamaBinaries).toEqual(['linux-x64']);
    for (const id of (await readdir(fx.inputDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)) {
      const out = await mkdtemp(join(tmpdir(), 'mmsurv-host-'));
      const p = await mmsurv(['infer', '--model', join(ctx, 'model'), '--input', join(fx.inputDir, id), '--output', out, '--json', '--quiet'], { env: matching.env });
      expect(p.exitCode, p.stderr).toBe(0);
      host.set(id, (JSON.parse(p.stdout) as { time: number }).time);
      await rm(out, { recursive: true });
    }
  }, 900_000);

  afterAll(async () => {
    await docker.getImage(TAG).remove({ force: true }).catch(() => undefined);
    if (fx) await rm(fx.root, { recursive: true, force: true });
  });

  it('runs llama.cpp offline in the image; every output equals the host run', async () => {
    const r = await mmsurv(['test-container', '--challenge', 'chimera-task3', '--image', TAG, '--cases', fx.inputDir, '--memory', '4g', '--json']);
    expect(r.exitCode, r.stderr + r.stdout.slice(0, 2000)).toBe(0);
    const report = JSON.parse(r.stdout) as { cases: { id: string; output: number | null; errors: string[] }[]; failed: number };
    expect(report.cases).toHaveLength(INPUTS);
    expect(report.failed).toBe(0);
    for (const c of report.cases) {
      expect(c.errors).toEqual([]);
      expectSameAsHost(c.output!, host.get(c.id)!, matching.exact, c.id);
    }
  }, 300_000);
});

if (skipReason !== null) {
  describe('CPU image of an LLM run', () => {
    it('container tier', (c) => c.skip(true, `container tests: ${skipReason}`));
  });
}
