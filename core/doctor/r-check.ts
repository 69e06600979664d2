/**
 * R with survival and riskRegression: the reference implementations the survival-metric tests compare against
 * (tests/reference). Without them those tests skip; mmsurv itself does not need R.
 */
import { execa } from 'execa';
import type { DoctorCheck } from './check.js';

export interface RFacts {
  /** Rscript could be started. */
  found: boolean;
  /** Both libraries loaded. */
  ok: boolean;
  timedOut: boolean;
  versions?: { r: string; survival: string; riskRegression: string };
  /** What went wrong: the spawn error, or the last lines R printed. */
  error?: string;
}

const SCRIPT =
  'suppressPackageStartupMessages({library(survival); library(riskRegression)}); ' +
  "cat(paste0(R.version$major, '.', R.version$minor), as.character(packageVersion('survival')), " +
  "as.character(packageVersion('riskRegression')), sep = '\\n')";

const INSTALL = 'apt-get install -y r-base-core r-cran-survival r-cran-riskregression';

/** Run Rscript (killed after `timeoutMs`). Never throws. */
export async function probeR(opts: { timeoutMs?: number } = {}): Promise<RFacts> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const r = await execa('Rscript', ['--vanilla', '-e', SCRIPT], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  const started = r.exitCode !== undefined || r.signal !== undefined || r.timedOut;
  if (!started) return { found: false, ok: false, timedOut: false, error: (r.originalMessage ?? r.message ?? '').split('\n')[0] };
  if (r.timedOut) return { found: true, ok: false, timedOut: true, error: `Rscript did not finish in ${timeoutMs / 1000} s` };
  if (r.failed) {
    const lines = String(r.stderr).split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return { found: true, ok: false, timedOut: false, error: lines.slice(-3).join(' ') || `exit code ${r.exitCode}` };
  }
  const [rv, survival, riskRegression] = String(r.stdout).trim().split('\n').map((s) => s.trim());
  return { found: true, ok: true, timedOut: false, versions: { r: rv ?? '?', survival: survival ?? '?', riskRegression: riskRegression ?? '?' } };
}

export function rCheck(f: RFacts): DoctorCheck {
  const data = { found: f.found, ok: f.ok, timedOut: f.timedOut, versions: f.versions ?? null };
  if (f.ok && f.versions) {
    return {
      id: 'r', status: 'pass', data, detail: [], fix: null,
      summary: `R ${f.versions.r}, survival ${f.versions.survival}, riskRegression ${f.versions.riskRegression} (the reference tests run)`,
    };
  }
  const why = !f.found
    ? 'Rscript is not on PATH'
    : f.timedOut
      ? 'Rscript did not finish loading survival and riskRegression'
      : 'R is present but library(survival); library(riskRegression) fails';
  return {
    id: 'r', status: 'warn', data, detail: f.error ? [f.error] : [],
    summary: `${why}: the R reference tests (tests/reference) will be skipped`,
    fix: f.found && !f.timedOut
      ? `${INSTALL} (or in R: install.packages(c('survival', 'riskRegression')))`
      : f.timedOut ? `time it by hand: Rscript -e 'library(survival); library(riskRegression)'` : INSTALL,
  };
}
