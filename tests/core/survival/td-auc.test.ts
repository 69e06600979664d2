import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { censoringBefore, kaplanMeier, reverseKaplanMeier } from '../../../core/survival/kaplan-meier.js';
import { cumulativeDynamicAuc, integratedAuc } from '../../../core/survival/td-auc.js';
import { SeededRandom } from '../../../core/services/random.js';
import { rAvailable, referenceCohorts } from '../../support/r-reference.js';

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/sksurv_pycox_toy.json', import.meta.url), 'utf8'),
) as {
  data: { time: number[]; event: number[]; risk: number[] };
  cd_auc_sksurv_1d_risk: { times: number[]; auc: number[]; iauc: number };
  sksurv_cdauc_same_grid: { times: number[]; auc: number[]; iauc: number };
};

const hasR = rAvailable('riskRegression', 60_000);

interface Ref {
  time: number[];
  event: number[];
  risk: number[];
  risk_tied?: number[];
  times: number[];
  surv: number[][];
  td_auc: number[];
  td_auc_risk: number[];
  iauc?: number;
  iauc_risk?: number;
}
const refs = referenceCohorts<Ref>();

describe.each(refs)('R reference cohort $name', ({ ref }) => {
  it.skipIf(!ref)('cumulativeDynamicAuc = riskRegression::Score AUC to 1e-6 (1 - S and the raw risk score)', () => {
    const r = ref!;
    const F = r.surv.map((row) => row.map((s) => 1 - s));
    const auc = cumulativeDynamicAuc(r.time, r.event, F, r.times);
    auc.forEach((a, k) => expect(Math.abs(a - r.td_auc[k]!), `td_auc[${k}]`).toBeLessThan(1e-6));
    const aucRisk = cumulativeDynamicAuc(r.time, r.event, r.risk, r.times);
    aucRisk.forEach((a, k) => expect(Math.abs(a - r.td_auc_risk[k]!), `td_auc_risk[${k}]`).toBeLessThan(1e-6));
  });
  it.skipIf(!ref || ref.iauc === undefined)('integratedAuc = scikit-survival mean AUC (KM-weighted) to 1e-6', () => {
    const r = ref!;
    const iauc = integratedAuc(r.td_auc, r.times, kaplanMeier(r.time, r.event));
    expect(Math.abs(iauc - r.iauc!)).toBeLessThan(1e-6);
    if (r.iauc_risk !== undefined) {
      const iaucRisk = integratedAuc(cumulativeDynamicAuc(r.time, r.event, r.risk, r.times), r.times, kaplanMeier(r.time, r.event));
      expect(Math.abs(iaucRisk - r.iauc_risk)).toBeLessThan(1e-6);
    }
  });
});

describe('cumulativeDynamicAuc', () => {
  const { time, event, risk } = golden.data;

  it('matches riskRegression::Score on the toy cohort (printed by Rscript)', () => {
    // P[i][k] = min(1, risk_i (1 + t_k / 20)); Score(list(m = P), Hist(time, status) ~ 1, times = c(3, 5, 9, 12),
    // metrics = "auc", cens.model = "km")$AUC$score$AUC
    const times = [3, 5, 9, 12];
    const P = risk.map((r) => times.map((t) => Math.min(1, r * (1 + t / 20))));
    const auc = cumulativeDynamicAuc(time, event, P, times);
    [0.944444444444444, 1, 1, 0.787878787878788].forEach((e, k) => expect(Math.abs(auc[k]! - e)).toBeLessThan(1e-12));
    // a vector is used at every time (Score with a numeric vector gives the same here)
    expect(cumulativeDynamicAuc(time, event, risk, times)).toEqual(auc);
    // a function of the time index
    expect(cumulativeDynamicAuc(time, event, (k) => P.map((row) => row[k]!), times)).toEqual(auc);
  });

  it('equals the weighted pair count: cases 1 / G(T_i-), controls equal, tied scores 1/2 (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: 1, max: 10 }), e: fc.boolean(), r: fc.integer({ min: 0, max: 4 }) }), {
          minLength: 4,
          maxLength: 50,
        }),
        fc.integer({ min: 1, max: 9 }),
        (rows, t) => {
          const T = rows.map((x) => x.t);
          const E = rows.map((x) => (x.e ? 1 : 0));
          const R = rows.map((x) => x.r);
          const tmax = Math.max(...T);
          const hasCase = rows.some((x) => x.e && x.t <= t);
          if (t < Math.min(...T) || t >= tmax || !hasCase) return;
          const g = reverseKaplanMeier(T, E);
          let num = 0;
          let wCases = 0;
          let nControls = 0;
          rows.forEach((x, i) => {
            if (T[i]! > t) nControls++;
            if (!(x.e && x.t <= t)) return;
            const w = 1 / censoringBefore(g, x.t);
            wCases += w;
            rows.forEach((y, j) => {
              if (T[j]! > t) num += w * (R[i]! > R[j]! ? 1 : R[i] === R[j] ? 0.5 : 0);
            });
          });
          const [auc] = cumulativeDynamicAuc(T, E, R, [t]);
          expect(Math.abs(auc! - num / (wCases * nControls))).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('teaches on bad input', () => {
    expect(() => cumulativeDynamicAuc(time, event, risk, [25])).toThrow(/times\[0\] = 25 is outside the follow-up range \[2, 20\)/);
    expect(() => cumulativeDynamicAuc(time, event, risk, [20])).toThrow(/outside the follow-up range/);
    expect(() => cumulativeDynamicAuc(time, event, risk, [9, 5])).toThrow(/strictly increasing/);
    expect(() => cumulativeDynamicAuc(time, event, risk.slice(1), [5])).toThrow(/one entry per case \(12\), found 11/);
    expect(() => cumulativeDynamicAuc(time, event, risk.map(() => [0.5]), [5, 9])).toThrow(/score\[0\] must hold 2 values/);
    expect(() => cumulativeDynamicAuc([1, 2, 3, 4], [0, 1, 1, 0], [1, 2, 3, 4], [1])).toThrow(/no case at times\[0\] = 1/);
  });
});

describe('integratedAuc (scikit-survival mean AUC)', () => {
  it('reproduces the golden cd_auc_sksurv_1d_risk mean from its AUCs: 0.92645', () => {
    const { times, auc, iauc } = golden.cd_auc_sksurv_1d_risk;
    const km = kaplanMeier(golden.data.time, golden.data.event);
    expect(integratedAuc(auc, times, km)).toBeCloseTo(iauc, 12);
    expect(integratedAuc(golden.sksurv_cdauc_same_grid.auc, golden.sksurv_cdauc_same_grid.times, km)).toBeCloseTo(1, 14);
    expect(integratedAuc([0.7], [5], km)).toBe(0.7);
    expect(() => integratedAuc([0.7, 0.8], [5], km)).toThrow(/same length/);
  });
});

describe.skipIf(!hasR)('cumulativeDynamicAuc against riskRegression::Score on random tied cohorts (needs Rscript)', () => {
  it('AUC to 1e-9 with tied times and tied predictions', () => {
    const rng = new SeededRandom(99).fork('score-auc');
    const n = 150;
    const time = Array.from({ length: n }, () => 1 + rng.int(30));
    const event = Array.from({ length: n }, () => (rng.uniform() < 0.6 ? 1 : 0));
    const times = [5, 10, 15, 22];
    // predictions rounded to 0.05: many exact ties
    const F = Array.from({ length: n }, () => {
      const base = rng.uniform();
      return times.map((t) => Math.round(Math.min(1, base * (0.5 + t / 30)) * 20) / 20);
    });
    const riskTied = Array.from({ length: n }, () => rng.int(5));
    const dir = mkdtempSync(join(tmpdir(), 'mmsurv-auc-'));
    try {
      const json = join(dir, 'c.json');
      writeFileSync(json, JSON.stringify({ time, event, times, F, riskTied }));
      const script = [
        'suppressMessages({library(survival); library(riskRegression); library(prodlim); library(jsonlite)})',
        `c <- fromJSON(${JSON.stringify(json)})`,
        'd <- data.frame(time = c$time, status = c$event)',
        'a <- Score(list(m = c$F), Hist(time, status) ~ 1, data = d, times = c$times, metrics = "auc", cens.model = "km", null.model = FALSE, se.fit = FALSE)$AUC$score$AUC',
        'b <- Score(list(m = c$riskTied), Hist(time, status) ~ 1, data = d, times = c$times, metrics = "auc", cens.model = "km", null.model = FALSE, se.fit = FALSE)$AUC$score$AUC',
        'cat(format(c(a, b), digits = 17))',
      ].join('; ');
      const out = execFileSync('Rscript', ['-e', script], { encoding: 'utf8', timeout: 120_000 });
      const r = out.trim().split(/\s+/).map(Number);
      const mine = [...cumulativeDynamicAuc(time, event, F, times), ...cumulativeDynamicAuc(time, event, riskTied, times)];
      expect(r).toHaveLength(8);
      mine.forEach((a, k) => expect(Math.abs(a - r[k]!), `auc ${k}`).toBeLessThan(1e-9));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
