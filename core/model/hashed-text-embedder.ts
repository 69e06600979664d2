/**
 * A text embedder that needs no model file: signed feature hashing of word n-grams (and optionally character
 * trigrams), as scikit-learn's HashingVectorizer(alternate_sign=True) followed by sublinear tf and L2 norm.
 *
 * - Tokens: the text is lowercased (Unicode-aware) and split into runs of letters and digits; a number keeps its
 *   decimal point or comma ("71.5", "1,000" stay one token), so ages, stages and sizes are features of their own.
 * - Features: word n-grams for each n in `ngrams` (default 1 and 2), joined by a space and prefixed by their order
 *   ('w1:age', 'w2:age 71'); with `charTrigrams`, the trigrams of each word padded by '#' ('c3:#ag', 'c3:age',
 *   'c3:ge#').
 * - Hash: 32-bit FNV-1a over the feature's UTF-8 bytes, then murmur3's fmix32 finaliser; bucket = hash mod dim, sign
 *   from the top bit. Each distinct feature adds sign * (1 + ln count) to its bucket (sublinear tf); the vector is
 *   then L2-normalised (all zero when the text has no token).
 * Accumulation is in float64 over features in sorted order, so the vector does not depend on word order beyond the
 * n-grams themselves, nor on other texts.
 *
 * @example
 * const e = new HashedTextEmbedder({ dim: 512 });
 * const [v] = e.embed(['The patient has been diagnosed with a T2 tumor.']);
 */
import type { TextEmbedder } from '../contracts/text-embedder.js';

export interface HashedTextEmbedderOptions {
  /** Number of hash buckets (vector width). Default 512. */
  dim?: number;
  /** Word n-gram orders. Default [1, 2]. */
  ngrams?: number[];
  /** Also hash character trigrams of each word. Default false. */
  charTrigrams?: boolean;
}

const encoder = new TextEncoder();

/** FNV-1a (32-bit) over the UTF-8 bytes of s, finished with murmur3's fmix32 so every output bit mixes. */
export function hashFeature(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Lowercased word tokens; numbers keep inner '.' and ',' ("71.5", "1,000"). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/\p{N}+(?:[.,]\p{N}+)*|[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

export class HashedTextEmbedder implements TextEmbedder {
  readonly id: string;
  readonly dim: number;
  private readonly ngrams: number[];
  private readonly charTrigrams: boolean;

  constructor(opts: HashedTextEmbedderOptions = {}) {
    this.dim = opts.dim ?? 512;
    this.ngrams = [...new Set(opts.ngrams ?? [1, 2])].sort((a, b) => a - b);
    this.charTrigrams = opts.charTrigrams ?? false;
    if (!Number.isInteger(this.dim) || this.dim <= 0) throw new Error(`hashed text embedder: dim must be a positive integer, found ${this.dim}`);
    if (this.ngrams.length === 0 || this.ngrams.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(`hashed text embedder: ngrams must be a non-empty list of positive integers, found ${JSON.stringify(opts.ngrams)}`);
    }
    this.id = `hashed-v1:d${this.dim}:w${this.ngrams.join('-')}${this.charTrigrams ? ':c3' : ''}`;
  }

  /** Feature -> count for one text. */
  features(text: string): Map<string, number> {
    const words = tokenize(text);
    const counts = new Map<string, number>();
    const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
    for (const n of this.ngrams) {
      for (let i = 0; i + n <= words.length; i++) add(`w${n}:${words.slice(i, i + n).join(' ')}`);
    }
    if (this.charTrigrams) {
      for (const w of words) {
        const chars = [...`#${w}#`];
        for (let i = 0; i + 3 <= chars.length; i++) add(`c3:${chars.slice(i, i + 3).join('')}`);
      }
    }
    return counts;
  }

  embed(texts: string[]): Float32Array[] {
    return texts.map((text) => {
      const acc = new Float64Array(this.dim);
      const counts = this.features(text);
      for (const f of [...counts.keys()].sort()) {
        const h = hashFeature(f);
        const sign = h >>> 31 === 1 ? -1 : 1;
        const k = h % this.dim;
        acc[k] = acc[k]! + sign * (1 + Math.log(counts.get(f)!));
      }
      let norm = 0;
      for (const v of acc) norm += v * v;
      norm = Math.sqrt(norm);
      return Float32Array.from(acc, (v) => (norm > 0 ? v / norm : 0));
    });
  }
}
