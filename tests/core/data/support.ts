/** Helpers of the core/data tests: temp folders and Debian's python3 with h5py + numpy as the reference writer. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BuildContext } from '../../../core/contracts/component.js';
import { MemoryLogger } from '../../../core/services/logger.js';

export const projectRoot = resolve(import.meta.dirname, '..', '..', '..');
export const fixtures = join(projectRoot, 'tests', 'fixtures');

/** Debian's python (the pyenv `python3` on PATH has no h5py). */
export const PYTHON = '/usr/bin/python3';

function probePython(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${PYTHON} cannot import h5py and numpy (${(r.stderr || '').trim().split('\n').pop()})`;
}

/** Why the python reference tests are skipped, or null when they run. */
export const pythonMissing = probePython();
if (pythonMissing) console.warn(`[core/data tests] skipping h5py/numpy cross-checks: ${pythonMissing}`);

/** Run a python script (stdin) with arguments; returns stdout; throws with stderr on failure. */
export function runPython(script: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ['-', ...args], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh temp folder; remove it with the returned cleanup. */
export async function tempDir(prefix = 'mmsurv-data-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A BuildContext good enough for dataset readers (they use no services). */
export function testContext(path = 'data'): BuildContext {
  return { container: {} as never, logger: new MemoryLogger(), random: {} as never, path };
}

/** The error thrown by `fn` (fails the test when nothing is thrown). */
export async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, but none was thrown');
}
