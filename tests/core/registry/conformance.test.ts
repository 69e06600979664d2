/**
 * Every registered component, whatever plugin it comes from, keeps the registry's promises: a lowercase id, a
 * description, an options schema that compiles under strict JSON Schema 2020-12, rejects unknown keys (so typos are
 * caught) and accepts the empty options object with its defaults. A new plugin is tested by registering it.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { registerCoreComponents } from '../../../core/data/register.js';
import { loadRegistries } from '../../../core/registry/loader.js';

const registries = await loadRegistries({ builtins: registerCoreComponents });
const entries = registries.all();

describe('component conformance', () => {
  it('finds the components of every plugin in registry.json', async () => {
    const { readFile } = await import('node:fs/promises');
    const listed = JSON.parse(await readFile(new URL('../../../registry.json', import.meta.url), 'utf8')) as { plugins: { name: string }[]; challenges: { name: string }[] };
    expect(new Set(entries.map((e) => e.plugin))).toEqual(new Set(['core', ...listed.plugins.map((p) => p.name), ...listed.challenges.map((p) => p.name)]));
  });

  it.each(entries.map((e) => [`${e.kind} ${e.id}`, e] as const))('%s', (_name, e) => {
    expect(e.id).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
    expect(e.description.length).toBeGreaterThan(10);
    expect(e.description).not.toMatch(/\n/);
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, useDefaults: true, allErrors: true });
    ajv.addKeyword('x-mmsurv'); // reserved for our own annotations
    const validate = ajv.compile(e.optionsSchema);
    expect(e.optionsSchema['type']).toBe('object');
    expect(e.optionsSchema['additionalProperties']).toBe(false);
    const options: Record<string, unknown> = {};
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ definitelyNotAnOption: 1 })).toBe(false);
    const props = (e.optionsSchema['properties'] ?? {}) as Record<string, { description?: string }>;
    for (const [key, p] of Object.entries(props)) expect(p.description, `${e.id}.${key} needs a description`).toBeTruthy();
  });
});
