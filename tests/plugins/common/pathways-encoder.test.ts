import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import type { Case } from '../../../core/contracts/case.js';
import { SeededRandom } from '../../../core/services/random.js';
import { bucketWidth, PathwaysEncoder, pathwaysEncoderSpec, type PathwaysEncoderOptions } from '../../../plugins/common/pathways-encoder.js';
import { testContext } from '../../support/context.js';
import { checkSpec } from './spec-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-pathways-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gmtFile(name: string, sets: [string, string[]][]): string {
  const path = join(dir, name);
  writeFileSync(path, sets.map(([n, genes]) => [n, 'desc', ...genes].join('\t')).join('\n') + '\n');
  return path;
}

const GENES = Array.from({ length: 12 }, (_, i) => `G${String(i).padStart(2, '0')}`);
// sizes 3, 5, 2, 3 -> buckets of width 2 (P3), 3 (P1, P4), 6 (P2): the bucket order differs from the GMT order
const SETS: [string, string[]][] = [
  ['P1', ['G00', 'G01', 'G02']],
  ['P2', ['G03', 'G04', 'G05', 'G06', 'G07']],
  ['P3', ['G08', 'G01']],
  ['P4', ['G09', 'G10', 'G11']],
];

function rnaCase(id: string, seed: number, genes = GENES): Case {
  const rng = new SeededRandom(seed);
  return { id, rna: { genes: [...genes], values: Float32Array.from(genes, () => rng.normal(5, 2)) } };
}

const TRAIN = [rnaCase('t1', 1), rnaCase('t2', 2), rnaCase('t3', 3)];
const opts = (o: Partial<PathwaysEncoderOptions> = {}): PathwaysEncoderOptions => ({
  gmt: gmtFile('p.gmt', SETS), mode: 'pathways', dim: 4, hidden: 3, activation: 'elu', dropout: 0.25, scale: 'minmax-global', ...o,
});

const elu = (v: number) => (v > 0 ? v : Math.expm1(v));
const selu = (v: number) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v));

/** The SNN of each pathway by loops, from the encoder's variables (eval mode: no dropout). */
function plainTokens(enc: PathwaysEncoder, c: Case, o: PathwaysEncoderOptions): number[][] {
  const s = enc.state()!;
  const act = o.activation === 'selu' ? selu : elu;
  const vals = enc.variables.map((v) => Array.from(v.dataSync()));
  const widths = [...new Set(s.pathways.map((p) => bucketWidth(p.genes.length)))].sort((a, b) => a - b);
  const [b1, w2, b2] = vals.slice(widths.length);
  const index = new Map(c.rna!.genes.map((g, i) => [g, i]));
  const x = s.genes.map((g) => {
    const v = c.rna!.values[index.get(g)!]!;
    return s.scaler ? ((v - s.scaler.min) / (s.scaler.max - s.scaler.min)) * 2 - 1 : v;
  });
  return s.pathways.map((p, pi) => {
    const w = bucketWidth(p.genes.length);
    const bi = widths.indexOf(w);
    const slot = s.pathways.filter((q) => bucketWidth(q.genes.length) === w).indexOf(p);
    const h = Array.from({ length: o.hidden }, (_, j) =>
      act(p.genes.reduce((acc, g, r) => acc + x[g]! * vals[bi]![(slot * w + r) * o.hidden + j]!, b1![pi * o.hidden + j]!)));
    return Array.from({ length: o.dim }, (_, k) =>
      act(h.reduce((acc, hv, j) => acc + hv * w2![(pi * o.hidden + j) * o.dim + k]!, b2![pi * o.dim + k]!)));
  });
}

it('spec: strict schema, {} valid with the documented defaults, modalities [rna]', () => {
  expect(checkSpec(pathwaysEncoderSpec)).toEqual({ gmt: null, mode: 'pathways', dim: 256, hidden: 256, activation: 'elu', dropout: 0.25, scale: 'minmax-global' });
  expect(pathwaysEncoderSpec.modalities).toEqual(['rna']);
});

it('bucketWidth: 1, 2, 3, 4, 6, 8, 12, 16, ... (padding below 1.5x)', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 17, 25, 100, 200].map(bucketWidth)).toEqual([1, 2, 3, 4, 6, 6, 8, 8, 12, 12, 16, 24, 32, 128, 256]);
  for (let g = 1; g < 3000; g++) expect(bucketWidth(g) / g).toBeLessThan(g < 3 ? 1.01 : 1.5);
});

describe.each<BackendName>(['cpu', 'wasm'])('pathways on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it.each(['elu', 'selu'] as const)('%s: one token per pathway in GMT order, equal to the per-pathway SNN by loops', (activation) => {
    const o = opts({ activation });
    const enc = new PathwaysEncoder(o, testContext('encoders.rna'));
    enc.fit(TRAIN);
    expect(enc.pathwayNames).toEqual(['P1', 'P2', 'P3', 'P4']);
    const probe = rnaCase('v', 9, [...GENES].reverse()); // another gene order
    const out = enc.encode(probe, 'eval')!;
    expect(out.shape).toEqual([4, 4]);
    const ref = plainTokens(enc, probe, o).flat();
    const got = out.dataSync();
    ref.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    out.dispose();
    enc.dispose();
  });

  it('gradients reach every variable (per-bucket first layers, biases, second layers), no tensor leak', () => {
    const enc = new PathwaysEncoder(opts(), testContext('encoders.rna'));
    enc.fit(TRAIN);
    expect(enc.variables.map((v) => v.shape)).toEqual([[1, 2, 3], [2, 3, 3], [1, 6, 3], [4, 3], [4, 3, 4], [4, 4]]);
    const readout = tf.tensor2d(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)), [4, 4]);
    const loss = () => tf.sum(tf.mul(enc.encode(TRAIN[0]!, 'train')!, readout)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, enc.variables);
    enc.variables.forEach((v, i) => expect(tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!), `variable ${i}`).toBeGreaterThan(0));
    tf.dispose([value, ...Object.values(grads)]);
    const opt = tf.train.adam(0.01);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, enc.variables); });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    readout.dispose();
    enc.dispose();
  });
});

describe('fitting and state (cpu)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
  });

  it('scales with ONE min and max over all training values of the model genes (SurvPath), ignoring NaN', () => {
    const train: Case[] = [
      { id: 'a', rna: { genes: ['G00', 'G01', 'OTHER'], values: Float32Array.from([1, 3, 1000]) } },
      { id: 'b', rna: { genes: ['G00', 'G01'], values: Float32Array.from([NaN, 9]) } },
    ];
    const enc = new PathwaysEncoder(opts({ gmt: gmtFile('s.gmt', [['P', ['G00', 'G01']]]) }), testContext('encoders.rna'));
    enc.fit(train);
    expect(enc.state()).toEqual({ mode: 'pathways', genes: ['G00', 'G01'], pathways: [{ name: 'P', genes: [0, 1] }], scaler: { min: 1, max: 9 } });
    const none = new PathwaysEncoder(opts({ scale: 'none' }), testContext('encoders.rna'));
    none.fit(TRAIN);
    expect(none.state()!.scaler).toBeNull();
    enc.dispose();
    none.dispose();
  });

  it('drops GMT genes the cohort lacks and pathways left empty, warning once with counts; none left is an error', () => {
    const ctx = testContext('encoders.rna');
    const path = gmtFile('partial.gmt', [['A', ['G00', 'NOPE1', 'G02']], ['EMPTY', ['NOPE1', 'NOPE2']], ['B', ['G05']]]);
    const enc = new PathwaysEncoder(opts({ gmt: path }), ctx);
    enc.fit(TRAIN);
    expect(enc.pathwayNames).toEqual(['A', 'B']);
    expect(enc.state()!.genes).toEqual(['G00', 'G02', 'G05']);
    const warns = ctx.memory.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warns).toEqual([
      `encoders.rna: 2 of 5 genes of ${path} are absent from the training cohort's RNA and were dropped from 2 of 3 pathways (e.g. NOPE1, NOPE2)`,
      `encoders.rna: 1 of 3 pathways of ${path} have no gene in the training cohort's RNA and were dropped: EMPTY`,
    ]);
    const none = gmtFile('none.gmt', [['X', ['ENSG0001', 'ENSG0002']]]);
    expect(() => new PathwaysEncoder(opts({ gmt: none }), testContext('encoders.rna')).fit(TRAIN)).toThrow(
      new RegExp(`encoders.rna: no pathway of ${none} has a gene in the training cohort's RNA .*ENSG0001.*G00.*same gene identifiers`),
    );
    enc.dispose();
  });

  it('gmt is required in pathways mode (the error shows a GMT line); relative paths resolve against the working directory', () => {
    expect(() => new PathwaysEncoder(opts({ gmt: null }), testContext('encoders.rna')).fit(TRAIN)).toThrow(
      /encoders\.rna\.gmt is required for mode 'pathways': .*'name<TAB>description<TAB>gene1<TAB>gene2\.\.\.' \(relative paths resolve against the working directory/,
    );
    gmtFile('relative.gmt', SETS);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const enc = new PathwaysEncoder(opts({ gmt: 'relative.gmt' }), testContext('encoders.rna'));
      enc.fit(TRAIN);
      expect(enc.pathwayNames).toHaveLength(4);
      enc.dispose();
    } finally {
      process.chdir(cwd);
    }
    expect(() => new PathwaysEncoder(opts({ gmt: 'definitely-missing.gmt' }), testContext('encoders.rna')).fit(TRAIN)).toThrow(
      new RegExp(`${cwd}/definitely-missing.gmt: cannot read the GMT gene-set file \\(ENOENT\\)`),
    );
  });

  it("mode 'whole': one token from one SNN over the GMT genes (or every cohort gene without a GMT)", () => {
    const withGmt = new PathwaysEncoder(opts({ mode: 'whole' }), testContext('encoders.rna'));
    withGmt.fit(TRAIN);
    expect(withGmt.state()!.genes).toHaveLength(12);
    const t = withGmt.encode(TRAIN[0]!, 'eval')!;
    expect(t.shape).toEqual([1, 4]);
    expect(withGmt.variables.map((v) => v.shape)).toEqual([[12, 3], [3], [3, 4], [4]]);
    const sub = new PathwaysEncoder(opts({ mode: 'whole', gmt: gmtFile('sub.gmt', [['S', ['G00', 'G05']]]) }), testContext('encoders.rna'));
    sub.fit(TRAIN);
    expect(sub.state()!.genes).toEqual(['G00', 'G05']);
    const all = new PathwaysEncoder(opts({ mode: 'whole', gmt: null }), testContext('encoders.rna'));
    all.fit([...TRAIN, { id: 'x', rna: { genes: ['ZZZ'], values: Float32Array.from([1]) } }]);
    expect(all.state()!.genes).toEqual([...GENES, 'ZZZ']);
    t.dispose();
    [withGmt, sub, all].forEach((e) => e.dispose());
  });

  it('restore(state) rebuilds the same variables without the GMT file; null without RNA; missing genes read as 0', () => {
    const path = gmtFile('restore.gmt', SETS);
    const a = new PathwaysEncoder(opts({ gmt: path }), testContext('encoders.rna', 1));
    a.fit(TRAIN);
    const state = JSON.parse(JSON.stringify(a.state()));
    rmSync(path);
    const b = new PathwaysEncoder(opts({ gmt: path }), testContext('encoders.rna', 2));
    b.restore(state);
    expect(b.variables.map((v) => v.shape)).toEqual(a.variables.map((v) => v.shape));
    b.variables.forEach((v, i) => v.assign(a.variables[i]!));
    const partial: Case = { id: 'p', rna: { genes: ['G00'], values: Float32Array.from([4]) } };
    const [ya, yb] = [a.encode(partial, 'eval')!, b.encode(partial, 'eval')!];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([ya, yb]);
    expect(a.encode({ id: 'none' }, 'train')).toBeNull();
    expect(() => b.restore({ mode: 'pathways', genes: ['A'], pathways: [{ name: 'P', genes: [3] }], scaler: null })).toThrow(/restore expects the state saved by the pathways encoder/);
    a.dispose();
    b.dispose();
  });

  it('refuses other modalities and training folds without RNA', () => {
    expect(() => new PathwaysEncoder(opts(), testContext('encoders.wsi'))).toThrow(/encoders.wsi: the 'pathways' encoder reads RNA expression \('rna'\)/);
    expect(() => new PathwaysEncoder(opts(), testContext('encoders.rna')).fit([{ id: 'x' }])).toThrow(/encoders.rna: no training case has RNA/);
  });
});

it('wasm: a SurvPath-sized model (331 pathways over 4999 genes, 256 -> 256) trains a step', async () => {
  await selectBackend({ prefer: 'wasm' });
  const rng = new SeededRandom(5);
  const genes = Array.from({ length: 4999 }, (_, i) => `GENE${i}`);
  const sets: [string, string[]][] = Array.from({ length: 331 }, (_, p) => {
    const size = Math.max(5, Math.min(400, Math.round(Math.exp(rng.normal(3.3, 0.8)))));
    return [`PW${p}`, rng.sample(genes.length, size).map((i) => genes[i]!)];
  });
  const enc = new PathwaysEncoder(opts({ gmt: gmtFile('big.gmt', sets), dim: 256, hidden: 256 }), testContext('encoders.rna'));
  const c = { id: 'big', rna: { genes, values: Float32Array.from(genes, () => rng.normal(5, 2)) } };
  enc.fit([c]);
  const opt = tf.train.adam(1e-4);
  const t0 = performance.now();
  tf.tidy(() => opt.minimize(() => tf.mean(tf.square(enc.encode(c, 'train')!)) as tf.Scalar, true, enc.variables)!.dataSync());
  const ms = performance.now() - t0;
  const params = enc.variables.reduce((s, v) => s + v.size, 0);
  console.log(`pathways, 331 pathways / 4999 genes (${(params / 1e6).toFixed(1)}M parameters, ${enc.variables.length - 3} buckets): training step on wasm ${ms.toFixed(0)} ms`);
  opt.dispose();
  enc.dispose();
}, 300_000);
