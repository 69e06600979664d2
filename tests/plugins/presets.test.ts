/**
 * Every preset shipped under plugins/ validates against the composed schema once `data` is added, names only
 * registered components, and says what it is.
 */
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigObject } from '../../core/config/load.js';
import { validateConfig } from '../../core/config/validate.js';
import { registerCoreComponents } from '../../core/data/register.js';
import { loadRegistries } from '../../core/registry/loader.js';

const root = resolve(import.meta.dirname, '..', '..');
const registries = await loadRegistries({ builtins: registerCoreComponents });
const presets = readdirSync(join(root, 'plugins')).flatMap((p) => [
  ...(existsSync(join(root, 'plugins', p, 'preset.json')) ? [`plugins/${p}/preset.json`] : []),
  ...(existsSync(join(root, 'plugins', p, 'presets')) ? readdirSync(join(root, 'plugins', p, 'presets')).map((f) => `plugins/${p}/presets/${f}`) : []),
]);

describe('presets', () => {
  it('finds the seven presets', () => {
    expect(presets.sort()).toEqual([
      'plugins/chimera-bilinear/preset.json', 'plugins/common/presets/abmil-brs.json', 'plugins/common/presets/abmil.json', 'plugins/common/presets/survpath.json',
      'plugins/kemm/preset.json', 'plugins/llm-distill/preset.json', 'plugins/survpgc/preset.json',
    ]);
  });
  it.each(presets)('%s validates with data added', async (file) => {
    const { config } = await loadConfigObject({ _base_: join(root, file), data: { format: 'manifest', root: 'cohort' } }, root);
    const result = validateConfig(config, registries, { file, require: ['data', 'encoders', 'fusion', 'head'] });
    expect(result.errors).toEqual([]);
    expect(String(result.resolved['description']).length).toBeGreaterThan(80);
    expect((result.resolved['train'] as { folds: number }).folds).toBe(5);
  });
});
