import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import { SeededRandom } from '../../../core/services/random.js';
import { KroneckerFusion, kroneckerFusionSpec } from '../../../plugins/common/kronecker-fusion.js';
import { testContext } from '../../support/context.js';
import {
  disposeTokens, expectFlatTraining, expectNoLeakOnFuse, fuseValues, schemaDefaults, seededTokens, without,
} from '../../support/fusion-checks.js';
import * as ref from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

const DIMS = new Map([['wsi', 5], ['rna', 4]]);

function make(options: Record<string, unknown> = {}, seed = 1): KroneckerFusion {
  const f = new KroneckerFusion({ gateDim: 3, dim: 6, ...options }, testContext('fusion', seed));
  f.build(DIMS);
  return f;
}

function randomize(vars: readonly tf.Variable[], seed: number): void {
  const rng = new SeededRandom(seed);
  tf.tidy(() => vars.forEach((v) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0.1, 0.6)), v.shape))));
}

/** PORPOISE's BilinearFusion (gates on, skip as given) in eval mode, in float64, from the 16 weight arrays. */
function refKronecker(w: number[][], v1: number[] | null, v2: number[] | null, dims: [number, number], skip: boolean): number[] {
  const vs = [v1 ?? new Array<number>(dims[0]).fill(0), v2 ?? new Array<number>(dims[1]).fill(0)];
  const both = [[...vs[0]!, ...vs[1]!]];
  const o = [0, 1].map((i) => {
    const [hk, hb, zk, zb, ok, ob] = w.slice(6 * i, 6 * i + 6);
    if (!(i === 0 ? v1 : v2)) return new Array<number>(hb!.length).fill(0);
    const h = ref.map(ref.linear([vs[i]!], hk!, hb!), ref.relu);
    const g = ref.map(ref.linear(both, zk!, zb!), ref.sigmoid);
    return ref.map(ref.linear([h[0]!.map((x, j) => x * g[0]![j]!)], ok!, ob!), ref.relu)[0]!;
  });
  const e1 = [...o[0]!, 1];
  const e2 = [...o[1]!, 1];
  const outer = e1.flatMap((a) => e2.map((b) => a * b));
  let h = ref.map(ref.linear([outer], w[12]!, w[13]!), ref.relu)[0]!;
  if (skip) h = [...h, ...both[0]!];
  return ref.map(ref.linear([h], w[14]!, w[15]!), ref.relu)[0]!;
}

describe('kronecker fusion (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('options: {} is valid with the PORPOISE defaults; outDim = dim; variable shapes', () => {
    expect(schemaDefaults(kroneckerFusionSpec.optionsSchema)).toEqual({ modalities: ['wsi', 'rna'], gateDim: 32, dim: 256, skip: true, dropout: 0.25 });
    expect(kroneckerFusionSpec.id).toBe('kronecker');
    const full = new KroneckerFusion({}, testContext('fusion'));
    full.build(new Map([['wsi', 256], ['rna', 256]]));
    expect(full.outDim).toBe(256);
    expect(full.variables.map((v) => v.shape)).toEqual([
      [256, 32], [32], [512, 32], [32], [32, 32], [32], [256, 32], [32], [512, 32], [32], [32, 32], [32], [1089, 256], [256], [768, 256], [256],
    ]);
    full.dispose();
    const noSkip = make({ skip: false });
    expect(noSkip.variables[14]!.shape).toEqual([6, 6]);
    noSkip.dispose();
  });

  it('z equals the float64 gated bilinear fusion (mean-pooled inputs; skip on and off), to 1e-5', () => {
    for (const skip of [true, false]) {
      const f = make({ skip });
      randomize(f.variables, 2);
      const tokens = seededTokens({ wsi: [3, 5], rna: [1, 4] });
      const z = fuseValues(f, tokens, 'eval', 'kronecker');
      const v1 = ref.meanRows(ref.toMat(tokens.get('wsi')!));
      const v2 = ref.toMat(tokens.get('rna')!)[0]!;
      const expected = refKronecker(ref.variableValues(f.variables), v1, v2, [5, 4], skip);
      expect(maxAbsDiff(z, expected)).toBeLessThan(1e-5);
      expect(expected.some((x) => x > 0)).toBe(true);
      disposeTokens(tokens);
      f.dispose();
    }
  });

  it('a missing modality: its gated vector and input are zeros; the other still reaches z through the constant 1', () => {
    const f = make();
    randomize(f.variables, 3);
    const tokens = seededTokens({ wsi: [4, 5], rna: [2, 4] });
    const w = ref.variableValues(f.variables);
    const v1 = ref.meanRows(ref.toMat(tokens.get('wsi')!));
    const v2 = ref.meanRows(ref.toMat(tokens.get('rna')!));
    expect(maxAbsDiff(fuseValues(f, without(tokens, 'rna'), 'eval', 'no rna'), refKronecker(w, v1, null, [5, 4], true))).toBeLessThan(1e-5);
    expect(maxAbsDiff(fuseValues(f, without(tokens, 'wsi'), 'eval', 'no wsi'), refKronecker(w, null, v2, [5, 4], true))).toBeLessThan(1e-5);
    // with skip off, z still depends on the present modality
    const noSkip = make({ skip: false });
    randomize(noSkip.variables, 3);
    const other = seededTokens({ rna: [2, 4] }, 9);
    expect(maxAbsDiff(fuseValues(noSkip, without(tokens, 'wsi'), 'eval', 'a'), fuseValues(noSkip, other, 'eval', 'b'))).toBeGreaterThan(1e-4);
    disposeTokens(other);
    disposeTokens(tokens);
    noSkip.dispose();
    f.dispose();
  });

  it('same seed -> same z (eval and train); another seed -> another z', () => {
    const tokens = seededTokens({ wsi: [3, 5], rna: [1, 4] });
    const z = (seed: number, mode: 'train' | 'eval') => {
      const f = make({ dropout: 0.5 }, seed);
      const v = Array.from(fuseValues(f, tokens, mode, 'kronecker'));
      f.dispose();
      return v;
    };
    expect(z(1, 'eval')).toEqual(z(1, 'eval'));
    expect(z(1, 'train')).toEqual(z(1, 'train'));
    expect(maxAbsDiff(z(2, 'eval'), z(1, 'eval'))).toBeGreaterThan(1e-4);
    disposeTokens(tokens);
  });

  it('no tensor leak after fuse or 5 Adam steps; gradients reach every variable', () => {
    const start = tf.memory().numTensors;
    const f = make();
    const tokens = seededTokens({ wsi: [6, 5], rna: [1, 4] });
    expectNoLeakOnFuse(f, tokens, 'kronecker');
    expectFlatTraining(f, tokens, 'kronecker');
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'eval').z), 'kronecker');
    disposeTokens(tokens);
    f.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('errors teach: bad modalities option, unconfigured modality, empty case', () => {
    expect(() => new KroneckerFusion({ modalities: ['wsi', 'wsi'] }, testContext('fusion'))).toThrow(
      'fusion.modalities: expected two different modality keys, found ["wsi","wsi"]',
    );
    const f = new KroneckerFusion({ modalities: ['wsi', 'clinical'] }, testContext('fusion'));
    expect(() => f.build(DIMS)).toThrow(/needs tokens of modality 'clinical' \(option 'modalities\[1\]'\), but no encoder is configured for it; configured: wsi, rna/);
    const ok = make();
    expect(() => ok.fuse(new Map(), 'eval')).toThrow("fusion: the case has neither 'wsi' nor 'rna' tokens; the kronecker fusion needs at least one");
    ok.dispose();
  });
});

describe('kronecker fusion (wasm)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gradients reach every variable on wasm, and training leaks nothing', () => {
    const f = make();
    const tokens = seededTokens({ wsi: [6, 5], rna: [1, 4] });
    expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tokens, 'train').z), 'kronecker on wasm');
    expectFlatTraining(f, tokens, 'kronecker on wasm');
    disposeTokens(tokens);
    f.dispose();
  });
});
