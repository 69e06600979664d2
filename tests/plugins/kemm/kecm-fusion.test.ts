import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { SeededRandom } from '../../../core/services/random.js';
import { KecmFusion, kecmFusionSpec, type KecmFusionOptions } from '../../../plugins/kemm/kecm-fusion.js';
import { testContext } from '../../support/context.js';
import {
  disposeOutput, disposeTokens, expectFlatTraining, expectNoLeakOnFuse, fuseValues, missingSubsets, schemaDefaults, seededTokens, without,
} from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

const DIM = 4;
const HEADS = 2;
const DIMS = new Map([['knowledge', 7], ['wsi', 8], ['rna', 6]]);
const SHAPES: Record<string, [number, number]> = { knowledge: [3, 7], wsi: [9, 8], rna: [4, 6] };
const MODALITIES = ['knowledge', 'wsi', 'rna'];

function make(options: Partial<KecmFusionOptions> = {}, seed = 1, dims: ReadonlyMap<string, number> = DIMS): KecmFusion {
  const f = new KecmFusion({ dim: DIM, heads: HEADS, ...options }, testContext('fusion', seed));
  f.build(dims);
  return f;
}

function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.1, 0.6)), v.shape))));
}

const sigmoid = ref.sigmoid;

/**
 * KECM in float64 from the layer formulas (reference-nn's PyTorch-style multi-head attention), eval mode. Variable
 * layout (with knowledge): 0-1 knowledge projection, 2-3 pathology projection, 4-5 genomic projection, 6 query,
 * 7-13 pathology attention, 14-15 pathology gate, 16-22 genomic attention, 23-24 genomic gate.
 */
function refKecm(f: KecmFusion, tokens: Map<string, tf.Tensor2D>, withKnowledgeRole = true) {
  const all = ref.variableValues(f.variables);
  const w = withKnowledgeRole ? all : [[], [], ...all];
  const mat = (m: string) => (tokens.has(m) ? ref.toMat(tokens.get(m)!) : null);
  const [K, P, G] = [withKnowledgeRole ? mat('knowledge') : null, mat('wsi'), mat('rna')];
  const kProj = K ? ref.linear(K, w[0]!, w[1]!) : null;
  const Q: ref.Mat = [w[6]!, ...(kProj ?? [])];
  const summary = ref.meanRows(Q);
  const zeros = new Array<number>(DIM).fill(0);
  const branch = (X: ref.Mat | null, pk: number, pb: number, attnFrom: number) => {
    if (!X) return null;
    const x = ref.linear(X, w[pk]!, w[pb]!);
    const attn = ref.refMultiHeadAttention(w.slice(attnFrom, attnFrom + 7), HEADS, Q, x);
    const attended = ref.meanRows(attn.out);
    const pooled = ref.meanRows(x);
    const gate = ref.linear([[...summary, ...pooled]], w[attnFrom + 7]!, w[attnFrom + 8]!)[0]!.map(sigmoid);
    return { weights: attn.weights, map: ref.meanRows(attn.weights), gate, pooled, gated: gate.map((g, i) => g * attended[i]!) };
  };
  const p = branch(P, 2, 3, 7);
  const g = branch(G, 4, 5, 16);
  return { z: [...(p?.gated ?? zeros), ...(g?.gated ?? zeros), ...summary], p, g, kProj };
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
  const na = a.reduce((s, x) => s + x * x, 0) + 1e-12;
  const nb = b.reduce((s, x) => s + x * x, 0) + 1e-12;
  return dot / Math.sqrt(na * nb);
}

describe('kemm.kecm fusion (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('options: {} is valid with the defaults; outDim = 3*dim; 25 variables (23 with knowledge: null)', () => {
    expect(schemaDefaults(kecmFusionSpec.optionsSchema)).toEqual({
      knowledge: 'knowledge', pathology: 'wsi', genomic: 'rna', dim: 128, heads: 4, dropout: 0.1, alignWeight: 0,
    });
    expect(kecmFusionSpec.id).toBe('kemm.kecm');
    expect(kecmFusionSpec.modalities).toEqual(['knowledge', 'wsi', 'rna']);
    expect(new KecmFusion({}, testContext('fusion')).outDim).toBe(384);
    const f = make();
    expect(f.outDim).toBe(3 * DIM);
    expect(f.variables.map((v) => v.shape)).toEqual([
      [7, DIM], [DIM], [8, DIM], [DIM], [6, DIM], [DIM], [1, DIM],
      [DIM, DIM], [DIM], [DIM, DIM], [DIM, DIM], [DIM], [DIM, DIM], [DIM], [2 * DIM, DIM], [DIM],
      [DIM, DIM], [DIM], [DIM, DIM], [DIM, DIM], [DIM], [DIM, DIM], [DIM], [2 * DIM, DIM], [DIM],
    ]);
    const ablation = make({ knowledge: null }, 1, new Map([['wsi', 8], ['rna', 6]]));
    expect(ablation.variables).toHaveLength(23);
    f.dispose();
    ablation.dispose();
  });

  it('z and the attention maps match a float64 implementation for every subset of modalities (1e-5)', () => {
    const f = make();
    randomize(f.variables, 2);
    const tokens = seededTokens(SHAPES);
    for (const missing of [[], ...missingSubsets(MODALITIES)]) {
      const some = without(tokens, ...missing);
      const what = missing.length ? `without ${missing.join(', ')}` : 'all modalities';
      const out = f.fuse(some, 'eval');
      const expected = refKecm(f, some);
      expect(out.z.shape, what).toEqual([1, 3 * DIM]);
      expect(maxAbsDiff(out.z.dataSync(), expected.z), what).toBeLessThan(1e-5);
      const maps = out.attention ?? {};
      expect(Object.keys(maps).sort(), what).toEqual([
        ...(some.has('rna') ? ['knowledge->genomic'] : []), ...(some.has('wsi') ? ['knowledge->pathology'] : []),
      ]);
      if (expected.p) expect(maxAbsDiff(maps['knowledge->pathology']!.dataSync(), expected.p.map), what).toBeLessThan(1e-5);
      if (expected.g) expect(maxAbsDiff(maps['knowledge->genomic']!.dataSync(), expected.g.map), what).toBeLessThan(1e-5);
      expect(out.auxLoss, what).toBeUndefined();
      disposeOutput(out);
    }
    // a missing modality is zeros in its part of z
    const noRna = fuseValues(f, without(tokens, 'rna'), 'eval', 'no rna');
    expect(Array.from(noRna.slice(DIM, 2 * DIM))).toEqual(new Array(DIM).fill(0));
    const onlyKnowledge = fuseValues(f, without(tokens, 'wsi', 'rna'), 'eval', 'only knowledge');
    expect(Array.from(onlyKnowledge.slice(0, 2 * DIM))).toEqual(new Array(2 * DIM).fill(0));
    disposeTokens(tokens);
    f.dispose();
  });

  it('each query token\'s attention sums to 1 over the patches (and genomic tokens); the maps sum to 1; gates lie in (0, 1)', () => {
    const f = make({}, 3);
    const tokens = seededTokens(SHAPES);
    const e = f.explain(tokens);
    expect(e.queries).toBe(1 + SHAPES['knowledge']![0]);
    for (const rows of [e.pathologyWeights!, e.genomicWeights!]) {
      expect(rows).toHaveLength(e.queries);
      for (const row of rows) {
        expect(row.every((x) => x > 0 && x < 1)).toBe(true);
        expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
      }
    }
    expect(e.pathologyWeights![0]).toHaveLength(SHAPES['wsi']![0]);
    expect(e.genomicWeights![0]).toHaveLength(SHAPES['rna']![0]);
    for (const gate of [e.pathologyGate!, e.genomicGate!]) {
      expect(gate).toHaveLength(DIM);
      expect(Array.from(gate).every((x) => x > 0 && x < 1)).toBe(true);
    }
    const expected = refKecm(f, tokens);
    expect(maxAbsDiff(e.pathologyWeights!.flat(), expected.p!.weights.flat())).toBeLessThan(1e-5);
    expect(maxAbsDiff(e.genomicGate!, expected.g!.gate)).toBeLessThan(1e-5);
    const out = f.fuse(tokens, 'train');
    for (const name of ['knowledge->pathology', 'knowledge->genomic']) {
      expect(tf.tidy(() => tf.sum(out.attention![name]!).dataSync()[0])).toBeCloseTo(1, 5);
    }
    disposeOutput(out);
    const without = f.explain(new Map([['wsi', tokens.get('wsi')!]]));
    expect(without).toMatchObject({ queries: 1, genomicWeights: null, genomicGate: null });
    disposeTokens(tokens);
    f.dispose();
  });

  it('without knowledge the learned query alone attends: z is finite, differs from z with knowledge, and k = the query', () => {
    const f = make({}, 4);
    const tokens = seededTokens(SHAPES);
    const withK = fuseValues(f, tokens, 'eval', 'with knowledge');
    const noK = fuseValues(f, without(tokens, 'knowledge'), 'eval', 'without knowledge');
    expect(maxAbsDiff(withK, noK)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(withK.slice(0, 2 * DIM), noK.slice(0, 2 * DIM))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(noK.slice(2 * DIM), f.variables[6]!.dataSync())).toBe(0);
    // other knowledge gives another z
    const other = seededTokens({ knowledge: SHAPES['knowledge']! }, 9);
    const otherK = fuseValues(f, new Map([...tokens, ['knowledge', other.get('knowledge')!]]), 'eval', 'other knowledge');
    expect(maxAbsDiff(withK, otherK)).toBeGreaterThan(1e-4);
    disposeTokens(other);
    disposeTokens(tokens);
    f.dispose();
  });

  it('knowledge: null (ablation without a knowledge encoder) equals the full fusion fed no knowledge, same seed', () => {
    const full = make({}, 5);
    const ablation = make({ knowledge: null }, 5, new Map([['wsi', 8], ['rna', 6]]));
    const tokens = seededTokens(SHAPES);
    const a = fuseValues(ablation, without(tokens, 'knowledge'), 'eval', 'ablation');
    expect(maxAbsDiff(a, fuseValues(full, without(tokens, 'knowledge'), 'eval', 'full without knowledge'))).toBe(0);
    randomize(ablation.variables, 6);
    expect(maxAbsDiff(fuseValues(ablation, without(tokens, 'knowledge'), 'eval', 'ablation'), refKecm(ablation, without(tokens, 'knowledge'), false).z)).toBeLessThan(1e-5);
    // a configured but unused knowledge modality is ignored, with a warning at build time
    const ctx = testContext('fusion', 5);
    const warned = new KecmFusion({ dim: DIM, heads: HEADS, knowledge: null }, ctx);
    warned.build(DIMS);
    expect(ctx.memory.lines.some((m) => m.message.includes('the tokens of knowledge are not used'))).toBe(true);
    expect(maxAbsDiff(fuseValues(warned, tokens, 'eval', 'ablation with knowledge tokens'), a)).toBe(0);
    disposeTokens(tokens);
    for (const f of [full, ablation, warned]) f.dispose();
  });

  it('auxLoss = alignWeight * (1 - cos(mean knowledge token, mean patch token)) when both are present', () => {
    const f = make({ alignWeight: 0.4 }, 6);
    randomize(f.variables, 7);
    const tokens = seededTokens(SHAPES);
    const out = f.fuse(tokens, 'eval');
    const r = refKecm(f, tokens);
    const expected = 0.4 * (1 - cosine(ref.meanRows(r.kProj!), r.p!.pooled));
    expect(out.auxLoss!.rank).toBe(0);
    expect(Math.abs(out.auxLoss!.dataSync()[0]! - expected)).toBeLessThan(1e-5);
    disposeOutput(out);
    for (const missing of [['knowledge'], ['wsi'], ['rna']]) {
      const o = f.fuse(without(tokens, ...missing), 'eval');
      expect(o.auxLoss === undefined, `aux without ${missing[0]}`).toBe(missing[0] !== 'rna');
      disposeOutput(o);
    }
    // the term pulls on both projections
    const [kKernel, , pKernel] = f.variables;
    expectGradientOnEveryVariable([kKernel!, pKernel!], () => f.fuse(tokens, 'eval').auxLoss!, 'kecm alignment');
    disposeTokens(tokens);
    f.dispose();
  });

  it('same seed -> same z and auxLoss (eval and train, with dropout); another seed -> another z', () => {
    const tokens = seededTokens(SHAPES);
    const run = (seed: number, mode: 'train' | 'eval') => {
      const f = make({ alignWeight: 0.3, dropout: 0.5 }, seed);
      const out = f.fuse(tokens, mode);
      const v = [...Array.from(out.z.dataSync()), out.auxLoss!.dataSync()[0]!];
      disposeOutput(out);
      f.dispose();
      return v;
    };
    expect(run(1, 'eval')).toEqual(run(1, 'eval'));
    expect(run(1, 'train')).toEqual(run(1, 'train'));
    expect(maxAbsDiff(run(1, 'train'), run(1, 'eval'))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(run(2, 'eval'), run(1, 'eval'))).toBeGreaterThan(1e-4);
    disposeTokens(tokens);
  });

  it('no tensor leak after fuse or 5 Adam steps (with auxLoss, and without knowledge); gradients reach every variable', () => {
    const start = tf.memory().numTensors;
    const f = make({ alignWeight: 0.3 });
    const tokens = seededTokens(SHAPES);
    expectNoLeakOnFuse(f, tokens, 'kecm');
    expectNoLeakOnFuse(f, without(tokens, 'knowledge'), 'kecm without knowledge');
    expectFlatTraining(f, tokens, 'kecm');
    expectFlatTraining(f, without(tokens, 'knowledge', 'rna'), 'kecm with pathology only');
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'train').z), 'kecm');
    const before = tf.memory().numTensors;
    f.explain(tokens);
    expect(tf.memory().numTensors).toBe(before);
    disposeTokens(tokens);
    f.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('errors teach: a missing knowledge encoder, heads not dividing dim, bad widths, an empty case', () => {
    expect(() => make({}, 1, new Map([['wsi', 8], ['rna', 6]]))).toThrow(
      /fusion: the 'kemm.kecm' fusion needs knowledge tokens of modality 'knowledge' \(option 'knowledge'\), but no encoder is configured for it; configured: wsi, rna\. .*set 'knowledge' to null for the no-knowledge ablation/,
    );
    expect(() => make({}, 1, new Map([['knowledge', 7], ['rna', 6]]))).toThrow(/needs tokens of modality 'wsi' \(option 'pathology'\)/);
    expect(() => new KecmFusion({ dim: 6, heads: 4 }, testContext('fusion'))).toThrow('fusion: dim (6) must be a multiple of heads (4)');
    expect(() => new KecmFusion({ alignWeight: -1 }, testContext('fusion'))).toThrow('fusion.alignWeight: expected a weight >= 0');
    const f = make();
    expect(() => f.fuse(new Map(), 'eval')).toThrow("fusion: the case has none of 'knowledge', 'wsi', 'rna'; the kemm.kecm fusion needs at least one");
    const wrong = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => f.fuse(new Map([['knowledge', wrong]]), 'eval')).toThrow("fusion: modality 'knowledge' tokens have shape [3, 5], expected [n >= 1, 7]");
    wrong.dispose();
    expect(() => new KecmFusion({}, testContext('fusion')).fuse(new Map(), 'eval')).toThrow('fusion: call build(inputDims) before fuse');
    f.dispose();
  });
});

describe('kemm.kecm fusion (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gradients reach every variable on wasm (with auxLoss), values match cpu, and training leaks nothing', () => {
    const f = make({ alignWeight: 0.3 });
    const tokens = seededTokens(SHAPES);
    expectGradientOnEveryVariable(f.variables, () => {
      const out = f.fuse(tokens, 'train');
      return tf.add(readoutLoss(out.z), out.auxLoss!) as tf.Scalar;
    }, 'kecm on wasm');
    randomize(f.variables, 2);
    expect(maxAbsDiff(fuseValues(f, tokens, 'eval', 'kecm on wasm'), refKecm(f, tokens).z)).toBeLessThan(1e-5);
    expectFlatTraining(f, tokens, 'kecm on wasm');
    disposeTokens(tokens);
    f.dispose();
  });
});
