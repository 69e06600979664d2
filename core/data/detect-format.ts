import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Guess a cohort folder's dataset reader id: `cohort.json` -> 'manifest'; a sub-folder `<pid>` holding
 * `<pid>_CD.json` -> 'chimera-task3'. Null when neither fits.
 */
export function detectFormat(root: string): string | null {
  if (!existsSync(root)) throw new Error(`${root}: no such folder (expected a cohort folder)`);
  if (existsSync(join(root, 'cohort.json'))) return 'manifest';
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (statSync(dir).isDirectory() && existsSync(join(dir, `${name}_CD.json`))) return 'chimera-task3';
  }
  return null;
}
