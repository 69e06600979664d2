/**
 * Progress as a user sees it from the built CLI (stderr is not a TTY here): `--json` turns every progress line into a
 * JSON object (core/contracts/progress.ts) without changing what commands print on stdout, `--quiet` silences
 * progress, plain lines end with the elapsed time, and fold worker threads (`train --workers 2`) follow the parent's
 * mode.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../core/contracts/progress.js';
import { mmsurv } from '../../support/cli.js';
import { smallCohortArgs, writeSmallRunSetup } from '../../support/small-run.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-progress-cli-'));
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** Every stderr line that starts with '{', parsed; each must be a progress event with the documented fields. */
function progressEvents(stderr: string): ProgressEvent[] {
  const events = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ProgressEvent);
  for (const e of events) {
    expect(e.type, JSON.stringify(e)).toBe('progress');
    expect(typeof e.task === 'string' && typeof e.label === 'string' && ['start', 'tick', 'done'].includes(e.event), JSON.stringify(e)).toBe(true);
    expect(Number.isFinite(e.count) && (e.total === null || Number.isFinite(e.total)), JSON.stringify(e)).toBe(true);
    expect(Number.isFinite(e.rate) && Number.isFinite(e.elapsed_s) && (e.eta_s === null || Number.isFinite(e.eta_s)), JSON.stringify(e)).toBe(true);
  }
  return events;
}

/** Each task: exactly one start (first) and one done (last), counts never going back. */
function expectWellFormedTasks(events: ProgressEvent[]): Map<string, ProgressEvent[]> {
  const tasks = new Map<string, ProgressEvent[]>();
  for (const e of events) tasks.set(e.task, [...(tasks.get(e.task) ?? []), e]);
  for (const [id, list] of tasks) {
    expect(list.map((e) => e.event).filter((k) => k !== 'tick'), id).toEqual(['start', 'done']);
    expect(list[0]!.event, id).toBe('start');
    expect(list.at(-1)!.event, id).toBe('done');
    const counts = list.map((e) => e.count);
    expect(counts, id).toEqual([...counts].sort((a, b) => a - b));
  }
  return tasks;
}

const SYNTH = smallCohortArgs(1);

beforeAll(() => writeSmallRunSetup(dir, 1, ['--quiet']), 60_000);

describe('--json and --quiet progress', () => {
  it('synth --json: JSON progress lines on stderr, the summary as JSON on stdout', async () => {
    const r = await mmsurv(['synth', '--out', join(dir, 'json-cohort'), ...SYNTH, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cases).toBe(36);
    const events = progressEvents(r.stderr);
    expect(r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{'))).toEqual([]);
    const tasks = expectWellFormedTasks(events);
    const synth = [...tasks.values()].find((t) => t[0]!.label === 'synthesizing 36 cases')!;
    expect(synth.at(-1)).toMatchObject({ event: 'done', count: 36, total: 36, eta_s: 0 });
  }, 60_000);

  it('synth without --json on a pipe: one plain final line with the elapsed time; --quiet (also with --json): nothing', async () => {
    const plain = await mmsurv(['synth', '--out', join(dir, 'plain'), '--cases', '20', '--seed', '1']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^synthesizing 20 cases: 20\/20 \(100%\) in \d+s$/m);
    expect(plain.stderr).not.toMatch(/\r|\x1b|^\{/m);
    for (const flags of [['--quiet'], ['--quiet', '--json']]) {
      const quiet = await mmsurv(['synth', '--out', join(dir, `quiet${flags.length}`), '--cases', '20', '--seed', '1', ...flags]);
      expect(quiet.exitCode, quiet.stderr).toBe(0);
      expect(quiet.stderr, flags.join(' ')).toBe('');
    }
  }, 60_000);

  it('train --workers 2 --json: the workers write JSON lines too, with task ids of their own', async () => {
    const r = await mmsurv(['train', '--config', join(dir, 'exp.json'), '--out', join(dir, 'run'), '--workers', '2', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/C-index 0\.\d{4} \+- 0\.\d{4}/); // the text result on stdout, unchanged (train has no JSON result)
    expect(r.stderr).not.toMatch(/^fold \d\/3 epoch/m);       // no plain progress line from a worker
    const tasks = expectWellFormedTasks(progressEvents(r.stderr));
    const epochs = [...tasks.entries()].filter(([, t]) => /^fold \d\/3 epoch \d\/2$/.test(t[0]!.label));
    expect(epochs).toHaveLength(6);
    expect(new Set(epochs.map(([id]) => id.split('.')[0]))).toEqual(new Set(['w1', 'w2']));
    for (const [, t] of epochs) expect(t.at(-1)!.status).toMatch(/^loss \d+\.\d{4} val C (\d\.\d{3}|-)$/);
    const folds = [...tasks.values()].find((t) => t[0]!.label === 'training 3 folds')!;
    expect(folds.at(-1)).toMatchObject({ event: 'done', count: 3, total: 3 });
    expect(folds.filter((e) => e.event === 'tick').map((e) => e.status)).toEqual(folds.filter((e) => e.event === 'tick').map(() => expect.stringMatching(/^fold \d C \d\.\d{3} \(\d+s\)$|^mean C/)));
    expect(folds.at(-1)!.status).toMatch(/^mean C 0\.\d{3} over 3 folds$/);
  }, 240_000);

  it('train --workers 2 --quiet: no progress and no info line from the parent or the workers', async () => {
    const r = await mmsurv(['train', '--config', join(dir, 'exp.json'), '--out', join(dir, 'quiet-run'), '--workers', '2', '--quiet']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/C-index 0\.\d{4} \+- 0\.\d{4}/);
    expect(r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('warning: '))).toEqual([]);
  }, 240_000);

  it('predict --json and metrics --json still print one JSON document on stdout, progress on stderr', async () => {
    const p = await mmsurv(['predict', '--run', join(dir, 'run'), '--case', join(dir, 'cohort'), '--json']);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions).toHaveLength(36);
    const loading = [...expectWellFormedTasks(progressEvents(p.stderr)).values()].find((t) => t[0]!.label === 'loading patch features');
    expect(loading?.at(-1)).toMatchObject({ event: 'done', count: 36, total: 36 });
    const m = await mmsurv(['metrics', '--csv', join(dir, 'run', 'oof.csv'), '--json']);
    expect(m.exitCode, m.stderr).toBe(0);
    const metrics = JSON.parse(m.stdout) as { n: number; harrell_c: number };
    expect(metrics.n).toBe(36);
    expect(metrics.harrell_c).toBeGreaterThan(0);
  }, 120_000);
});
