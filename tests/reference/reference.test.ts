/**
 * The R reference values (tests/reference/*.json, written by tests/reference/R/make-reference.R).
 *
 * Two tiers:
 * - always: the committed JSON files are internally consistent (shapes, 0/1 events, survival curves in [0, 1] and
 *   non-increasing, summary numbers that follow from other fields, the toy cross-checks against the golden file);
 * - where Rscript with survival, riskRegression and jsonlite is installed: the generator is run again into a temp
 *   folder and every number of the fresh files must equal the committed one to 1e-9 (relative above 1), so a committed
 *   file cannot drift from what R computes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const refDir = join(root, 'tests', 'reference');
const script = join(refDir, 'R', 'make-reference.R');
const COHORTS = ['lung', 'veteran', 'gbsg', 'myeloma', 'toy'] as const;

interface Counts {
  concordant: number;
  discordant: number;
  tied_x: number;
  tied_y: number;
  tied_xy: number;
}
interface LogRank {
  cuts: number[];
  group: number[];
  levels: number[];
  chisq: number;
  df: number;
  p: number;
  observed: number[];
  expected: number[];
  var: number[][];
}
interface Reference {
  cohort: string;
  n: number;
  time: number[];
  event: number[];
  covariates: string[];
  risk: number[];
  lp: number[];
  risk_tied: number[];
  times: number[];
  tau: number;
  surv: number[][];
  harrell_c: number;
  harrell_counts: Counts;
  harrell_c_tied: number;
  harrell_counts_tied: Counts;
  uno_c: number;
  uno_c_tied: number;
  km: Record<'time' | 'n_risk' | 'n_event' | 'n_censor' | 'surv' | 'std_err' | 'std_err_surv', number[]> &
    Record<'lower' | 'upper', (number | null)[]>;
  km_at_times: Record<'time' | 'n_risk' | 'surv' | 'std_err' | 'std_err_surv' | 'lower' | 'upper', number[]>;
  km_median: number | null;
  km_median_lower: number | null;
  km_median_upper: number | null;
  logrank2: LogRank;
  logrank3: LogRank;
  td_auc: number[];
  brier: number[];
  td_auc_risk: number[];
  ibs: number;
  iauc: number;
  iauc_risk: number;
  cox_loglik_breslow: number;
  cox_loglik_efron: number;
  cox_subset: { index: number[]; tied_time: number; loglik_breslow: number; loglik_efron: number };
  breslow_cumhaz: { time: number[]; hazard: number[] };
  breslow_cumhaz_centered: { time: number[]; hazard: number[] };
  lp_center: number;
  versions: Record<string, string>;
  golden_check?: Record<string, unknown>;
  km_median_cases?: { time: number[]; event: number[]; median: number | null }[];
}

const load = (dir: string, name: string): Reference =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Reference;
const committed = Object.fromEntries(COHORTS.map((c) => [c, load(refDir, c)])) as Record<string, Reference>;

/** Why the re-run tier is skipped, or null when R with survival, riskRegression and jsonlite is there. */
function probeR(): string | null {
  const r = spawnSync(
    'Rscript',
    ['-e', 'suppressPackageStartupMessages({library(survival); library(riskRegression); library(jsonlite)})'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.error) return `Rscript not runnable (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) return `Rscript lacks survival/riskRegression/jsonlite (${(r.stderr || '').trim().split('\n').pop()})`;
  return null;
}
const rMissing = probeR();
const hasR = rMissing === null;
if (!hasR) console.warn(`[tests/reference] skipping the R re-run tier: ${rMissing}`);

/** Every difference between two JSON values: numbers to `tol` (relative above 1), everything else exactly. */
function diffJson(a: unknown, b: unknown, path: string, tol: number, out: string[]): void {
  if (out.length > 20) return;
  if (typeof a === 'number' && typeof b === 'number') {
    if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)))) out.push(`${path}: fresh ${a} vs committed ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length ${a.length} vs ${b.length}`);
    else a.forEach((v, i) => diffJson(v, b[i], `${path}[${i}]`, tol, out));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join(',') !== kb.join(',')) out.push(`${path}: keys [${ka}] vs [${kb}]`);
    for (const k of ka) if (k in b) diffJson((a as never)[k], (b as never)[k], `${path}.${k}`, tol, out);
    return;
  }
  if (a !== b) out.push(`${path}: fresh ${JSON.stringify(a)} vs committed ${JSON.stringify(b)}`);
}

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
const trapezoidIbs = (t: number[], b: number[]) => {
  let s = 0;
  for (let k = 1; k < t.length; k++) s += ((t[k]! - t[k - 1]!) * (b[k]! + b[k - 1]!)) / 2;
  return s / (t[t.length - 1]! - t[0]!);
};
const sksurvIauc = (auc: number[], s: number[]) => {
  if (auc.length === 1) return auc[0]!;
  let num = 0;
  let prev = 1;
  auc.forEach((a, k) => {
    num += a * (prev - s[k]!);
    prev = s[k]!;
  });
  return num / (1 - s[s.length - 1]!);
};

describe.each(COHORTS)('committed tests/reference/%s.json is consistent', (name) => {
  const r = committed[name]!;

  it('has n-long arrays, 0/1 events, times >= 0 and a grid of increasing times inside the follow-up', () => {
    expect(r.cohort).toBe(name);
    for (const key of ['time', 'event', 'risk', 'lp', 'risk_tied', 'surv'] as const) expect(r[key]).toHaveLength(r.n);
    expect(r.event.every((e) => e === 0 || e === 1)).toBe(true);
    expect(r.event.some((e) => e === 1)).toBe(true);
    expect(r.time.every((t) => Number.isFinite(t) && t >= 0)).toBe(true);
    expect([...r.risk, ...r.lp, ...r.risk_tied].every(Number.isFinite)).toBe(true);
    expect(r.times.length).toBeGreaterThanOrEqual(3);
    const tmin = Math.min(...r.time);
    const tmax = Math.max(...r.time);
    r.times.forEach((t, k) => {
      expect(t).toBeGreaterThanOrEqual(tmin);
      expect(t).toBeLessThan(tmax);
      if (k > 0) expect(t).toBeGreaterThan(r.times[k - 1]!);
    });
    expect(r.tau).toBeGreaterThan(tmin);
    expect(r.tau).toBeLessThanOrEqual(tmax);
    // risk_tied = round(risk, 1): a multiple of 0.1 within 0.05 of risk
    r.risk_tied.forEach((v, i) => {
      expect(Math.abs(v - r.risk[i]!)).toBeLessThanOrEqual(0.05 + 1e-12);
      expect(Math.abs(v * 10 - Math.round(v * 10))).toBeLessThan(1e-9);
    });
  });

  it('surv[i] is in [0, 1], non-increasing along times, and equals exp(-H0(t) exp(lp)) from breslow_cumhaz_centered', () => {
    const { time: bt, hazard } = r.breslow_cumhaz_centered;
    expect(hazard).toHaveLength(bt.length);
    hazard.forEach((h, k) => k > 0 && expect(h).toBeGreaterThanOrEqual(hazard[k - 1]!));
    r.breslow_cumhaz.hazard.forEach((h, k) => expect(close(h, hazard[k]! * Math.exp(-r.lp_center), 1e-10)).toBe(true));
    const H = r.times.map((t) => {
      let k = -1;
      while (k + 1 < bt.length && bt[k + 1]! <= t) k++;
      return k < 0 ? 0 : hazard[k]!;
    });
    r.surv.forEach((row, i) => {
      expect(row).toHaveLength(r.times.length);
      row.forEach((s, k) => {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        if (k > 0) expect(s).toBeLessThanOrEqual(row[k - 1]!);
        expect(close(s, Math.exp(-H[k]! * Math.exp(r.lp[i]!)), 1e-10)).toBe(true);
      });
    });
  });

  it('concordance values follow from their counts', () => {
    for (const [c, n] of [
      [r.harrell_c, r.harrell_counts],
      [r.harrell_c_tied, r.harrell_counts_tied],
    ] as const) {
      expect(close(c, (n.concordant + n.tied_x / 2) / (n.concordant + n.discordant + n.tied_x))).toBe(true);
    }
    for (const c of [r.harrell_c, r.harrell_c_tied, r.uno_c, r.uno_c_tied]) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThan(1);
    }
  });

  it('Kaplan-Meier steps: equal lengths, S = prod(1 - d/n), non-increasing, lower <= S <= upper', () => {
    const km = r.km;
    const m = km.time.length;
    for (const key of ['n_risk', 'n_event', 'n_censor', 'surv', 'std_err', 'std_err_surv', 'lower', 'upper'] as const) {
      expect(km[key]).toHaveLength(m);
    }
    expect(km.n_event.reduce((a, b) => a + b, 0)).toBe(r.event.reduce((a, b) => a + b, 0));
    expect(km.n_event.reduce((a, b) => a + b, 0) + km.n_censor.reduce((a, b) => a + b, 0)).toBe(r.n);
    let s = 1;
    km.time.forEach((t, k) => {
      s *= 1 - km.n_event[k]! / km.n_risk[k]!;
      expect(close(km.surv[k]!, s)).toBe(true);
      if (k > 0) expect(t).toBeGreaterThan(km.time[k - 1]!);
      const lo = km.lower[k];
      const up = km.upper[k];
      if (lo !== null && up !== null) {
        expect(lo).toBeLessThanOrEqual(km.surv[k]! + 1e-15);
        expect(up).toBeGreaterThanOrEqual(km.surv[k]! - 1e-15);
        expect(up).toBeLessThanOrEqual(1);
      }
    });
    expect(r.km_at_times.time).toEqual(r.times);
    for (const v of [r.km_median, r.km_median_lower, r.km_median_upper]) {
      expect(v === null || (typeof v === 'number' && Number.isFinite(v))).toBe(true);
    }
  });

  it('log-rank: groups by the documented cut rule, observed sum to the events, expected sum to observed', () => {
    for (const lr of [r.logrank2, r.logrank3]) {
      expect(lr.group).toHaveLength(r.n);
      lr.group.forEach((g, i) => expect(g).toBe(lr.cuts.filter((c) => c < r.risk[i]!).length));
      const events = r.event.reduce((a, b) => a + b, 0);
      expect(lr.observed.reduce((a, b) => a + b, 0)).toBe(events);
      expect(close(lr.expected.reduce((a, b) => a + b, 0), events, 1e-10)).toBe(true);
      expect(lr.df).toBe(lr.levels.length - 1);
      expect(lr.p).toBeGreaterThanOrEqual(0);
      expect(lr.p).toBeLessThanOrEqual(1);
    }
    expect(r.logrank2.cuts).toHaveLength(1);
    expect(r.logrank3.cuts).toHaveLength(2);
  });

  it('td_auc, brier per time; ibs and iauc follow from them by the documented formulas', () => {
    for (const v of [r.td_auc, r.brier, r.td_auc_risk]) {
      expect(v).toHaveLength(r.times.length);
      v.forEach((x) => {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      });
    }
    expect(close(r.ibs, trapezoidIbs(r.times, r.brier))).toBe(true);
    expect(close(r.iauc, sksurvIauc(r.td_auc, r.km_at_times.surv))).toBe(true);
    expect(close(r.iauc_risk, sksurvIauc(r.td_auc_risk, r.km_at_times.surv))).toBe(true);
  });

  it('Cox partial log-likelihoods are negative, Efron >= Breslow; the subset has 10 distinct cases with tied times', () => {
    expect(r.cox_loglik_breslow).toBeLessThan(0);
    expect(r.cox_loglik_efron).toBeGreaterThanOrEqual(r.cox_loglik_breslow);
    const idx = r.cox_subset.index;
    expect(idx).toHaveLength(10);
    expect(new Set(idx).size).toBe(10);
    idx.forEach((i) => expect(Number.isInteger(i) && i >= 0 && i < r.n).toBe(true));
    const tiedEvents = idx.filter((i) => r.time[i] === r.cox_subset.tied_time && r.event[i] === 1);
    expect(tiedEvents.length).toBeGreaterThanOrEqual(2);
    expect(r.cox_subset.loglik_efron).toBeGreaterThanOrEqual(r.cox_subset.loglik_breslow);
  });
});

describe('committed tests/reference/toy.json against the golden file', () => {
  const golden = JSON.parse(readFileSync(join(root, 'tests', 'fixtures', 'golden', 'sksurv_pycox_toy.json'), 'utf8')) as {
    data: { time: number[]; event: number[]; risk: number[] };
    harrell_sksurv: number[];
    km: { times: number[]; surv: number[] };
    cd_auc_sksurv_1d_risk: { times: number[]; auc: number[]; iauc: number };
    uno_sksurv_tau12: number;
    logrank_sksurv: { chisq: number; p: number };
  };
  const toy = committed.toy!;
  const gc = toy.golden_check as Record<string, number & number[] & { chisq: number; p: number }>;

  it('holds the golden data and R agrees with scikit-survival on Harrell C, Kaplan-Meier and the log-rank', () => {
    expect(toy.time).toEqual(golden.data.time);
    expect(toy.event).toEqual(golden.data.event);
    expect(toy.risk).toEqual(golden.data.risk);
    expect(close(toy.harrell_c, golden.harrell_sksurv[0]!)).toBe(true);
    expect([toy.harrell_counts.concordant, toy.harrell_counts.discordant, toy.harrell_counts.tied_x]).toEqual(
      golden.harrell_sksurv.slice(1, 4),
    );
    golden.km.times.forEach((t, k) => {
      const j = toy.km.time.indexOf(t);
      expect(close(toy.km.surv[j]!, golden.km.surv[k]!)).toBe(true);
    });
    expect(close(gc.logrank_on_sksurv_group.chisq, golden.logrank_sksurv.chisq, 1e-9)).toBe(true);
  });

  it('the iAUC definition reproduces scikit-survival: its AUCs weighted by Kaplan-Meier drops give its iauc', () => {
    expect(toy.times).toEqual(golden.cd_auc_sksurv_1d_risk.times);
    expect(close(sksurvIauc(golden.cd_auc_sksurv_1d_risk.auc, toy.km_at_times.surv), golden.cd_auc_sksurv_1d_risk.iauc)).toBe(
      true,
    );
    expect(close(gc.iauc_from_sksurv_auc_in_R, golden.cd_auc_sksurv_1d_risk.iauc)).toBe(true);
    // the weighting conventions, recomputed in R: scikit-survival's rules give scikit-survival's numbers
    (gc.cd_auc_sksurv_recomputed_in_R as number[]).forEach((a, k) =>
      expect(close(a, golden.cd_auc_sksurv_1d_risk.auc[k]!)).toBe(true),
    );
    expect(close(gc.uno_sksurv_tau12_recomputed_in_R, golden.uno_sksurv_tau12)).toBe(true);
  });

  it('km_median_cases: survfit medians on flat 0.5 stretches are midpoints', () => {
    const medians = toy.km_median_cases!.map((c) => c.median);
    expect(medians).toEqual([2.5, 4, 1.5, null, 5]);
  });
});

describe(`R re-run (${rMissing ?? 'Rscript with survival, riskRegression and jsonlite available'})`, () => {
  let out: string | undefined;
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it(
    'make-reference.R writes the same numbers as the committed JSON files (to 1e-9)',
    (ctx) => {
      // skipped with its reason (the summary reporter prints it) where R or its packages are missing
      ctx.skip(!hasR, `R re-run tier: ${rMissing}`);
      out = mkdtempSync(join(tmpdir(), 'mmsurv-rref-'));
      const t0 = Date.now();
      execFileSync('Rscript', [script, out], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
      const seconds = (Date.now() - t0) / 1000;
      expect(readdirSync(out).filter((f) => f.endsWith('.json')).sort()).toEqual(COHORTS.map((c) => `${c}.json`).sort());
      const diffs: string[] = [];
      for (const c of COHORTS) {
        const fresh = load(out, c);
        const old = committed[c]!;
        if (JSON.stringify(fresh.versions) !== JSON.stringify(old.versions)) {
          console.warn(`[tests/reference] ${c}: R versions differ: ${JSON.stringify(fresh.versions)} vs committed ${JSON.stringify(old.versions)}`);
        }
        const { versions: _v1, ...a } = fresh;
        const { versions: _v2, ...b } = old;
        diffJson(a, b, c, 1e-9, diffs);
      }
      expect(diffs, `fresh R output differs from the committed files (re-run Rscript ${script}):\n${diffs.join('\n')}`).toEqual([]);
      expect(seconds).toBeLessThan(300);
    },
    360_000,
  );
});
