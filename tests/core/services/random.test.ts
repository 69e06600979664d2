import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../core/services/random.js';
import { ScopedRandom } from '../../../core/services/scoped-random.js';

describe('SeededRandom', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.uniform())(new SeededRandom(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.uniform())(new SeededRandom(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.uniform())(new SeededRandom(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('forks depend on (seed, label), not on draws made before', () => {
    const r1 = new SeededRandom(7);
    const r2 = new SeededRandom(7);
    r2.uniform();
    r2.normal();
    expect(r1.fork('splits').uniform()).toBe(r2.fork('splits').uniform());
    expect(r1.fork('splits').uniform()).not.toBe(r1.fork('init').uniform());
    expect(r1.fork('a').fork('b').uniform()).toBe(new SeededRandom(7).fork('a').fork('b').uniform());
  });

  it('has the right moments', () => {
    const r = new SeededRandom(1);
    const n = 100_000;
    let su = 0, sn = 0, sn2 = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      su += u;
      const z = r.normal(2, 3);
      sn += z;
      sn2 += z * z;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(su / n).toBeCloseTo(0.5, 2);
    const mean = sn / n;
    expect(mean).toBeCloseTo(2, 1);
    expect(Math.sqrt(sn2 / n - mean * mean)).toBeCloseTo(3, 1);
  });

  it('int, shuffle and sample stay in range and are permutations', () => {
    const r = new SeededRandom(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle([...items]);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    for (const [n, k] of [[100, 5], [10, 10], [1000, 900]] as const) {
      const s = r.sample(n, k);
      expect(new Set(s).size).toBe(k);
      expect(Math.max(...s)).toBeLessThan(n);
    }
    expect(() => r.sample(3, 4)).toThrow(/cannot draw 4 distinct indices from 3/);
    expect(() => r.int(0)).toThrow(/positive integer/);
    expect(() => new SeededRandom(1.5)).toThrow(/integer/);
  });
});

describe('fillMask', () => {
  it.each([0, 1e-17, 0.1, 0.25, 0.5, 0.7, 0.9999999])('draws what uniform() >= %s draws, one by one, and leaves the same state', (rate) => {
    const one = new SeededRandom(9).fork('dropout');
    const bulk = new SeededRandom(9).fork('dropout');
    const n = 50_000;
    const want = Float32Array.from({ length: n }, () => (one.uniform() >= rate ? 1.25 : 0));
    const got = bulk.fillMask(new Float32Array(n), rate, 1.25);
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(bulk.uniform()).toBe(one.uniform());
  });

  it('keeps a fraction 1 - rate, with 1 as the default value', () => {
    const m = new SeededRandom(4).fillMask(new Float32Array(100_000), 0.3);
    expect(new Set(m)).toEqual(new Set([0, 1]));
    expect(m.reduce((a, b) => a + b, 0) / m.length).toBeCloseTo(0.7, 2);
  });

  it('ScopedRandom delegates to the stream of its scope', () => {
    const scoped = new ScopedRandom(3).fork('wsi');
    const plain = new SeededRandom(3, 'wsi@init');
    expect(Array.from(scoped.fillMask(new Float32Array(64), 0.5))).toEqual(Array.from(plain.fillMask(new Float32Array(64), 0.5)));
  });
});
