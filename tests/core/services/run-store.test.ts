import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryRunStore, writeFileAtomic } from '../../../core/services/run-store.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'mmsurv-store-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('RunStore', () => {
  it('writes JSON atomically and reads it back, leaving no temp files', async () => {
    const store = new DirectoryRunStore(dir);
    await store.writeJson('folds/0/metrics.json', { c: 0.7 });
    expect(await store.readJson('folds/0/metrics.json')).toEqual({ c: 0.7 });
    expect(await readdir(join(dir, 'folds/0'))).toEqual(['metrics.json']);
    expect(await store.exists('folds/0/metrics.json')).toBe(true);
    expect(await store.exists('nope.json')).toBe(false);
  });

  it('a failed write keeps the previous version and leaves no temp file', async () => {
    // The rename cannot replace a non-empty directory: the write fails after the temp file was written.
    const blocked = join(dir, 'result');
    await mkdir(blocked);
    await writeFile(join(blocked, 'previous.json'), '{"v":1}');
    await expect(writeFileAtomic(blocked, 'new')).rejects.toThrow();
    expect(await readFile(join(blocked, 'previous.json'), 'utf8')).toBe('{"v":1}');
    expect(await readdir(dir)).toEqual(['result']);
  });

  it('refuses paths that escape the run directory and explains bad JSON', async () => {
    const store = new DirectoryRunStore(dir);
    expect(() => store.path('../elsewhere.json')).toThrow(/escapes the run directory/);
    await writeFile(join(dir, 'bad.json'), '{ nope');
    await expect(store.readJson('bad.json')).rejects.toThrow(/bad\.json: expected JSON/);
  });
});
