/**
 * Loading a cohort's bags for a run, and handing them to fold worker threads: the shared load holds the same values
 * in SharedArrayBuffers (which worker threads receive without a copy), and preloaded bags replace a case's
 * unloaded ones only when they are the slides the cohort lists.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { writePatchFeaturesH5 } from '../../../core/data/io/hdf5.js';
import { StreamProgress } from '../../../core/services/progress.js';
import { bagsByCase, loadCaseBags, withPreloadedBags } from '../../../core/train/prepare-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-prepare-cases-'));
const quiet = new StreamProgress({ quiet: true });

async function cohort(): Promise<Case[]> {
  const cases: Case[] = [];
  for (let i = 0; i < 3; i++) {
    const n = 5 + i;
    const features = Float32Array.from({ length: n * 4 }, (_, j) => i * 100 + j / 7);
    const coords = Float32Array.from({ length: n * 2 }, (_, j) => j * 16);
    const path = join(dir, `c${i}.h5`);
    await writePatchFeaturesH5(path, { features, n, dim: 4, coords });
    cases.push({ id: `c${i}`, label: { time: 10 + i, event: i % 2 === 0 }, wsi: [{ slideId: `s${i}`, n, dim: 4, source: { path, format: 'h5' } }] });
  }
  return cases;
}

describe('loadCaseBags / bagsByCase / withPreloadedBags', () => {
  it('the shared load gives the same features and coordinates, in SharedArrayBuffers', async () => {
    const cases = await cohort();
    const plain = await loadCaseBags(cases, quiet);
    const shared = await loadCaseBags(cases, quiet, { shared: true });
    for (let i = 0; i < cases.length; i++) {
      const p = plain[i]!.wsi![0]!, s = shared[i]!.wsi![0]!;
      expect(p.features!.buffer).toBeInstanceOf(ArrayBuffer);
      expect(s.features!.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(s.coords!.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(Array.from(s.features!)).toEqual(Array.from(p.features!));
      expect(Array.from(s.coords!)).toEqual(Array.from(p.coords!));
    }
  });

  it('a worker thread sees the parent\'s shared features without a copy (a write there shows here)', async () => {
    const shared = await loadCaseBags(await cohort(), quiet, { shared: true });
    const bags = bagsByCase(shared);
    const worker = new Worker('const { workerData, parentPort } = require("node:worker_threads"); workerData.c1[0].features[0] = -1; parentPort.postMessage("done");', { eval: true, workerData: bags });
    await new Promise((res, rej) => { worker.once('message', res); worker.once('error', rej); });
    await worker.terminate();
    expect(shared[1]!.wsi![0]!.features![0]).toBe(-1);
  });

  it('preloaded bags replace unloaded ones; a case without them is left to load', async () => {
    const cases = await cohort();
    const loaded = await loadCaseBags(cases, quiet, { shared: true });
    const { c2: _left, ...some } = bagsByCase(loaded);
    const merged = withPreloadedBags(cases, some);
    expect(merged[0]!.wsi![0]!.features).toBe(loaded[0]!.wsi![0]!.features);
    expect(merged[2]!.wsi![0]!.features).toBeUndefined();
    const all = await loadCaseBags(merged, quiet);
    expect(all[0]!.wsi![0]!.features).toBe(loaded[0]!.wsi![0]!.features);
    expect(Array.from(all[2]!.wsi![0]!.features!)).toEqual(Array.from(loaded[2]!.wsi![0]!.features!));
  });

  it('refuses bags that are not the slides the cohort lists, naming the case and both sides', async () => {
    const cases = await cohort();
    const bags = bagsByCase(await loadCaseBags(cases, quiet));
    bags['c1'] = [{ ...bags['c1']![0]!, n: 99 }];
    expect(() => withPreloadedBags(cases, bags)).toThrow(/case c1: the bags loaded by the parent thread \(s1 \[99, 4\]\) are not the slides the cohort lists now \(s1 \[6, 4\]\)/);
  });
});
