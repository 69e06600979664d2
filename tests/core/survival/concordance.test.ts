import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { harrellC } from '../../../core/survival/concordance.js';
import { SeededRandom } from '../../../core/services/random.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as { data: { time: number[]; event: number[]; risk: number[] }; harrell_sksurv: number[] };

function rAvailable(): boolean {
  try {
    execFileSync('Rscript', ['-e', 'suppressMessages(library(survival))'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
const hasR = rAvailable();

describe('harrellC', () => {
  it('matches scikit-survival concordance_index_censored on the golden toy cohort (= R survival)', () => {
    const { time, event, risk } = golden.data;
    const [c, conc, disc, tied] = golden.harrell_sksurv as [number, number, number, number];
    const res = harrellC(time, event, risk);
    expect(res.cIndex).toBeCloseTo(c, 12);
    expect(res.concordant).toBe(conc);
    expect(res.discordant).toBe(disc);
    expect(res.tiedRisk).toBe(tied);
    expect(res.comparable).toBe(conc + disc + tied);
    expect(res.cIndex).toBeCloseTo(0.8255814, 7);
  });

  it('accepts boolean and 0/1 events alike', () => {
    const { time, event, risk } = golden.data;
    expect(harrellC(time, event.map((e) => e === 1), risk)).toEqual(harrellC(time, event, risk));
  });

  it('handles the tie conventions: censored tied with an event is comparable; two tied events are not', () => {
    // event at 5 vs censored at 5: comparable; event at 5 vs event at 5: not comparable
    expect(harrellC([5, 5], [1, 0], [2, 1])).toMatchObject({ concordant: 1, comparable: 1, cIndex: 1 });
    expect(harrellC([5, 5], [0, 1], [2, 1])).toMatchObject({ discordant: 1, comparable: 1, cIndex: 0 });
    expect(() => harrellC([5, 5], [1, 1], [2, 1])).toThrow(/no comparable pairs/);
    expect(harrellC([1, 2, 3], [1, 1, 0], [1, 1, 1])).toMatchObject({ tiedRisk: 3, cIndex: 0.5 });
  });

  it('is 1 for risk perfectly ordered against time and 0 for reversed', () => {
    const time = [1, 2, 3, 4, 5];
    const event = [1, 1, 1, 1, 0];
    expect(harrellC(time, event, [5, 4, 3, 2, 1]).cIndex).toBe(1);
    expect(harrellC(time, event, [1, 2, 3, 4, 5]).cIndex).toBe(0);
  });

  it('applies a tie tolerance when asked (scikit-survival default 1e-8)', () => {
    expect(harrellC([1, 2], [1, 0], [1 + 1e-10, 1]).tiedRisk).toBe(0);
    expect(harrellC([1, 2], [1, 0], [1 + 1e-10, 1], { tiedTol: 1e-8 }).tiedRisk).toBe(1);
  });

  it('rejects bad input with an error that names the index', () => {
    expect(() => harrellC([1, NaN, 3], [1, 1, 0], [1, 2, 3])).toThrow(/time\[1\].*NaN/);
    expect(() => harrellC([1, 2, 3], [1, 1, 0], [1, Infinity, 3])).toThrow(/risk\[1\].*Infinity/);
    expect(() => harrellC([1, 2, 3], [1, 2, 0], [1, 2, 3])).toThrow(/event\[1\]/);
    expect(() => harrellC([1, 2], [1, 0, 1], [1, 2])).toThrow(/same length/);
    expect(() => harrellC([1, 2, 3], [0, 0, 0], [1, 2, 3])).toThrow(/no comparable pairs/);
  });

  it.skipIf(!hasR)('equals R survival::concordance(reverse = TRUE) on a random cohort with ties (needs Rscript + survival)', () => {
    const rng = new SeededRandom(20250917).fork('concordance-r');
    const n = 300;
    const time: number[] = [];
    const event: number[] = [];
    const risk: number[] = [];
    for (let i = 0; i < n; i++) {
      time.push(1 + rng.int(40)); // many tied times
      event.push(rng.uniform() < 0.55 ? 1 : 0);
      risk.push(rng.int(25) / 4); // many tied risks
    }
    const dir = mkdtempSync(join(tmpdir(), 'mmsurv-cindex-'));
    try {
      const csv = join(dir, 'cohort.csv');
      const rows = time.map((t, i) => `${t},${event[i]},${risk[i]}`);
      writeFileSync(csv, ['time,event,risk', ...rows].join('\n') + '\n');
      const script =
        `suppressMessages(library(survival)); d <- read.csv(${JSON.stringify(csv)}); ` +
        `cat(format(concordance(Surv(time, event) ~ risk, data = d, reverse = TRUE)$concordance, digits = 17))`;
      const out = execFileSync('Rscript', ['-e', script], { encoding: 'utf8', timeout: 60_000 });
      const rC = Number(out.trim());
      expect(Number.isFinite(rC)).toBe(true);
      expect(Math.abs(harrellC(time, event, risk).cIndex - rC)).toBeLessThan(1e-9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
