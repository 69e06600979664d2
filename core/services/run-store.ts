import { mkdir, readFile, rename, writeFile, access, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { RunStore } from '../contracts/run-store.js';

let tmpCounter = 0;

/**
 * Write a file atomically: a temp file beside it, then rename. The previous version survives any failure.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A run directory on the local disk. */
export class DirectoryRunStore implements RunStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }
  path(rel: string): string {
    const p = resolve(this.dir, rel);
    const r = relative(this.dir, p);
    if (r.startsWith('..') || isAbsolute(r)) {
      throw new Error(`run store: path '${rel}' escapes the run directory ${this.dir}`);
    }
    return p;
  }
  async writeJson(rel: string, value: unknown): Promise<string> {
    const p = this.path(rel);
    await writeFileAtomic(p, JSON.stringify(value, null, 2) + '\n');
    return p;
  }
  async writeText(rel: string, text: string): Promise<string> {
    const p = this.path(rel);
    await writeFileAtomic(p, text);
    return p;
  }
  async writeBytes(rel: string, bytes: Uint8Array): Promise<string> {
    const p = this.path(rel);
    await writeFileAtomic(p, bytes);
    return p;
  }
  async readJson<T = unknown>(rel: string): Promise<T> {
    const p = this.path(rel);
    const text = await readFile(p, 'utf8');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${p}: expected JSON, found a parse error: ${(err as Error).message}`);
    }
  }
  async exists(rel: string): Promise<boolean> {
    try { await access(this.path(rel)); return true; } catch { return false; }
  }
}
