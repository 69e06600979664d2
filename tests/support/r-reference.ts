/**
 * The R reference values of tests/reference (written by tests/reference/R/make-reference.R) as the survival tests
 * read them, and whether Rscript with the given packages is installed (tests that call R skip without it).
 * MMSURV_REFERENCE_DIR points the tests at another copy, e.g. a fresh `Rscript tests/reference/R/make-reference.R DIR`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const REF_DIR: URL = process.env.MMSURV_REFERENCE_DIR
  ? pathToFileURL(`${process.env.MMSURV_REFERENCE_DIR.replace(/\/$/, '')}/`)
  : new URL('../reference/', import.meta.url);

export const REFERENCE_COHORTS = ['lung', 'veteran', 'gbsg', 'myeloma', 'toy'];

/** One cohort's reference file, or null when it is absent. */
export function loadReference<T>(name: string): T | null {
  const url = new URL(`${name}.json`, REF_DIR);
  return existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as T) : null;
}

/** Every reference cohort, for `describe.each`. */
export function referenceCohorts<T>(): { name: string; ref: T | null }[] {
  return REFERENCE_COHORTS.map((name) => ({ name, ref: loadReference<T>(name) }));
}

/** True when Rscript runs and loads `pkg`. */
export function rAvailable(pkg: 'survival' | 'riskRegression', timeout = 60_000): boolean {
  try {
    execFileSync('Rscript', ['-e', `suppressMessages(library(${pkg}))`], { stdio: 'ignore', timeout });
    return true;
  } catch {
    return false;
  }
}
