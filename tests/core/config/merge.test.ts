import { describe, expect, it } from 'vitest';
import { mergeConfigs } from '../../../core/config/merge.js';

describe('mergeConfigs', () => {
  it('merges objects recursively; later keys win', () => {
    const base = { train: { epochs: 20, lr: 1e-4 }, fusion: { type: 'concat', dim: 256 } };
    const over = { train: { epochs: 30 }, head: { type: 'cox' } };
    expect(mergeConfigs(base, over)).toEqual({
      train: { epochs: 30, lr: 1e-4 },
      fusion: { type: 'concat', dim: 256 },
      head: { type: 'cox' },
    });
  });

  it('replaces arrays and scalars instead of merging them', () => {
    const out = mergeConfigs({ dims: [2048, 512, 128], a: { b: 1 } }, { dims: [64], a: 3 });
    expect(out).toEqual({ dims: [64], a: 3 });
    expect(mergeConfigs({ a: 1 }, { a: { b: 2 } })).toEqual({ a: { b: 2 } });
  });

  it('"_delete_": true replaces the base object and is stripped', () => {
    const base = { fusion: { type: 'concat', dim: 256, dropout: 0.1 } };
    const out = mergeConfigs(base, { fusion: { _delete_: true, type: 'kronecker' } });
    expect(out).toEqual({ fusion: { type: 'kronecker' } });
  });

  it('strips _delete_ at every depth, even where there is nothing to replace or it is false', () => {
    const out = mergeConfigs({ a: { x: 1 } }, { a: { _delete_: false, y: 2 }, b: { _delete_: true, c: { _delete_: true, d: 1 } } });
    expect(out).toEqual({ a: { x: 1, y: 2 }, b: { c: { d: 1 } } });
    expect(mergeConfigs({ a: 1, b: 2 }, { _delete_: true, c: 3 })).toEqual({ c: 3 });
  });

  it('never mutates its inputs and shares nothing with them', () => {
    const base = { encoders: { wsi: { type: 'abmil', dims: [1, 2] } } };
    const over = { encoders: { rna: { type: 'mlp' } }, extra: { list: [{ k: 1 }] } };
    const baseCopy = structuredClone(base);
    const overCopy = structuredClone(over);
    const out = mergeConfigs(base, over) as any;
    expect(base).toEqual(baseCopy);
    expect(over).toEqual(overCopy);
    out.encoders.wsi.dims.push(3);
    out.extra.list[0].k = 2;
    expect(base.encoders.wsi.dims).toEqual([1, 2]);
    expect(over.extra.list[0]!.k).toBe(1);
  });

  it('keeps a key named __proto__ as data without touching prototypes', () => {
    const over = JSON.parse('{"__proto__": {"polluted": true}}');
    const out = mergeConfigs({}, over);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
