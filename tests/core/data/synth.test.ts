import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import type { Cohort } from '../../../core/contracts/dataset-reader.js';
import { loadPatchBag } from '../../../core/data/patch-bag.js';
import { readCohort } from '../../../core/data/read-cohort.js';
import { registerCoreComponents } from '../../../core/data/register.js';
import { synthCohortModel, synthesizeCohort, type SynthOptions, type SynthSummary } from '../../../core/data/synth/index.js';
import { Registries } from '../../../core/registry/registry.js';
import { errorOf, tempDir, testContext } from './support.js';

const registries = new Registries();
registerCoreComponents(registries.registrar('core', 'core/data/register.ts'));
const read = (format: string, root: string): Promise<Cohort> => readCohort(registries, { format, root }, testContext());

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => { for (const c of cleanups) await c(); });
async function newDir(): Promise<string> {
  const t = await tempDir('mmsurv-synth-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'cohort');
}

const SMALL = { cases: 40, featureDim: 16, genes: 60, minPatches: 20, maxPatches: 60 } as const;
async function synth(opts: Omit<SynthOptions, 'out'>): Promise<{ dir: string; summary: SynthSummary }> {
  const dir = await newDir();
  return { dir, summary: await synthesizeCohort({ out: dir, ...opts }) };
}

interface TruthRow { id: string; time: number; event: boolean; trueRisk: number }
async function readTruth(dir: string): Promise<TruthRow[]> {
  const lines = (await readFile(join(dir, 'truth.csv'), 'utf8')).trim().split('\n');
  expect(lines[0]).toBe('id,time,event,true_risk');
  return lines.slice(1).map((l) => {
    const [id, time, event, risk] = l.split(',');
    expect(event === '0' || event === '1').toBe(true);
    return { id: id!, time: Number(time), event: event === '1', trueRisk: Number(risk) };
  });
}

/** Harrell's C written out plainly (independent of core/survival): the reference for the reported oracle C. */
function naiveHarrell(rows: { time: number; event: boolean; risk: number }[]): number {
  let num = 0;
  let den = 0;
  for (const a of rows) {
    if (!a.event) continue;
    for (const b of rows) {
      const comparable = a.time < b.time || (a.time === b.time && !b.event);
      if (!comparable) continue;
      den += 1;
      if (a.risk > b.risk) num += 1;
      else if (a.risk === b.risk) num += 0.5;
    }
  }
  return num / den;
}

function ranks(x: number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Array<number>(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    for (let k = i; k <= j; k++) r[order[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0, sxx = 0, syy = 0;
  x.forEach((xi, i) => { sxy += (xi - mx) * (y[i]! - my); sxx += (xi - mx) ** 2; syy += (y[i]! - my) ** 2; });
  return sxy / Math.sqrt(sxx * syy);
}
const spearman = (x: number[], y: number[]): number => pearson(ranks(x), ranks(y));

/** Everything a case holds, with its bag loaded, as plain comparable data. */
async function decoded(c: Case): Promise<unknown> {
  const bags = await Promise.all((c.wsi ?? []).map(async (b) => {
    const l = await loadPatchBag(b);
    return { n: l.n, dim: l.dim, features: Array.from(l.features!), coords: Array.from(l.coords ?? []) };
  }));
  return { id: c.id, label: c.label, clinical: c.clinical, texts: c.texts, meta: c.meta,
    rna: c.rna && { genes: c.rna.genes, values: Array.from(c.rna.values) }, bags };
}

describe('synthesizeCohort', () => {
  let a: { dir: string; summary: SynthSummary };
  let chimera: { dir: string; summary: SynthSummary };
  beforeAll(async () => {
    a = await synth({ ...SMALL, seed: 5, layout: 'manifest' });
    chimera = await synth({ ...SMALL, seed: 5, layout: 'chimera-task3' });
  });

  it('is deterministic per seed: two outputs decode to the same cases; another seed differs', async () => {
    const b = await synth({ ...SMALL, seed: 5, layout: 'manifest' });
    const c = await synth({ ...SMALL, seed: 6, layout: 'manifest' });
    const [ca, cb, cc] = await Promise.all([read('manifest', a.dir), read('manifest', b.dir), read('manifest', c.dir)]);
    expect(ca.cases).toHaveLength(40);
    expect(await Promise.all(cb.cases.map(decoded))).toEqual(await Promise.all(ca.cases.map(decoded)));
    expect(cb.geneOrder).toEqual(ca.geneOrder);
    expect(await readFile(join(b.dir, 'truth.csv'), 'utf8')).toBe(await readFile(join(a.dir, 'truth.csv'), 'utf8'));
    expect(await readFile(join(b.dir, 'pathways.gmt'), 'utf8')).toBe(await readFile(join(a.dir, 'pathways.gmt'), 'utf8'));
    expect({ ...b.summary, out: '' }).toEqual({ ...a.summary, out: '' });
    expect(cc.cases.map((x) => x.label)).not.toEqual(ca.cases.map((x) => x.label));
    expect((await decoded(cc.cases[0]!) as { bags: unknown }).bags).not.toEqual((await decoded(ca.cases[0]!) as { bags: unknown }).bags);
  });

  it('draws each case from its own stream: adding cases leaves the earlier ones unchanged', async () => {
    const tiny = { featureDim: 4, genes: 20, minPatches: 2, maxPatches: 5, seed: 5, layout: 'manifest' } as const;
    const t10 = await synth({ ...tiny, cases: 10 });
    const t12 = await synth({ ...tiny, cases: 12 });
    const [c10, c12] = await Promise.all([read('manifest', t10.dir), read('manifest', t12.dir)]);
    expect(await Promise.all(c12.cases.slice(0, 10).map(decoded))).toEqual(await Promise.all(c10.cases.map(decoded)));
  });

  it('reports an oracle C-index that the written files reproduce (truth.csv = reader labels; naive Harrell C)', async () => {
    for (const [format, run] of [['manifest', a], ['chimera-task3', chimera]] as const) {
      const truth = await readTruth(run.dir);
      const cohort = await read(format, run.dir);
      expect(truth).toHaveLength(40);
      const byId = new Map(cohort.cases.map((c) => [c.id, c]));
      for (const t of truth) expect(byId.get(t.id)?.label).toEqual({ time: t.time, event: t.event });
      const c = naiveHarrell(truth.map((t) => ({ time: t.time, event: t.event, risk: t.trueRisk })));
      expect(Math.abs(c - run.summary.oracleCIndex)).toBeLessThan(1e-12);
      const marker = JSON.parse(await readFile(join(run.dir, 'synth.json'), 'utf8'));
      expect(marker.summary).toEqual(run.summary);
      expect(marker.status).toBe('complete');
    }
    // both layouts hold the same cases (same index -> same outcome and true risk) under different ids
    const ta = await readTruth(a.dir);
    const tc = await readTruth(chimera.dir);
    expect(tc.map(({ id: _id, ...r }) => r)).toEqual(ta.map(({ id: _id, ...r }) => r));
    expect(tc.map((t) => t.id).every((id) => /^3[AB]_\d{3}$/.test(id))).toBe(true);
    expect(ta.map((t) => t.id).every((id) => /^case-\d{4}$/.test(id))).toBe(true);
  });

  it('reads back through readCohort in both layouts with the right number of cases and events', async () => {
    for (const [format, run] of [['manifest', a], ['chimera-task3', chimera]] as const) {
      const cohort = await read(format, run.dir);
      expect(cohort.warnings).toEqual([]);
      expect(cohort.cases).toHaveLength(run.summary.cases);
      expect(cohort.cases.filter((c) => c.label!.event)).toHaveLength(run.summary.events);
      expect(cohort.timeUnit).toBe('months');
      expect(cohort.geneOrder).toHaveLength(SMALL.genes);
      for (const c of cohort.cases) {
        expect(c.wsi).toHaveLength(1);
        expect(c.wsi![0]!.dim).toBe(SMALL.featureDim);
        expect(c.rna!.genes).toHaveLength(SMALL.genes);
        expect(Object.keys(c.clinical!).sort()).toEqual(
          ['BRS', 'EORTC', 'LVI', 'age', 'grade', 'no_instillations', 'reTUR', 'sex', 'smoking', 'stage', 'substage', 'tumor', 'variant']);
        expect(c.label!.time).toBeGreaterThanOrEqual(0.5);
        expect(c.label!.time).toBeLessThanOrEqual(200);
        expect(Math.abs(c.label!.time * 10 - Math.round(c.label!.time * 10))).toBeLessThan(1e-9);
      }
      const gmt = (await readFile(join(run.dir, 'pathways.gmt'), 'utf8')).trim().split('\n');
      expect(gmt).toHaveLength(20);
      const inSets = gmt.flatMap((l) => l.split('\t').slice(2));
      expect(new Set(inSets).size).toBe(SMALL.genes);
    }
    const manifest = await read('manifest', a.dir);
    expect(manifest.cases.every((c) => c.texts?.report && c.texts.report.split('. ').length >= 2)).toBe(true);
  });

  it('writes bags whose sizes vary within [minPatches, maxPatches], with int coords on a 224-px grid', async () => {
    const cohort = await read('chimera-task3', chimera.dir);
    const sizes = cohort.cases.map((c) => c.wsi![0]!.n);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(SMALL.minPatches);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SMALL.maxPatches);
    expect(new Set(sizes).size).toBeGreaterThan(10);
    const bag = await loadPatchBag(cohort.cases[0]!.wsi![0]!);
    expect(bag.features).toHaveLength(bag.n * SMALL.featureDim);
    expect(bag.coords).toHaveLength(bag.n * 2);
    expect(Array.from(bag.coords!).every((v) => v > 0 && v % 224 === 0)).toBe(true);
    const cells = new Set(Array.from({ length: bag.n }, (_, i) => `${bag.coords![2 * i]},${bag.coords![2 * i + 1]}`));
    expect(cells.size).toBe(bag.n);
  });

  it('marks missing clinical values with -1 in the CHIMERA layout, which the reader reads as null', async () => {
    const cohort = await read('chimera-task3', chimera.dir);
    let minusOnes = 0;
    let fields = 0;
    for (const c of cohort.cases) {
      const raw = JSON.parse(await readFile(join(chimera.dir, c.id, `${c.id}_CD.json`), 'utf8')) as Record<string, unknown>;
      expect(raw.progression === 0 || raw.progression === 1).toBe(true);
      expect(typeof raw.Time_to_prog_or_FUend).toBe('number');
      expect(c.clinical).not.toHaveProperty('progression');
      expect(c.clinical).not.toHaveProperty('Time_to_prog_or_FUend');
      for (const [k, v] of Object.entries(raw)) {
        if (k === 'progression' || k === 'Time_to_prog_or_FUend') continue;
        fields++;
        if (v === -1) { minusOnes++; expect(c.clinical![k]).toBeNull(); } else expect(c.clinical![k]).toBe(v);
      }
      expect(raw.tumor).toBe('Primary');
      expect(['T1HG', 'TaHG']).toContain(raw.stage);
      if (raw.stage === 'TaHG') expect(raw.substage).toBe(-1);
      expect(['BRS1', 'BRS2', 'BRS3', -1]).toContain(raw.BRS);
    }
    expect(minusOnes).toBeGreaterThan(0);
    expect(minusOnes / fields).toBeGreaterThan(0.03);
    expect(minusOnes / fields).toBeLessThan(0.2);
    // the manifest layout writes JSON null for the same values
    const m = JSON.parse(await readFile(join(a.dir, 'cohort.json'), 'utf8'));
    expect(JSON.stringify(m.cases)).not.toContain(':-1');
  });

  it('orders the oracle C-index by difficulty (300 cases): easy > hard, default well above 0.5', async () => {
    const tiny = { cases: 300, seed: 1, layout: 'manifest', featureDim: 2, genes: 20, minPatches: 1, maxPatches: 2 } as const;
    const easy = await synth({ ...tiny, difficulty: 'easy' });
    const def = await synth({ ...tiny, difficulty: 'default' });
    const hard = await synth({ ...tiny, difficulty: 'hard' });
    for (const run of [easy, def, hard]) {
      const truth = await readTruth(run.dir);
      const c = naiveHarrell(truth.map((t) => ({ time: t.time, event: t.event, risk: t.trueRisk })));
      expect(Math.abs(c - run.summary.oracleCIndex)).toBeLessThan(1e-12);
    }
    expect(easy.summary.oracleCIndex).toBeGreaterThan(def.summary.oracleCIndex);
    expect(def.summary.oracleCIndex).toBeGreaterThan(hard.summary.oracleCIndex);
    expect(def.summary.oracleCIndex).toBeGreaterThan(0.65);
    expect(hard.summary.oracleCIndex).toBeGreaterThan(0.55);
    // event rate in the documented 35-50 % band (CHIMERA Task 3: 36 %), with slack for 300 cases
    const rate = def.summary.events / def.summary.cases;
    expect(rate).toBeGreaterThan(0.3);
    expect(rate).toBeLessThan(0.55);
    expect(def.summary.censoredFraction).toBeCloseTo(1 - rate, 12);
  });

  it('carries real signal: prognostic patch fraction and a signal pathway correlate with the true risk (200 cases)', async () => {
    const opts = { cases: 200, seed: 3, layout: 'manifest', featureDim: 16, genes: 100, minPatches: 100, maxPatches: 200 } as const;
    const run = await synth(opts);
    const cohort = await read('manifest', run.dir);
    const truth = new Map((await readTruth(run.dir)).map((t) => [t.id, t.trueRisk]));
    const marker = JSON.parse(await readFile(join(run.dir, 'synth.json'), 'utf8'));
    const prognostic: number[] = marker.model.prognosticPrototypes;
    const { prototypes } = synthCohortModel(opts.seed, opts.featureDim, opts.genes);
    const K = prototypes.length / opts.featureDim;
    const risk: number[] = [];
    const fraction: number[] = [];
    for (const c of cohort.cases) {
      const bag = await loadPatchBag(c.wsi![0]!);
      let hits = 0;
      for (let i = 0; i < bag.n; i++) {
        let best = -1;
        let bestDot = -Infinity;
        for (let k = 0; k < K; k++) {
          let dot = 0;
          for (let d = 0; d < opts.featureDim; d++) dot += bag.features![i * opts.featureDim + d]! * prototypes[k * opts.featureDim + d]!;
          if (dot > bestDot) { bestDot = dot; best = k; }
        }
        if (prognostic.includes(best)) hits++;
      }
      fraction.push(hits / bag.n);
      risk.push(truth.get(c.id)!);
    }
    expect(spearman(fraction, risk)).toBeGreaterThan(0.3);

    // RNA: the mean of the pathway that loads positively on z_0 (named in synth.json, members from pathways.gmt)
    const sig = (marker.model.signalPathways as { name: string; latent: number; sign: number }[])
      .find((p) => p.latent === 0 && p.sign === 1)!;
    const gmt = (await readFile(join(run.dir, 'pathways.gmt'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
    const members = new Set(gmt.find((l) => l[0] === sig.name)!.slice(2));
    const score = cohort.cases.map((c) => {
      let s = 0;
      c.rna!.genes.forEach((g, i) => { if (members.has(g)) s += c.rna!.values[i]!; });
      return s / members.size;
    });
    expect(pearson(score, risk)).toBeGreaterThan(0.3);
    // and a pathway without signal does not
    const nullName = gmt.map((l) => l[0]!).find((n) => !marker.model.signalPathways.some((p: { name: string }) => p.name === n))!;
    const nullMembers = new Set(gmt.find((l) => l[0] === nullName)!.slice(2));
    const nullScore = cohort.cases.map((c) => c.rna!.genes.reduce((s, g, i) => s + (nullMembers.has(g) ? c.rna!.values[i]! : 0), 0));
    expect(Math.abs(pearson(nullScore, risk))).toBeLessThan(0.3);
  });

  it('ticks the progress reporter once per case', async () => {
    let ticks = 0;
    let started = 0;
    let done = 0;
    const progress = { start: (_l: string, total: number) => { started = total; return { tick: (n = 1) => { ticks += n; }, done: () => { done++; } }; } };
    await synthesizeCohort({ out: await newDir(), cases: 7, seed: 1, layout: 'manifest', featureDim: 2, genes: 20, minPatches: 1, maxPatches: 3, progress });
    expect([started, ticks, done]).toEqual([7, 7, 1]);
  });

  it('refuses a non-empty folder without synth.json, and reuses a previous output, removing only its own stale files', async () => {
    const tiny = { featureDim: 2, genes: 20, minPatches: 1, maxPatches: 3, seed: 2, layout: 'chimera-task3' } as const;
    const foreign = await newDir();
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    const err = await errorOf(() => synthesizeCohort({ out: foreign, cases: 5, ...tiny }));
    expect(err.message).toMatch(/is not empty .*notes\.txt.*holds no synth\.json/);

    const dir = await newDir();
    await synthesizeCohort({ out: dir, cases: 12, ...tiny });
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await writeFile(join(dir, 'features', 'extra.txt'), 'mine too');
    const again = await synthesizeCohort({ out: dir, cases: 10, ...tiny });
    const cohort = await read('chimera-task3', dir);
    expect(cohort.cases).toHaveLength(10);
    expect(again.files).toBe(10 * 4 + 3);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    expect(existsSync(join(dir, 'features', 'extra.txt'))).toBe(true);
    const pids = (await readdir(dir)).filter((n) => /^3[AB]_/.test(n));
    expect(pids).toHaveLength(10);
    expect((await readdir(join(dir, 'features'))).filter((f) => f.endsWith('.h5'))).toHaveLength(10);
    const marker = JSON.parse(await readFile(join(dir, 'synth.json'), 'utf8'));
    expect(marker.files).toHaveLength(again.files);
    expect(marker.files).not.toContain('notes.txt');
  });

  it('rejects bad options with errors that name the option', async () => {
    const out = await newDir();
    const base = { out, cases: 10, seed: 1, layout: 'manifest' } as const;
    await expect(synthesizeCohort({ ...base, cases: 1 })).rejects.toThrow(/cases must be an integer >= 2, found 1/);
    await expect(synthesizeCohort({ ...base, layout: 'csv' as never })).rejects.toThrow(/layout must be/);
    await expect(synthesizeCohort({ ...base, difficulty: 'medium' as never })).rejects.toThrow(/difficulty must be/);
    await expect(synthesizeCohort({ ...base, minPatches: 50, maxPatches: 10 })).rejects.toThrow(/maxPatches must be an integer >= minPatches \(50\), found 10/);
    await expect(synthesizeCohort({ ...base, genes: 5 })).rejects.toThrow(/genes must be an integer >= 20/);
    await expect(synthesizeCohort({ ...base, seed: 1.5 })).rejects.toThrow(/seed must be an integer/);
    expect(existsSync(out)).toBe(false);
  });
});
