/**
 * The knowledge cache files: keyed by source, model, prompt and case content; written atomically; a foreign or
 * corrupt file is an error that names it, never silently replaced; embeddings round-trip bit for bit.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingStore, hashKey, stableJson, TextShard } from '../../../core/llm/knowledge-cache.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'mmsurv-kcache-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('stableJson', () => {
  it('ignores key order and undefined keys, keeps array order', () => {
    expect(stableJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(stableJson({ a: { c: null, d: [2, 1] }, b: 1, z: undefined }));
    expect(stableJson([1, 2])).not.toBe(stableJson([2, 1]));
    expect(hashKey('x')).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('TextShard', () => {
  it('round-trips entries through an atomic file and separates models and prompts', async () => {
    const a = await TextShard.open(dir, 'kemm.expert-report', 'gguf:aaaa', 'prompt v1');
    a.set('k1', 'case-1', [{ role: 'report', text: 'High grade.' }]);
    await a.flush();
    expect((await readdir(dirname(a.file))).filter((f) => f.includes('.tmp'))).toEqual([]);
    const again = await TextShard.open(dir, 'kemm.expert-report', 'gguf:aaaa', 'prompt v1');
    expect(again.get('k1')).toEqual([{ role: 'report', text: 'High grade.' }]);
    expect(again.size).toBe(1);
    expect((await TextShard.open(dir, 'kemm.expert-report', 'gguf:bbbb', 'prompt v1')).get('k1')).toBeUndefined();
    expect((await TextShard.open(dir, 'kemm.expert-report', 'gguf:aaaa', 'prompt v2')).get('k1')).toBeUndefined();
  });

  it('writes nothing until something changed', async () => {
    const a = await TextShard.open(dir, 's', 'm', 'p');
    await a.flush();
    expect(existsSync(a.file)).toBe(false);
  });

  it('refuses a corrupt or foreign file and names it', async () => {
    const a = await TextShard.open(dir, 's', 'm', 'p');
    a.set('k', 'c', []);
    await a.flush();
    const good = await readFile(a.file, 'utf8');
    await writeFile(a.file, '{"version": 1, "source"');
    await expect(TextShard.open(dir, 's', 'm', 'p')).rejects.toThrow(new RegExp(`${a.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the knowledge cache file is not valid JSON`));
    await writeFile(a.file, good.replace('"model": "m"', '"model": "other"'));
    await expect(TextShard.open(dir, 's', 'm', 'p')).rejects.toThrow(/for source 's' and model 'm', found version 1, source 's', model 'other'; delete it to recompute/);
  });
});

describe('EmbeddingStore', () => {
  it('stores vectors bit for bit and checks their width', async () => {
    const v = Float32Array.from([0.1, -2.5e-7, 3, Number.MIN_VALUE]);
    const s = await EmbeddingStore.open(dir, 'gguf:1234');
    s.set('High-grade carcinoma.', v);
    expect(() => s.set('other', new Float32Array(3))).toThrow(/width 3 does not fit the cache's width 4/);
    await s.flush();
    const back = (await EmbeddingStore.open(dir, 'gguf:1234')).get('High-grade carcinoma.')!;
    expect(Array.from(back)).toEqual(Array.from(v));
    expect((await EmbeddingStore.open(dir, 'gguf:1234')).get('unseen')).toBeUndefined();
    expect((await EmbeddingStore.open(dir, 'gguf:5678')).get('High-grade carcinoma.')).toBeUndefined();
  });
});
