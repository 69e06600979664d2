/** The Node.js version against package.json `engines.node` (a `>=X.Y[.Z]` range). */
import type { DoctorCheck } from './check.js';

/** [major, minor, patch] of '20.19.0', 'v20.19' or '>=20.19'; null when it is not such a version. */
export function parseVersion(text: string): [number, number, number] | null {
  const m = /^\s*(?:>=\s*)?v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return null;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < 3; k++) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** `version` (process.versions.node) against `range` (engines.node, only `>=X.Y[.Z]` is understood). */
export function nodeCheck(version: string, range: string): DoctorCheck {
  const data = { version, required: range };
  const have = parseVersion(version);
  const min = range.trim().startsWith('>=') ? parseVersion(range) : null;
  if (!have || !min) {
    return {
      id: 'node', status: 'warn', data,
      summary: `Node v${version}; cannot compare it with engines.node ${JSON.stringify(range)}`,
      detail: ['only ranges of the form >=X.Y[.Z] are understood'],
      fix: `check by hand that Node v${version} satisfies ${range}`,
    };
  }
  if (compareVersions(have, min) < 0) {
    return {
      id: 'node', status: 'fail', data,
      summary: `Node v${version} is older than package.json engines.node ${range}`,
      detail: ['yargs 18, the command-line parser of mmsurv, declares node ^20.19.0 || ^22.12.0 || >=23'],
      fix: `install Node ${min.join('.')} or newer (e.g. \`nvm install 20\`, or the NodeSource / official node:20 packages)`,
    };
  }
  return { id: 'node', status: 'pass', data, summary: `Node v${version} (package.json engines.node ${range})`, detail: [], fix: null };
}
