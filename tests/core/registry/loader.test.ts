import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerCoreComponents } from '../../../core/data/register.js';
import { loadRegistries } from '../../../core/registry/loader.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmsurv-loader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pluginSource = (ids: string[]) => `
export function register(r) {
  for (const id of ${JSON.stringify(ids)}) {
    r.encoder({ id, description: 'test encoder ' + id, optionsSchema: { type: 'object' }, create: () => ({}) });
  }
}
`;

async function writeRegistry(plugins: { name: string; module: string }[], challenges: { name: string; module: string }[] = []) {
  const file = join(dir, 'registry.json');
  await writeFile(file, JSON.stringify({ plugins, challenges }));
  return file;
}

describe('loadRegistries', () => {
  it("loads mmsurv's own registry.json with the core dataset readers", async () => {
    const reg = await loadRegistries({ builtins: registerCoreComponents });
    expect(reg.encoder.ids()).toContain('linear');
    expect(reg.fusion.ids()).toContain('concat');
    expect(reg.dataset.ids()).toEqual(expect.arrayContaining(['manifest', 'chimera-task3']));
    expect(reg.dataset.get('manifest').plugin).toBe('core');
    expect(reg.encoder.get('linear').plugin).toBe('common');
    expect(reg.encoder.get('linear').module).toMatch(/plugins\/common\/index\.(ts|js)$/);
  });

  it('imports each listed module and calls register()', async () => {
    await writeFile(join(dir, 'a.mjs'), pluginSource(['alpha', 'beta']));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'b.mjs'), pluginSource(['gamma']));
    const file = await writeRegistry([{ name: 'a', module: 'a.mjs' }], [{ name: 'b', module: 'sub/b.mjs' }]);
    const reg = await loadRegistries({ registryFile: file });
    expect(reg.encoder.ids()).toEqual(['alpha', 'beta', 'gamma']);
    expect(reg.encoder.get('gamma').plugin).toBe('b');
  });

  it('a duplicate id across modules names both modules', async () => {
    await writeFile(join(dir, 'a.mjs'), pluginSource(['abmil']));
    await writeFile(join(dir, 'b.mjs'), pluginSource(['abmil']));
    const file = await writeRegistry([{ name: 'a', module: 'a.mjs' }, { name: 'b', module: 'b.mjs' }]);
    await expect(loadRegistries({ registryFile: file })).rejects.toThrow(/duplicate encoder id 'abmil': registered by .*a\.mjs and again by .*b\.mjs/);
  });

  it('extra registry files of a team add components (and may not shadow built-ins)', async () => {
    await writeFile(join(dir, 'mine.mjs'), pluginSource(['team.encoder']));
    const extra = join(dir, 'team-registry.json');
    await writeFile(extra, JSON.stringify({ plugins: [{ name: 'team', module: 'mine.mjs' }] }));
    const reg = await loadRegistries({ builtins: registerCoreComponents, extraRegistryFiles: [extra] });
    expect(reg.encoder.has('team.encoder')).toBe(true);
    expect(reg.encoder.has('linear')).toBe(true);
    await writeFile(join(dir, 'shadow.mjs'), pluginSource(['linear']));
    await writeFile(extra, JSON.stringify({ plugins: [{ name: 'team', module: 'shadow.mjs' }] }));
    await expect(loadRegistries({ builtins: registerCoreComponents, extraRegistryFiles: [extra] })).rejects.toThrow(/duplicate encoder id 'linear'/);
  });

  it('explains a missing module, a module without register(), and a malformed registry.json', async () => {
    let file = await writeRegistry([{ name: 'ghost', module: 'nowhere/index.js' }]);
    await expect(loadRegistries({ registryFile: file })).rejects.toThrow(/plugin 'ghost': module 'nowhere\/index.js' not found/);
    await writeFile(join(dir, 'empty.mjs'), 'export const x = 1;\n');
    file = await writeRegistry([{ name: 'empty', module: 'empty.mjs' }]);
    await expect(loadRegistries({ registryFile: file })).rejects.toThrow(/expected an exported function register\(registrar\), found undefined/);
    await writeFile(join(dir, 'broken.mjs'), 'export function register( {\n');
    file = await writeRegistry([{ name: 'broken', module: 'broken.mjs' }]);
    await expect(loadRegistries({ registryFile: file })).rejects.toThrow(/plugin 'broken' .* failed to import/);
    await writeFile(join(dir, 'registry.json'), JSON.stringify({ plugins: [{ name: 'x' }] }));
    await expect(loadRegistries({ registryFile: join(dir, 'registry.json') })).rejects.toThrow(/\/plugins\/0: expected \{ "name": string, "module": string \}/);
    await writeFile(join(dir, 'registry.json'), JSON.stringify({ plugin: [] }));
    await expect(loadRegistries({ registryFile: join(dir, 'registry.json') })).rejects.toThrow(/\/plugin: unexpected key/);
  });
});
