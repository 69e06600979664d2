/** Run the built CLI (dist/, made by `npm test`'s pretest build) as a user would. */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '..', '..');
export const cliPath = resolve(projectRoot, 'dist', 'core', 'cli', 'bin.js');

export function assertBuilt(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` (npm test does it first)`);
}

/** `env` adds to this process's environment; a key set to undefined is removed from the child's. */
export async function mmsurv(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  assertBuilt();
  return execa('node', [cliPath, ...args], { cwd: opts.cwd ?? projectRoot, reject: false, env: { NO_COLOR: '1', ...opts.env } });
}

/** Run the CLI and return its stdout; a non-zero exit throws with the command line, stderr and stdout. */
export async function mmsurvOk(args: string[]): Promise<string> {
  const r = await mmsurv(args);
  if (r.exitCode !== 0) throw new Error(`mmsurv ${args.join(' ')} failed (${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
