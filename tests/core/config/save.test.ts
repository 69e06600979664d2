import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readResolvedConfig, RESOLVED_CONFIG_FILE, saveResolvedConfig } from '../../../core/config/save.js';
import { DirectoryRunStore } from '../../../core/services/run-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsurv-save-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveResolvedConfig', () => {
  it('writes config.resolved.json with the config and a _sources_ array', async () => {
    const store = new DirectoryRunStore(join(dir, 'runs', 'demo'));
    const resolved = { name: 'demo', head: { type: 'cox' }, train: { folds: 5 } };
    const path = await saveResolvedConfig(store, resolved, ['/a/base.json', '/a/exp.json']);
    expect(path).toBe(join(dir, 'runs', 'demo', RESOLVED_CONFIG_FILE));
    const saved = JSON.parse(await readFile(path, 'utf8'));
    expect(saved).toEqual({ ...resolved, _sources_: ['/a/base.json', '/a/exp.json'] });
    expect(resolved).not.toHaveProperty('_sources_');
    expect(await readdir(join(dir, 'runs', 'demo'))).toEqual([RESOLVED_CONFIG_FILE]); // no temp file left
  });

  it('replaces the _sources_ of a config that was itself a resolved config, and reads it back', async () => {
    const store = new DirectoryRunStore(dir);
    await saveResolvedConfig(store, { name: 'x', _sources_: ['old.json'] }, ['new.json']);
    await saveResolvedConfig(store, { name: 'y' }, ['newer.json']);
    expect(await readResolvedConfig(store)).toEqual({ config: { name: 'y' }, sources: ['newer.json'] });
  });
});
