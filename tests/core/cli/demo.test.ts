import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mmsurv } from '../../support/cli.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmsurv-demo-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('mmsurv demo (npm start)', () => {
  it('synthesises a cohort, cross-validates the chimera-bilinear preset, and reuses the finished run when run again', async () => {
    const outputs: string[] = [];
    for (let run = 0; run < 2; run++) {
      const r = await mmsurv(['demo', '--out', dir, '--cases', '40', '--seed', '3', '--epochs', '1', '--workers', '1']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/oracle C-index\s+0\.\d{4}/);
      expect(r.stdout).toContain('experiment.json: valid, inherits');
      expect(r.stdout).toMatch(/fusion\s+chimera.lowrank-bilinear/);
      expect(r.stdout).toMatch(/C-index 0\.\d{4} \+- 0\.\d{4}/);
      expect(r.stderr).toMatch(/backend: wasm|backend: cpu|backend: tfjs-node/);
      outputs.push(r.stdout.slice(r.stdout.indexOf('fold  n_val')));
    }
    expect(outputs[1]!.replace(/\(\d+ s on/, '')).toBe(outputs[0]!.replace(/\(\d+ s on/, '')); // resumed: same numbers
    const runDir = join(dir, 'run-n40-s3-e1');
    for (const f of ['experiment.json', 'mmsurv.schema.json', 'cohort/cohort.json', 'cohort/truth.csv', 'run-n40-s3-e1/summary.json', 'run-n40-s3-e1/oof.csv', 'run-n40-s3-e1/fold-5/model/weights.bin']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const resolved = JSON.parse(await readFile(join(runDir, 'config.resolved.json'), 'utf8'));
    expect(resolved.train).toMatchObject({ folds: 5, seed: 3, epochs: 1, batchSize: 2, sampling: 'balanced' });
    expect(resolved.fusion).toMatchObject({ type: 'chimera.lowrank-bilinear', rank: 64 });
    expect(resolved._sources_).toHaveLength(2);
  }, 300_000);
});
