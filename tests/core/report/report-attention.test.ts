/**
 * `mmsurv train` writes the report at the end of a run; for SurvPGC its attention figure has one map per attention
 * path (clinical->pathology, genomic->pathology, as the paper's Figure 4), each with one weight per patch of the
 * case at its slide coordinates. `mmsurv report` on a folder that is not a finished run fails clearly and leaves
 * an earlier report as it was.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCoreComponents } from '../../../core/data/register.js';
import { createRootContainer } from '../../../core/di/container.js';
import { caseAttention } from '../../../core/report/attention-map.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { readSurvivalOof } from '../../../core/train/evaluate-run.js';
import { mmsurv } from '../../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-report-att-'));
const runDir = join(dir, 'run');

beforeAll(async () => {
  const s = await mmsurv(['synth', '--out', join(dir, 'cohort'), '--cases', '24', '--seed', '2', '--layout', 'manifest', '--feature-dim', '8', '--genes', '20', '--max-patches', '30', '--min-patches', '12']);
  expect(s.exitCode, s.stderr).toBe(0);
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    _base_: 'plugins/survpgc/preset.json',
    data: { format: 'manifest', root: 'cohort' },
    knowledge: { prompts: { preset: 'chimera-task3' } },
    encoders: { wsi: { outDim: 16 }, rna: { dims: [16, 16] }, clinical: { outDim: 16 } },
    fusion: { dim: 16 },
    head: { hidden: 8 },
    train: { folds: 2, epochs: 1, minEpochs: 1, maxPatches: 64, seed: 3 },
  }));
  const t = await mmsurv(['train', '--config', join(dir, 'exp.json'), '--out', runDir, '--quiet']);
  expect(t.exitCode, t.stderr).toBe(0);
  expect(t.stdout).toContain('report.html');
}, 300_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('report attention of a SurvPGC run', () => {
  it('has one map per attention path, one non-negative weight per patch, at the patch coordinates', () => {
    const data = JSON.parse(readFileSync(join(runDir, 'report', 'report-data.json'), 'utf8'));
    const att = data.attention;
    const names = att.maps.map((m: { name: string }) => m.name);
    expect(names).toEqual(expect.arrayContaining(['fusion.clinical->pathology', 'fusion.genomic->pathology']));
    expect(att.patches.length).toBeGreaterThanOrEqual(12);
    for (const m of att.maps as { name: string; weights: number[] }[]) {
      expect(m.weights).toHaveLength(att.patches.length);
      expect(Math.min(...m.weights), m.name).toBeGreaterThanOrEqual(0);
    }
    // the case is a validation case of fold 1: the report names it and its out-of-fold risk
    const oof = readFileSync(join(runDir, 'oof.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const row = oof.find((r) => r[0] === att.caseId)!;
    expect(row[1]).toBe('1');
    expect(Number(row[4])).toBeCloseTo(att.risk, 10);
    // the CSV has the coordinates and one column per map
    const csv = readFileSync(join(runDir, 'report', 'attention.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(['x', 'y', ...names].join(','));
    expect(csv).toHaveLength(att.patches.length + 1);
    expect(csv[1]!.split(',').slice(0, 2).map(Number)).toEqual([att.patches[0].x, att.patches[0].y]);
    const svg = readFileSync(join(runDir, 'report', 'attention.svg'), 'utf8');
    for (const n of names) expect(svg).toContain(n.replace('>', '&gt;'));
  });

  it('computing the attention in process leaves no tensor behind (model loaded, case explained, model freed)', async () => {
    await tf.setBackend('cpu');
    const registries = await loadRegistries({ builtins: registerCoreComponents });
    const container = createRootContainer({ logger: new MemoryLogger(), progress: new StreamProgress({ quiet: true }), registries });
    const oof = await readSurvivalOof(join(runDir, 'oof.csv'), JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).eval_times);
    const first = await caseAttention({ registries, container }, runDir, oof);
    const before = tf.memory().numTensors;
    const again = await caseAttention({ registries, container }, runDir, oof);
    expect(tf.memory().numTensors).toBe(before);
    expect('maps' in again && 'maps' in first && again.caseId === first.caseId).toBe(true);
  });

  it('mmsurv report on an unfinished run fails saying what is missing, and keeps the earlier report', async () => {
    const before = readFileSync(join(runDir, 'report.html'), 'utf8');
    const summary = readFileSync(join(runDir, 'summary.json'), 'utf8');
    writeFileSync(join(runDir, 'summary.json'), '{ not json');
    try {
      const r = await mmsurv(['report', '--run', runDir, '--no-attention']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/summary\.json: cannot read the run summary/);
      expect(readFileSync(join(runDir, 'report.html'), 'utf8')).toBe(before);
    } finally {
      writeFileSync(join(runDir, 'summary.json'), summary);
    }
    const again = await mmsurv(['report', '--run', runDir, '--no-attention']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^report: .*report\.html/);
    expect(readFileSync(join(runDir, 'report.html'), 'utf8')).not.toContain('data-plot="attention"');
  });
});
