import { describe, expect, it } from 'vitest';
import { HashedTextEmbedder, hashFeature, tokenize } from '../../../core/model/hashed-text-embedder.js';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));

/** murmur3's fmix32, written out here so the FNV-1a part can be checked against published test vectors. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('hashFeature', () => {
  it('is fmix32 of 32-bit FNV-1a over UTF-8 (FNV test vectors: "" 811c9dc5, "a" e40c292c, "foobar" bf9cf968)', () => {
    expect(hashFeature('')).toBe(fmix32(0x811c9dc5));
    expect(hashFeature('a')).toBe(fmix32(0xe40c292c));
    expect(hashFeature('foobar')).toBe(fmix32(0xbf9cf968));
    // non-ASCII text hashes its UTF-8 bytes (so it is the same in every runtime)
    expect(hashFeature('tumör')).not.toBe(hashFeature('tumor'));
  });
});

describe('tokenize', () => {
  it('lowercases, splits on non-alphanumerics, and keeps numbers with their decimal point or comma', () => {
    expect(tokenize('The age is 71.5 years; Stage T2, 1,000 cells. Tumör!')).toEqual(['the', 'age', 'is', '71.5', 'years', 'stage', 't2', '1,000', 'cells', 'tumör']);
    expect(tokenize(' ... !!')).toEqual([]);
  });
});

describe('HashedTextEmbedder', () => {
  const e = new HashedTextEmbedder();

  it('defaults: 512 buckets, word uni- and bigrams; the id names every setting', () => {
    expect(e.dim).toBe(512);
    expect(e.id).toBe('hashed-v1:d512:w1-2');
    expect(new HashedTextEmbedder({ dim: 64, ngrams: [2, 1, 3], charTrigrams: true }).id).toBe('hashed-v1:d64:w1-2-3:c3');
    expect([...e.features('age 71 age').entries()]).toEqual([['w1:age', 2], ['w1:71', 1], ['w2:age 71', 1], ['w2:71 age', 1]]);
  });

  it('texts that share words are closer than unrelated ones', () => {
    const [a, b, c] = e.embed([
      'The patient has been diagnosed with a T2 tumor.',
      'The patient has been diagnosed with a T3 tumor.',
      'Smoking history unknown; no prior chemotherapy.',
    ]);
    expect(cosine(a!, b!)).toBeGreaterThan(0.6);
    expect(cosine(a!, c!)).toBeLessThan(0.2);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.4);
  });

  it('is deterministic and independent of the other texts and their order; vectors have unit norm and signed entries', () => {
    const texts = ['This is a male.', 'The age is 63 years old.', 'High-grade papillary urothelial carcinoma.'];
    const once = e.embed(texts);
    const reversed = e.embed([...texts].reverse()).reverse();
    const alone = texts.map((t) => e.embed([t])[0]!);
    const other = new HashedTextEmbedder().embed(texts);
    once.forEach((v, i) => {
      expect(v).toHaveLength(512);
      expect(Array.from(reversed[i]!)).toEqual(Array.from(v));
      expect(Array.from(alone[i]!)).toEqual(Array.from(v));
      expect(Array.from(other[i]!)).toEqual(Array.from(v));
      expect(norm(v)).toBeCloseTo(1, 5);
    });
    expect(once.some((v) => v.some((x) => x < 0))).toBe(true);
    expect(e.embed([])).toEqual([]);
  });

  it('case-insensitive; a text without tokens gives the zero vector', () => {
    const [a, b, empty] = e.embed(['Male', 'MALE', ' -- ']);
    expect(Array.from(a!)).toEqual(Array.from(b!));
    expect(empty!.every((v) => v === 0)).toBe(true);
  });

  it('numbers are features: different ages give different vectors; character trigrams relate spelling variants', () => {
    const [a, b] = e.embed(['The age is 63 years old.', 'The age is 81 years old.']);
    expect(cosine(a!, b!)).toBeLessThan(0.99);
    const words = new HashedTextEmbedder({ ngrams: [1] });
    const chars = new HashedTextEmbedder({ ngrams: [1], charTrigrams: true });
    const [w1, w2] = words.embed(['tumour', 'tumor']);
    const [c1, c2] = chars.embed(['tumour', 'tumor']);
    expect(cosine(c1!, c2!)).toBeGreaterThan(cosine(w1!, w2!) + 0.3);
  });

  it('rejects bad settings', () => {
    expect(() => new HashedTextEmbedder({ dim: 0 })).toThrow(/dim must be a positive integer, found 0/);
    expect(() => new HashedTextEmbedder({ ngrams: [] })).toThrow(/ngrams must be a non-empty list of positive integers/);
  });
});
