/**
 * `mmsurv metrics` on prediction tables it has never seen: each is written here from an R reference file
 * (tests/reference/*.json, made by R survival and riskRegression), with the rows shuffled, the columns renamed and
 * reordered, and extra columns added. The printed numbers must be R's to 1e-6.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmsurv, projectRoot } from '../../support/cli.js';

interface Ref {
  n: number;
  time: number[];
  event: number[];
  risk: number[];
  risk_tied: number[];
  times: number[];
  tau: number;
  surv: number[][];
  harrell_c: number;
  harrell_c_tied: number;
  uno_c: number;
  td_auc: number[];
  td_auc_risk: number[];
  iauc: number;
  iauc_risk: number;
  brier: number[];
  ibs: number;
  km_at_times: { surv: number[] };
  km_median: number | null;
  logrank2: { chisq: number; p: number };
}

const ref = (name: string): Ref => JSON.parse(readFileSync(join(projectRoot, 'tests', 'reference', `${name}.json`), 'utf8')) as Ref;
const dir = mkdtempSync(join(tmpdir(), 'mmsurv-metrics-'));

/** A seeded Fisher-Yates permutation (mulberry32), so a failure reproduces. */
function permutation(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Columns in an odd order, with an id, a text column with a quoted comma and a constant column that must be ignored. */
function writeTable(name: string, r: Ref, opts: { risk: number[]; surv: boolean; seed: number }): string {
  const all = ['patient', 'note', `S_${r.times[1]}`, 'os_months', 'risk score', ...r.times.filter((_, k) => k !== 1).map((t) => `S_${t}`), 'dead', 'site'];
  const head = opts.surv ? all : all.filter((h) => !h.startsWith('S_'));
  const lines = [head.map((h) => (h.includes(' ') ? `"${h}"` : h)).join(',')];
  for (const i of permutation(r.n, opts.seed)) {
    const cell: Record<string, string> = {
      patient: `P-${i}`,
      note: '"stage II, grade 3"',
      os_months: String(r.time[i]),
      'risk score': String(opts.risk[i]),
      dead: r.event[i] ? 'true' : 'false',
      site: 'A',
    };
    r.times.forEach((t, k) => (cell[`S_${t}`] = String(r.surv[i]![k])));
    lines.push(head.map((h) => cell[h]!).join(','));
  }
  const file = join(dir, `${name}-${opts.surv ? 'surv' : 'risk'}.csv`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const args = (file: string, r: Ref) => [
  'metrics', '--csv', file, '--time', 'os_months', '--event', 'dead', '--risk', 'risk score',
  '--surv-prefix', 'S_', '--times', r.times.join(','), '--tau', String(r.tau), '--json',
];

function close(actual: unknown, expected: number | null, what: string): void {
  if (expected === null) return void expect(actual, what).toBeNull();
  expect(typeof actual, what).toBe('number');
  expect(Math.abs((actual as number) - expected), `${what}: ${actual} vs R ${expected}`).toBeLessThan(1e-6);
}

describe.each(['lung', 'veteran', 'gbsg', 'myeloma'])('mmsurv metrics on the %s cohort', (name) => {
  const r = ref(name);

  it('with S(t) columns: every field equals R (survival::concordance/survfit/survdiff, riskRegression::Score)', async () => {
    const res = await mmsurv(args(writeTable(name, r, { risk: r.risk, surv: true, seed: 7 }), r));
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['n', 'events', 'harrell_c', 'uno_c', 'td_auc', 'iauc', 'brier', 'ibs', 'km_surv', 'km_median', 'logrank_chisq', 'logrank_p']);
    expect(out.n).toBe(r.n);
    expect(out.events).toBe(r.event.reduce((a, b) => a + b, 0));
    close(out.harrell_c, r.harrell_c, 'harrell_c');
    close(out.uno_c, r.uno_c, 'uno_c');
    r.times.forEach((_, k) => {
      close((out.td_auc as number[])[k], r.td_auc[k]!, `td_auc[${k}]`);
      close((out.brier as number[])[k], r.brier[k]!, `brier[${k}]`);
      close((out.km_surv as number[])[k], r.km_at_times.surv[k]!, `km_surv[${k}]`);
    });
    close(out.iauc, r.iauc, 'iauc');
    close(out.ibs, r.ibs, 'ibs');
    close(out.km_median, r.km_median, 'km_median');
    close(out.logrank_chisq, r.logrank2.chisq, 'logrank_chisq');
    close(out.logrank_p, r.logrank2.p, 'logrank_p');
  });

  it('with tied risks and no S(t) columns: C with ties, AUC scored by the risk, brier null', async () => {
    const res = await mmsurv(args(writeTable(name, r, { risk: r.risk_tied, surv: false, seed: 11 }), r));
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    close(out.harrell_c, r.harrell_c_tied, 'harrell_c (tied risks)');
    expect(out.brier).toBeNull();
    expect(out.ibs).toBeNull();
  });
});

describe('mmsurv metrics: AUC from the risk column equals Score on the risk', () => {
  it('lung, no S(t) columns, untied risk', async () => {
    const r = ref('lung');
    const res = await mmsurv(args(writeTable('lung-riskonly', r, { risk: r.risk, surv: false, seed: 3 }), r));
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { td_auc: number[]; iauc: number };
    r.times.forEach((_, k) => close(out.td_auc[k], r.td_auc_risk[k]!, `td_auc[${k}]`));
    close(out.iauc, r.iauc_risk, 'iauc');
  });
});

describe('mmsurv metrics: readable output and errors that say where', () => {
  const r = ref('veteran');
  const file = writeTable('veteran-table', r, { risk: r.risk, surv: true, seed: 5 });

  it('prints a table with the C-index and one row per time without --json', async () => {
    const res = await mmsurv(args(file, r).filter((a) => a !== '--json'));
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain(`Harrell's C       ${r.harrell_c.toFixed(4)}`);
    for (const t of r.times) expect(res.stdout).toMatch(new RegExp(`^${t}\\s+0\\.\\d{4}\\s+0\\.\\d{4}\\s+0\\.\\d{4}$`, 'm'));
  });

  it('names the missing column and lists the columns there are', async () => {
    const res = await mmsurv(['metrics', '--csv', file, '--time', 'os_days', '--event', 'dead', '--risk', 'risk score']);
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toMatch(/no time column 'os_days'; the columns are: patient, note, .*os_months/);
  });

  it('names the file, line and column of a bad cell', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'time,event,risk\n10,1,0.5\n20,2,0.1\n');
    const res = await mmsurv(['metrics', '--csv', bad]);
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toContain(`${bad}:3: column 'event': expected 0/1 or true/false (1 = event observed), found "2"`);
  });

  it('refuses S(t) columns for only some of the times', async () => {
    const res = await mmsurv(['metrics', '--csv', file, '--time', 'os_months', '--event', 'dead', '--risk', 'risk score', '--surv-prefix', 'S_', '--times', `${r.times.join(',')},9999`]);
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toContain('missing S_9999');
  });

  it('refuses evaluation times outside the follow-up', async () => {
    const max = Math.max(...r.time);
    const res = await mmsurv(['metrics', '--csv', file, '--time', 'os_months', '--event', 'dead', '--risk', 'risk score', '--times', String(max + 1)]);
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toContain(String(max + 1));
  });

  it('warns when the scores look like survival probabilities', async () => {
    const probs = join(dir, 'probs.csv');
    const lines = ['time,event,risk', ...r.time.map((t, i) => `${t},${r.event[i]},${r.surv[i]![1]}`)];
    writeFileSync(probs, lines.join('\n') + '\n');
    const res = await mmsurv(['metrics', '--csv', probs, '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/warning: higher risk must mean earlier event/);
    expect((JSON.parse(res.stdout) as { harrell_c: number }).harrell_c).toBeCloseTo(1 - r.harrell_c, 6);
  });
});
