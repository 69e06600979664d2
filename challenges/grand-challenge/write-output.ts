/**
 * Writing one output socket: `<outputDir>/<relative_path>`, atomically (a temp file in the same folder, then
 * rename), so a job killed mid-write never leaves a half-written value for the scorer.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/services/run-store.js';

export async function writeOutputJson(outputDir: string, relativePath: string, value: unknown): Promise<string> {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`${relativePath}: refusing to write a non-finite number (${value}); the scorer cannot read it`);
  }
  const path = join(outputDir, relativePath);
  try {
    await writeFileAtomic(path, JSON.stringify(value) + '\n');
  } catch (err) {
    throw new Error(`${path}: cannot write the output (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return path;
}
