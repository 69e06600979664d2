/**
 * `mmsurv train`, `evaluate` and `predict` as a user runs them (the built CLI): folds in 2 worker threads give the
 * same out-of-fold predictions as folds in the main thread, evaluate reprints the summary from oof.csv, predict
 * reads new cases in the run's data format, and a second train into the same run directory is refused.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mmsurv } from '../../support/cli.js';
import { writeSmallRunSetup } from '../../support/small-run.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-train-cli-'));

beforeAll(() => writeSmallRunSetup(dir, 4), 60_000);

describe('mmsurv train / evaluate / predict', () => {
  it('gives the same predictions with --workers 2 as in one thread', async () => {
    const one = await mmsurv(['train', '--config', join(dir, 'exp.json'), '--out', join(dir, 'one')]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/C-index 0\.\d{4} \+- 0\.\d{4}/);
    const two = await mmsurv(['train', '--config', join(dir, 'exp.json'), '--out', join(dir, 'two'), '--workers', '2']);
    expect(two.exitCode, two.stderr).toBe(0);
    expect(two.stderr).toContain('training 3 folds in 2 worker threads');
    expect(readFileSync(join(dir, 'two', 'oof.csv'), 'utf8')).toBe(readFileSync(join(dir, 'one', 'oof.csv'), 'utf8'));
  }, 240_000);

  it('evaluate reprints the same fold table from oof.csv', async () => {
    const ev = await mmsurv(['evaluate', '--run', join(dir, 'one'), '--json']);
    expect(ev.exitCode, ev.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, 'one', 'summary.json'), 'utf8'));
    expect(JSON.parse(ev.stdout).c_index_mean).toBeCloseTo(saved.c_index_mean, 12);
  }, 60_000);

  it('predict gives risk, calibrated time, S(t) and attention per case', async () => {
    const p = await mmsurv(['predict', '--run', join(dir, 'one'), '--case', join(dir, 'cohort'), '--json']);
    expect(p.exitCode, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout);
    expect(out.predictions).toHaveLength(36);
    const first = out.predictions[0];
    expect(Number.isFinite(first.risk) && first.time > 0).toBe(true);
    expect(first.survival).toHaveLength(out.eval_times.length);
    expect(first.perFold).toHaveLength(3);
    expect(first.attention.find((a: { name: string }) => a.name === 'encoders.wsi.attention').tokens).toBeGreaterThanOrEqual(10);
    // higher risk, earlier calibrated time, within each fold model
    const byRisk = out.predictions.map((q: { perFold: { risk: number; time: number }[] }) => q.perFold[0]!).sort((a: { risk: number }, b: { risk: number }) => a.risk - b.risk);
    for (let i = 1; i < byRisk.length; i++) if (byRisk[i].risk > byRisk[i - 1].risk) expect(byRisk[i].time).toBeLessThan(byRisk[i - 1].time);
  }, 60_000);

  it('refuses to train into an existing run without --resume, leaving it as it was', async () => {
    const before = readFileSync(join(dir, 'one', 'summary.json'), 'utf8');
    const again = await mmsurv(['train', '--config', join(dir, 'exp.json'), '--out', join(dir, 'one')]);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toMatch(/already holds a run .*--resume/);
    expect(readFileSync(join(dir, 'one', 'summary.json'), 'utf8')).toBe(before);
  }, 60_000);
});
