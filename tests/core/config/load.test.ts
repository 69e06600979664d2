import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigLoadError, loadConfig, loadConfigObject } from '../../../core/config/load.js';
import { packageRoot } from '../../../core/paths.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsurv-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(rel: string, value: unknown): Promise<string> {
  const p = join(dir, rel);
  await mkdir(resolve(p, '..'), { recursive: true });
  await writeFile(p, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return p;
}

async function loadError(file: string): Promise<ConfigLoadError> {
  const err = await loadConfig(file).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigLoadError);
  return err as ConfigLoadError;
}

describe('loadConfig', () => {
  it('loads a plain file', async () => {
    const f = await write('a.json', { name: 'a', train: { epochs: 3 } });
    expect(await loadConfig(f)).toEqual({ config: { name: 'a', train: { epochs: 3 } }, sources: [f] });
  });

  it('resolves a base chain 3 deep, depth-first, later keys winning', async () => {
    const root = await write('presets/root.json', { name: 'root', train: { epochs: 10, lr: 1, seed: 1 }, head: { type: 'cox' } });
    const mid = await write('presets/mid.json', { _base_: './root.json', name: 'mid', train: { epochs: 20, lr: 2 } });
    const leaf = await write('exp/leaf.json', { _base_: '../presets/mid.json', train: { epochs: 30 } });
    const { config, sources } = await loadConfig(leaf);
    expect(config).toEqual({ name: 'mid', train: { epochs: 30, lr: 2, seed: 1 }, head: { type: 'cox' } });
    expect(sources).toEqual([root, mid, leaf]);
    expect(config).not.toHaveProperty('_base_');
  });

  it('merges an array of bases in order, then the file on top', async () => {
    const a = await write('a.json', { fusion: { type: 'concat', dim: 8 }, train: { epochs: 1 } });
    const b = await write('b.json', { fusion: { type: 'kronecker' }, train: { lr: 0.5 } });
    const c = await write('c.json', { _base_: ['a.json', 'b.json'], train: { epochs: 5 } });
    const { config, sources } = await loadConfig(c);
    expect(config).toEqual({ fusion: { type: 'kronecker', dim: 8 }, train: { epochs: 5, lr: 0.5 } });
    expect(sources).toEqual([a, b, c]);
  });

  it('lists a base shared by two bases once (a diamond is not a cycle)', async () => {
    const common = await write('common.json', { x: 1 });
    const a = await write('a.json', { _base_: 'common.json', a: 1 });
    const b = await write('b.json', { _base_: 'common.json', b: 1 });
    const top = await write('top.json', { _base_: ['a.json', 'b.json'] });
    const { config, sources } = await loadConfig(top);
    expect(config).toEqual({ x: 1, a: 1, b: 1 });
    expect(sources).toEqual([common, a, b, top]);
  });

  it('_delete_ in a child replaces what the base had', async () => {
    await write('base.json', { fusion: { type: 'concat', dim: 256, dropout: 0.2 } });
    const f = await write('child.json', { _base_: 'base.json', fusion: { _delete_: true, type: 'kronecker' } });
    expect((await loadConfig(f)).config).toEqual({ fusion: { type: 'kronecker' } });
  });

  it('reports a cycle with the whole chain', async () => {
    await write('a.json', { _base_: 'b.json' });
    await write('b.json', { _base_: 'c.json' });
    await write('c.json', { _base_: 'a.json' });
    const err = await loadError(join(dir, 'a.json'));
    expect(err.message).toMatch(/cycle in _base_: .*a\.json -> .*b\.json -> .*c\.json -> .*a\.json/);
  });

  it('reports a missing base, naming the referring file and both places looked in', async () => {
    const f = await write('sub/exp.json', { _base_: 'presets/nope.json' });
    const err = await loadError(f);
    expect(err.message).toContain('exp.json');
    expect(err.message).toContain("_base_ 'presets/nope.json' not found");
    expect(err.message).toContain(join(dir, 'sub', 'presets', 'nope.json'));
    expect(err.message).toContain(join(packageRoot(), 'presets', 'nope.json'));
  });

  it('suggests a similarly named file when a base is missing', async () => {
    await write('preset.json', {});
    const f = await write('exp.json', { _base_: 'presett.json' });
    expect((await loadError(f)).message).toMatch(/Did you mean '.*preset\.json'\?/);
  });

  it('finds a base under the package root when it is not beside the file', async () => {
    const f = await write('exp.json', { _base_: 'tsconfig.json', name: 'x' });
    const { config, sources } = await loadConfig(f);
    expect(config).toHaveProperty('compilerOptions');
    expect(config.name).toBe('x');
    expect(sources).toEqual([join(packageRoot(), 'tsconfig.json'), f]);
  });

  it('prefers a base beside the file over one under the package root', async () => {
    const local = await write('tsconfig.json', { local: true });
    const f = await write('exp.json', { _base_: 'tsconfig.json' });
    expect(await loadConfig(f)).toEqual({ config: { local: true }, sources: [local, f] });
  });

  it('names file, line and column of a JSON syntax error', async () => {
    const f = await write('bad.json', '{\n  "name": "x",\n  "train": { "epochs" 3 }\n}\n');
    const err = await loadError(f);
    expect(err.message).toMatch(/bad\.json:3:23: invalid JSON/);
    expect(err.message).toContain('"train": { "epochs" 3 }');
    expect(err.file).toBe(f);
  });

  it('explains a trailing comma and a syntax error in a base file', async () => {
    await write('base.json', '{\n  "a": 1,\n}\n');
    const f = await write('exp.json', { _base_: 'base.json' });
    const err = await loadError(f);
    expect(err.message).toMatch(/base\.json:3:1: invalid JSON: .*trailing comma/);
  });

  it('rejects a top level that is not an object, and a malformed _base_', async () => {
    expect((await loadError(await write('arr.json', [1, 2]))).message).toContain('expected a JSON object at the top level, found an array');
    expect((await loadError(await write('num.json', { _base_: 42 }))).message).toContain('/_base_: expected a path or an array of paths, found 42');
  });

  it('reports a missing top-level file', async () => {
    expect((await loadError(join(dir, 'missing.json'))).message).toMatch(/missing\.json: cannot read the config: no such file/);
  });
});

describe('loadConfigObject', () => {
  it('resolves _base_ of an object against baseDir and lists only base files', async () => {
    const base = await write('base.json', { train: { epochs: 4, lr: 1 } });
    const { config, sources } = await loadConfigObject({ _base_: 'base.json', train: { lr: 2 } }, dir);
    expect(config).toEqual({ train: { epochs: 4, lr: 2 } });
    expect(sources).toEqual([base]);
  });

  it('passes an object without bases through, stripped of _delete_', async () => {
    expect(await loadConfigObject({ a: { _delete_: true, b: 1 } })).toEqual({ config: { a: { b: 1 } }, sources: [] });
  });
});
