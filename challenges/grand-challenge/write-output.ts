/**
 * Writing one output socket: `<outputDir>/<relative_path>`, atomically (a temp file in the same folder, then
 * rename), so a job killed mid-write never leaves a half-written value for the scorer.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function writeOutputJson(outputDir: string, relativePath: string, value: unknown): Promise<string> {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`${relativePath}: refusing to write a non-finite number (${value}); the scorer cannot read it`);
  }
  const path = join(outputDir, relativePath);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, JSON.stringify(value) + '\n');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`${path}: cannot write the output (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return path;
}
