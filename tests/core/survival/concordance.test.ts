import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { harrellC, orientationWarning, unoC } from '../../../core/survival/concordance.js';
import { NoComparablePairsError } from '../../../core/survival/guards.js';
import { SeededRandom } from '../../../core/services/random.js';
import { rAvailable, referenceCohorts, REF_DIR } from '../../support/r-reference.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as { data: { time: number[]; event: number[]; risk: number[] }; harrell_sksurv: number[]; uno_sksurv_tau12: number };

const hasR = rAvailable('survival', 30_000);

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

// ---------------------------------------------------------------------------------------------------------------
// R reference cohorts (tests/reference/*.json, written from R survival 3.5-3 by tests/reference's generator)

interface ConcordanceRef {
  time: number[];
  event: number[];
  risk: number[];
  risk_tied: number[];
  tau: number;
  harrell_c: number;
  harrell_c_tied: number;
  uno_c: number;
  uno_c_tied: number;
  /** R's counts after reverse = TRUE (concordant = higher risk, earlier event); tied_x = tied risk. */
  harrell_counts?: RCounts;
  harrell_counts_tied?: RCounts;
  uno_counts?: RCounts;
  uno_counts_tied?: RCounts;
}
interface RCounts {
  concordant: number;
  discordant: number;
  tied_x: number;
}
function expectCounts(res: { concordant: number; discordant: number; tiedRisk: number }, r: RCounts | undefined): void {
  if (!r) return;
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
  expect(rel(res.concordant, r.concordant)).toBeLessThan(1e-9);
  expect(rel(res.discordant, r.discordant)).toBeLessThan(1e-9);
  expect(rel(res.tiedRisk, r.tied_x)).toBeLessThan(1e-9);
}
const refs = referenceCohorts<ConcordanceRef>();

describe.each(refs)('R reference cohort $name', ({ ref }) => {
  it.skipIf(!ref)('harrellC = concordance(reverse = TRUE) to 1e-6, raw and tied risks', () => {
    const r = ref!;
    const h = harrellC(r.time, r.event, r.risk);
    const ht = harrellC(r.time, r.event, r.risk_tied);
    expect(Math.abs(h.cIndex - r.harrell_c)).toBeLessThan(1e-6);
    expect(Math.abs(ht.cIndex - r.harrell_c_tied)).toBeLessThan(1e-6);
    expectCounts(h, r.harrell_counts);
    expectCounts(ht, r.harrell_counts_tied);
  });
  it.skipIf(!ref)('unoC = concordance(timewt = "n/G2", ymax = tau) to 1e-6, raw and tied risks', () => {
    const r = ref!;
    const u = unoC(r.time, r.event, r.risk, { tau: r.tau });
    const ut = unoC(r.time, r.event, r.risk_tied, { tau: r.tau });
    expect(Math.abs(u.cIndex - r.uno_c)).toBeLessThan(1e-6);
    expect(Math.abs(ut.cIndex - r.uno_c_tied)).toBeLessThan(1e-6);
    // R's weighted counts are the same sums of 1 / G(t-)^2
    expectCounts(u, r.uno_counts);
    expectCounts(ut, r.uno_counts_tied);
  });
});

it.skipIf(!existsSync(REF_DIR))('tests/reference holds all five cohorts', () => {
  expect(refs.filter((r) => !r.ref).map((r) => r.name)).toEqual([]);
});

// ---------------------------------------------------------------------------------------------------------------
// brute-force O(n^2) definitions, written independently of the implementation

/** G(t-) of the censoring distribution as R's concordance computes it (deaths leave before censorings). */
function bruteGBefore(time: number[], event: number[], t: number): number {
  const cTimes = [...new Set(time.filter((_, i) => event[i] === 0))].filter((c) => c < t).sort((a, b) => a - b);
  let g = 1;
  for (const c of cTimes) {
    const atRisk = time.filter((x) => x >= c).length;
    const deaths = time.filter((x, i) => x === c && event[i] === 1).length;
    const cens = time.filter((x, i) => x === c && event[i] === 0).length;
    g *= 1 - cens / (atRisk - deaths);
  }
  return g;
}

function bruteC(time: number[], event: number[], risk: number[], weight: (t: number) => number = () => 1, tol = 0) {
  let conc = 0;
  let disc = 0;
  let tied = 0;
  let pairs = 0;
  for (let i = 0; i < time.length; i++) {
    if (event[i] !== 1) continue;
    const w = weight(time[i]!);
    for (let j = 0; j < time.length; j++) {
      if (!(time[i]! < time[j]! || (time[i] === time[j] && event[j] === 0))) continue;
      if (w === 0) continue;
      pairs++;
      const d = risk[i]! - risk[j]!;
      if (Math.abs(d) <= tol) tied += w;
      else if (d > 0) conc += w;
      else disc += w;
    }
  }
  return { conc, disc, tied, pairs, c: (conc + tied / 2) / (conc + disc + tied) };
}

const cohortArb = (maxTime: number, maxRisk: number) =>
  fc.array(
    fc.record({
      t: fc.integer({ min: 1, max: maxTime }),
      e: fc.boolean(),
      r: fc.integer({ min: 0, max: maxRisk }),
    }),
    { minLength: 2, maxLength: 60 },
  ).filter((rows) => rows.some((x, i) => x.e && rows.some((y, j) => j !== i && (y.t > x.t || (y.t === x.t && !y.e)))));

const unpack = (rows: Array<{ t: number; e: boolean; r: number }>) => ({
  time: rows.map((x) => x.t),
  event: rows.map((x) => (x.e ? 1 : 0)),
  risk: rows.map((x) => x.r / 4),
});

describe('harrellC, O(n log n), against a brute-force O(n^2) count (fast-check)', () => {
  it('equals the brute force on random cohorts with tied times and tied risks, count for count', () => {
    fc.assert(
      fc.property(cohortArb(8, 6), (rows) => {
        const { time, event, risk } = unpack(rows);
        const b = bruteC(time, event, risk);
        const h = harrellC(time, event, risk);
        expect(h.concordant).toBe(b.conc);
        expect(h.discordant).toBe(b.disc);
        expect(h.tiedRisk).toBe(b.tied);
        expect(h.comparable).toBe(b.pairs);
        expect(Math.abs(h.cIndex - b.c)).toBeLessThan(1e-12);
      }),
      { numRuns: 300 },
    );
  });

  it('applies tiedTol exactly as the brute force does (|risk_i - risk_j| <= tol is a tie)', () => {
    fc.assert(
      fc.property(cohortArb(6, 12), fc.constantFrom(0.1, 0.25, 0.3, 0.5, 1), (rows, tol) => {
        const { time, event, risk } = unpack(rows);
        const b = bruteC(time, event, risk, () => 1, tol);
        const h = harrellC(time, event, risk, { tiedTol: tol });
        expect([h.concordant, h.discordant, h.tiedRisk]).toEqual([b.conc, b.disc, b.tied]);
      }),
      { numRuns: 200 },
    );
  });

  it('is invariant under strictly increasing transforms of the risk (exp(x), 3x + 1)', () => {
    fc.assert(
      fc.property(cohortArb(10, 40), (rows) => {
        const { time, event, risk } = unpack(rows);
        const c = harrellC(time, event, risk).cIndex;
        expect(harrellC(time, event, risk.map(Math.exp)).cIndex).toBe(c);
        expect(harrellC(time, event, risk.map((x) => 3 * x + 1)).cIndex).toBe(c);
      }),
      { numRuns: 200 },
    );
  });

  it('gives 1 - C for the reversed risk when neither times nor risks are tied', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 3, maxLength: 50 }),
        fc.uniqueArray(fc.integer({ min: -500, max: 500 }), { minLength: 50, maxLength: 50 }),
        fc.array(fc.boolean(), { minLength: 50, maxLength: 50 }),
        (times, risks, events) => {
          const n = times.length;
          const event = events.slice(0, n).map((e) => (e ? 1 : 0));
          event[times.indexOf(Math.min(...times))] = 1; // the earliest case is an event: at least one pair
          const risk = risks.slice(0, n);
          const c = harrellC(times, event, risk).cIndex;
          expect(harrellC(times, event, risk.map((x) => -x)).cIndex).toBeCloseTo(1 - c, 12);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles 20,000 cases fast (the O(n^2) version took ~2 s)', () => {
    const rng = new SeededRandom(11).fork('big');
    const n = 20_000;
    const time = Array.from({ length: n }, () => 1 + rng.int(500));
    const event = Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 1 : 0));
    const risk = Array.from({ length: n }, () => rng.normal());
    const t0 = performance.now();
    const res = harrellC(time, event, risk);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(res.cIndex).toBeGreaterThan(0.45);
    expect(res.cIndex).toBeLessThan(0.55);
  });
});

describe('unoC', () => {
  const { time, event, risk } = golden.data;

  it('matches R concordance(timewt = "n/G2") on the golden toy cohort, with and without ymax', () => {
    // Rscript: concordance(Surv(time, event) ~ risk, reverse = TRUE, timewt = "n/G2", ymax = 12)$concordance
    expect(unoC(time, event, risk, { tau: 12 }).cIndex).toBeCloseTo(0.79666890230270515, 12);
    expect(unoC(time, event, risk).cIndex).toBeCloseTo(0.72517297517297519, 12);
    // scikit-survival's concordance_index_ipcw weights by G(T_i) instead of G(T_i-): a different number
    expect(unoC(time, event, risk, { tau: 12 }).cIndex).not.toBeCloseTo(golden.uno_sksurv_tau12 as number, 3);
  });

  it('equals the brute-force weighted count (weights 1 / G(t-)^2, events after tau dropped)', () => {
    fc.assert(
      fc.property(cohortArb(8, 6), fc.integer({ min: 1, max: 9 }), (rows, tau) => {
        const { time, event, risk } = unpack(rows);
        const b = bruteC(time, event, risk, (t) => (t > tau ? 0 : 1 / bruteGBefore(time, event, t) ** 2));
        if (b.pairs === 0) {
          expect(() => unoC(time, event, risk, { tau })).toThrow(NoComparablePairsError);
          return;
        }
        const u = unoC(time, event, risk, { tau });
        expect(u.pairs).toBe(b.pairs);
        expect(Math.abs(u.concordant - b.conc)).toBeLessThan(1e-9 * Math.max(1, b.conc));
        expect(Math.abs(u.cIndex - b.c)).toBeLessThan(1e-12);
      }),
      { numRuns: 300 },
    );
  });

  it('equals Harrell when nothing is censored (G = 1) and tau covers every event', () => {
    const t = [1, 2, 2, 3, 5, 8];
    const e = [1, 1, 1, 1, 1, 1];
    const r = [3, 1, 2, 2, 0, 1];
    expect(unoC(t, e, r).cIndex).toBeCloseTo(harrellC(t, e, r).cIndex, 14);
  });

  it('rejects tau before every event with a teaching error', () => {
    expect(() => unoC(time, event, risk, { tau: 1 })).toThrow(/no comparable pairs.*tau = 1/);
    expect(() => unoC(time, event, risk, { tau: Number.NaN })).toThrow(/tau must be a number/);
  });
});

describe('guards and orientation', () => {
  it('throws NoComparablePairsError (a class callers can catch) without events', () => {
    expect(() => harrellC([1, 2, 3], [0, 0, 0], [1, 2, 3])).toThrow(NoComparablePairsError);
    expect(() => harrellC([], [], [])).toThrow(/no cases/);
    expect(() => harrellC([1, -2], [1, 0], [1, 2])).toThrow(/time\[1\] must be >= 0/);
    expect(() => harrellC([1, 2], [1, 0], [1, 2], { tiedTol: -1 })).toThrow(/tiedTol/);
  });

  it('warns when scores in [0, 1] rise with follow-up time (survival probabilities passed as risk)', () => {
    const t = [1, 2, 3, 4, 5, 6];
    const e = [1, 1, 1, 0, 1, 0];
    const s = [0.1, 0.2, 0.35, 0.5, 0.7, 0.9]; // S(t | x): higher for later events
    expect(orientationWarning(s, t, e)).toMatch(/higher risk must mean earlier event; these look like survival probabilities: pass 1 - S or -S/);
    expect(orientationWarning(s.map((v) => 1 - v), t, e)).toBeNull();
    expect(orientationWarning(s.map((v) => -v), t, e)).toBeNull(); // outside [0, 1]: a risk, not a probability
    expect(orientationWarning(s.map((v) => 3 * v), t, e)).toBeNull();
    expect(orientationWarning(s, t, [0, 0, 0, 0, 0, 0])).toBeNull(); // undefined C: no warning
  });
});

describe.skipIf(!hasR)('unoC against R on random tied cohorts (needs Rscript + survival)', () => {
  it('equals concordance(timewt = "n/G2", ymax = tau) to 1e-9', () => {
    const rng = new SeededRandom(424242).fork('uno-r');
    const cohorts = Array.from({ length: 6 }, (_, k) => {
      const n = 80 + 40 * k;
      const time = Array.from({ length: n }, () => 1 + rng.int(25));
      const event = Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 1 : 0));
      const risk = Array.from({ length: n }, () => rng.int(12) / 3);
      return { time, event, risk, tau: 8 + 2 * k };
    });
    const dir = mkdtempSync(join(tmpdir(), 'mmsurv-uno-'));
    try {
      const json = join(dir, 'cohorts.json');
      writeFileSync(json, JSON.stringify(cohorts));
      const script =
        `suppressMessages({library(survival); library(jsonlite)}); cs <- fromJSON(${JSON.stringify(json)}, simplifyVector = FALSE); ` +
        `for (c in cs) { y <- Surv(unlist(c$time), unlist(c$event)); x <- unlist(c$risk); ` +
        `cat(format(concordance(y ~ x, reverse = TRUE, timewt = "n/G2", ymax = c$tau)$concordance, digits = 17), "\\n") }`;
      const out = execFileSync('Rscript', ['-e', script], { encoding: 'utf8', timeout: 60_000 });
      const rValues = out.trim().split(/\s+/).map(Number);
      expect(rValues).toHaveLength(cohorts.length);
      cohorts.forEach((c, k) => {
        expect(Math.abs(unoC(c.time, c.event, c.risk, { tau: c.tau }).cIndex - rValues[k]!)).toBeLessThan(1e-9);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
