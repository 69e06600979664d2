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
  it('runs every stage on a generated cohort and can be run again in the same folder', async () => {
    for (let run = 0; run < 2; run++) {
      const r = await mmsurv(['demo', '--out', dir, '--cases', '40', '--seed', '3']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/oracle C-index\s+0\.\d{4}/);
      expect(r.stdout).toContain('experiment.json: valid');
      expect(r.stdout).toMatch(/cases\s+40 \(40 with outcome\)/);
      expect(r.stdout).toMatch(/5 folds, validation sizes 8\/8\/8\/8\/8/);
      expect(r.stdout).toMatch(/wsi \[\d+, 32\] \+ rna \[1, 32\] -> fused z \[1, 64\]/);
      expect(r.stdout).toContain('tensors left after the forward pass: 0');
      expect(r.stderr).toMatch(/backend: wasm|backend: cpu|backend: tfjs-node/);
    }
    for (const f of ['experiment.json', 'config.resolved.json', 'mmsurv.schema.json', 'splits.json', 'cohort/cohort.json', 'cohort/truth.csv']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const config = JSON.parse(await readFile(join(dir, 'experiment.json'), 'utf8'));
    expect(config.data.root).toBe('cohort');
    const resolved = JSON.parse(await readFile(join(dir, 'config.resolved.json'), 'utf8'));
    expect(resolved.train).toMatchObject({ folds: 5, seed: 3, epochs: 20 }); // defaults filled in
    expect(resolved.fusion).toEqual({ type: 'concat', pool: 'mean' });
    expect(resolved._sources_).toEqual([join(dir, 'experiment.json')]);
  });
});
