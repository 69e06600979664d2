/** The plugin registers its four components, and its preset wires them to the two configured LLMs. */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ComponentKind, Registrar } from '../../../core/contracts/component.js';
import { loadConfigObject } from '../../../core/config/load.js';
import { validateConfig } from '../../../core/config/validate.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { loadRegistries } from '../../../core/registry/loader.js';
import { register } from '../../../plugins/llm-distill/index.js';

const root = resolve(import.meta.dirname, '..', '..', '..');

describe('plugins/llm-distill', () => {
  it('registers the teacher and verbalised sources, the gated fusion and the student head', () => {
    const seen: [ComponentKind, string][] = [];
    const r = Object.fromEntries((['encoder', 'fusion', 'head', 'knowledge', 'challenge', 'dataset'] as const)
      .map((k) => [k, (spec: { id: string }) => seen.push([k, spec.id])])) as unknown as Registrar;
    register(r);
    expect(seen).toEqual([
      ['knowledge', 'llm-distill.teacher'], ['knowledge', 'llm-distill.verbalised'],
      ['fusion', 'llm-distill.gated'], ['head', 'llm-distill.student'],
    ]);
  });

  it('preset.json validates with data added and names only configured LLMs', async () => {
    const registries = await loadRegistries({ builtins: registerCoreComponents });
    const file = 'plugins/llm-distill/preset.json';
    const { config } = await loadConfigObject({ _base_: join(root, file), data: { format: 'manifest', root: 'cohort' } }, root);
    const result = validateConfig(config, registries, { file, require: ['data', 'encoders', 'fusion', 'head'] });
    expect(result.errors).toEqual([]);
    const c = result.resolved as Record<string, any>;
    expect(Object.keys(c['llm']).sort()).toEqual(['student', 'teacher']);
    expect(c['knowledge']['teacher']).toMatchObject({ type: 'llm-distill.teacher', llm: 'teacher' });
    expect(c['knowledge']['verbalised']).toMatchObject({ type: 'llm-distill.verbalised', llm: 'student' });
    expect(c['encoders']['report']).toMatchObject({ type: 'text-embedding', texts: ['report'], roles: [], embedder: { type: 'llm', llm: 'student' } });
    expect(c['fusion']).toMatchObject({ type: 'llm-distill.gated', mode: 'gated' });
    expect(c['head']).toMatchObject({ type: 'llm-distill.student', combine: 0.8, distillWeight: 0.5 });
    expect(c['train'].folds).toBe(5);
    expect(String(c['description']).length).toBeGreaterThan(80);
  });
});
