import { describe, expect, it } from 'vitest';
import { DuplicateComponentError, UnknownComponentError } from '../../../core/registry/errors.js';
import { Registries } from '../../../core/registry/registry.js';

const spec = (id: string) => ({
  id,
  description: `component ${id}`,
  optionsSchema: { type: 'object', properties: {}, additionalProperties: false },
  create: () => ({ id }) as never,
});

describe('Registry', () => {
  it('registers per kind and records plugin and module', () => {
    const reg = new Registries();
    reg.registrar('common', 'plugins/common/index.ts').encoder(spec('abmil'));
    reg.registrar('survpgc', 'plugins/survpgc/index.ts').fusion(spec('survpgc.dual-path'));
    expect(reg.encoder.ids()).toEqual(['abmil']);
    expect(reg.fusion.get('survpgc.dual-path').plugin).toBe('survpgc');
    expect(reg.all().map((e) => `${e.kind}:${e.id}`)).toEqual(['encoder:abmil', 'fusion:survpgc.dual-path']);
    // kinds are separate namespaces
    reg.registrar('other', 'x.ts').head(spec('abmil'));
    expect(reg.head.has('abmil')).toBe(true);
  });

  it('rejects a duplicate id naming both modules', () => {
    const reg = new Registries();
    reg.registrar('a', 'plugins/a/index.ts').encoder(spec('snn'));
    let err: unknown;
    try {
      reg.registrar('b', 'plugins/b/index.ts').encoder(spec('snn'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DuplicateComponentError);
    expect((err as Error).message).toContain('plugins/a/index.ts');
    expect((err as Error).message).toContain('plugins/b/index.ts');
    expect((err as Error).message).toContain("'snn'");
  });

  it('unknown id lists valid ids with a did-you-mean', () => {
    const reg = new Registries();
    const r = reg.registrar('common', 'c.ts');
    for (const id of ['abmil', 'transmil', 'snn', 'mlp']) r.encoder(spec(id));
    let err: unknown;
    try {
      reg.encoder.get('abmill', 'encoders.wsi');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownComponentError);
    const msg = (err as Error).message;
    expect(msg).toContain("encoders.wsi: unknown encoder 'abmill'");
    expect(msg).toContain("Did you mean 'abmil'?");
    expect(msg).toContain('abmil, mlp, snn, transmil');
  });

  it('rejects incomplete specs with the module named', () => {
    const reg = new Registries();
    const r = reg.registrar('p', 'plugins/p/index.ts');
    expect(() => r.encoder({ ...spec('x'), description: '' })).toThrow(/plugins\/p\/index.ts: encoder 'x' needs a one-line description/);
    expect(() => r.encoder({ ...spec('bad id') })).toThrow(/id must be/);
    expect(() => r.encoder({ ...spec('y'), create: undefined as never })).toThrow(/create/);
  });

  it('build strips the discriminator and passes options and context', () => {
    const reg = new Registries();
    let seen: unknown;
    reg.registrar('p', 'p.ts').dataset({ ...spec('manifest'), create: (o: unknown) => { seen = o; return { read: async () => ({}) } as never; } });
    reg.dataset.build({ format: 'manifest', manifest: 'cohort.json' }, { path: 'data' } as never, 'format');
    expect(seen).toEqual({ manifest: 'cohort.json' });
    expect(() => reg.dataset.build({ type: 'manifest' }, { path: 'data' } as never, 'format')).toThrow(/data: expected a 'format'/);
  });
});
