import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../core/services/random.js';
import { GatedFusion, gatedFusionSpec, type GatedFusionOptions } from '../../../plugins/llm-distill/gated-fusion.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { linear, meanRows, relu, softmaxRows, toMat } from '../../support/reference-nn.js';
import { expectGradientOnEveryVariable, maxAbsDiff, readoutLoss } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const DIMS = new Map([['report', 5], ['clinical', 3], ['rna', 4]]);
const ORDER = ['clinical', 'report', 'rna'];
const DIM = 6;

function fusion(o: Partial<GatedFusionOptions> = {}, seed = 1): GatedFusion {
  const f = new GatedFusion(optionsWithDefaults(gatedFusionSpec, { dim: DIM, ...o }), testContext('fusion', seed));
  f.build(DIMS);
  return f;
}
function tokens(seed = 3): Map<string, tf.Tensor2D> {
  const rng = new SeededRandom(seed);
  const rows: Record<string, number> = { report: 2, clinical: 1, rna: 3 };
  return new Map([...DIMS].map(([m, d]) => [m, tf.tensor2d(Float32Array.from({ length: rows[m]! * d }, () => rng.normal()), [rows[m]!, d])]));
}
/** Give the gate (zero at init) random weights, so the gate test is not a uniform average. */
function randomiseGate(f: GatedFusion): void {
  const rng = new SeededRandom(9);
  for (const v of f.variables.slice(-2)) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal(0, 0.5)), v.shape));
}
const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** h_m = relu(linear(mean tokens)) per modality (order of ORDER), from the fusion's weights. */
function referenceBranches(f: GatedFusion, tok: Map<string, tf.Tensor2D>): (number[] | null)[] {
  const w = f.variables.map(values);
  return ORDER.map((m, i) => {
    const t = tok.get(m);
    if (!t) return null;
    return linear([meanRows(toMat(t))], w[2 * i]!, w[2 * i + 1]!)[0]!.map(relu);
  });
}

describe('llm-distill.gated fusion', () => {
  it('has a conforming options schema (dim 128, mode gated)', () => {
    expect(schemaProblems(gatedFusionSpec)).toEqual([]);
    expect(optionsWithDefaults(gatedFusionSpec)).toEqual({ dim: 128, mode: 'gated' });
  });

  it('gated: z = sum_m g_m h_m with g = softmax(W_g concat(h) + b_g); gates sum to 1', () => {
    const f = fusion();
    randomiseGate(f);
    expect(f.modalities).toEqual(ORDER);
    expect(f.outDim).toBe(DIM);
    const tok = tokens();
    const { z, attention } = f.fuse(tok, 'eval');
    const h = referenceBranches(f, tok) as number[][];
    const w = f.variables.map(values);
    const g = softmaxRows(linear([h.flat()], w[6]!, w[7]!))[0]!;
    const expected = Array.from({ length: DIM }, (_, j) => h.reduce((s, hm, m) => s + g[m]! * hm[j]!, 0));
    expect(z.shape).toEqual([1, DIM]);
    expect(maxAbsDiff(values(z), expected)).toBeLessThan(1e-5);
    const gate = values(attention!['gate']!);
    expect(maxAbsDiff(gate, g)).toBeLessThan(1e-6);
    expect(gate.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(Math.min(...gate)).toBeGreaterThan(0);
    tf.dispose([z, ...Object.values(attention!), ...tok.values()]);
    f.dispose();
  });

  it('gated: a missing modality gets gate 0 and the present gates still sum to 1; one modality alone gets gate 1', () => {
    const f = fusion();
    randomiseGate(f);
    const tok = tokens();
    const some = new Map([...tok].filter(([m]) => m !== 'report'));
    const { z, attention } = f.fuse(some, 'train');
    const gate = values(attention!['gate']!);
    expect(gate[1]).toBe(0); // report
    expect(gate[0]! + gate[2]!).toBeCloseTo(1, 6);
    // the gate input holds zeros for the missing branch; the softmax runs over the present ones only
    const h = referenceBranches(f, some);
    const w = f.variables.map(values);
    const logits = linear([h.flatMap((hm) => hm ?? new Array(DIM).fill(0))], w[6]!, w[7]!)[0]!;
    const g = softmaxRows([[logits[0]!, logits[2]!]])[0]!;
    expect(maxAbsDiff([gate[0]!, gate[2]!], g)).toBeLessThan(1e-6);
    const expected = Array.from({ length: DIM }, (_, j) => g[0]! * h[0]![j]! + g[1]! * h[2]![j]!);
    expect(maxAbsDiff(values(z), expected)).toBeLessThan(1e-5);
    const only = f.fuse(new Map([['rna', tok.get('rna')!]]), 'eval');
    expect(values(only.attention!['gate']!)).toEqual([0, 0, 1]);
    expect(maxAbsDiff(values(only.z), referenceBranches(f, new Map([['rna', tok.get('rna')!]]))[2]!)).toBeLessThan(1e-5);
    tf.dispose([z, only.z, ...Object.values(attention!), ...Object.values(only.attention!), ...tok.values()]);
    f.dispose();
  });

  it('concat: z = concat(h_m) in modality order, zeros for a missing one, outDim = M * dim, no gate', () => {
    const f = fusion({ mode: 'concat' });
    expect(f.outDim).toBe(3 * DIM);
    expect(f.variables.map((v) => v.shape)).toEqual([[3, DIM], [DIM], [5, DIM], [DIM], [4, DIM], [DIM]]);
    const tok = tokens();
    const full = f.fuse(tok, 'eval');
    expect(full.z.shape).toEqual([1, 3 * DIM]);
    expect(full.attention).toBeUndefined();
    expect(maxAbsDiff(values(full.z), (referenceBranches(f, tok) as number[][]).flat())).toBeLessThan(1e-5);
    const some = new Map([...tok].filter(([m]) => m !== 'clinical'));
    const part = f.fuse(some, 'eval');
    const zs = values(part.z);
    expect(zs.slice(0, DIM)).toEqual(new Array(DIM).fill(0));
    expect(maxAbsDiff(zs.slice(DIM), values(full.z).slice(DIM))).toBe(0);
    tf.dispose([full.z, part.z, ...tok.values()]);
    f.dispose();
  });

  it('trains every variable and leaks no tensors, with and without missing modalities', () => {
    const tok = tokens();
    for (const mode of ['gated', 'concat'] as const) {
      const f = fusion({ mode });
      expectGradientOnEveryVariable(f.variables, () => readoutLoss(f.fuse(tok, 'train').z), `gated fusion (${mode})`);
      const opt = tf.train.sgd(0.01);
      const some = new Map([...tok].filter(([m]) => m !== 'rna'));
      const step = (i: number) => opt.minimize(() => readoutLoss(f.fuse(i % 2 ? some : tok, 'train').z), false, f.variables);
      step(0);
      const after1 = tf.memory().numTensors;
      for (let i = 1; i <= 6; i++) step(i);
      expect(tf.memory().numTensors).toBe(after1);
      opt.dispose();
      f.dispose();
    }
    tf.dispose([...tok.values()]);
  });

  it('explains a wrong width, an empty case and a missing build', () => {
    const f = new GatedFusion(optionsWithDefaults(gatedFusionSpec, { dim: DIM }), testContext('fusion'));
    expect(() => f.fuse(new Map(), 'eval')).toThrow(/fusion: call build\(inputDims\) before fuse/);
    expect(() => f.build(new Map())).toThrow(/at least one configured encoder/);
    f.build(DIMS);
    expect(() => f.fuse(new Map(), 'eval')).toThrow(/none of the modalities clinical, report, rna/);
    const bad = tf.zeros([2, 7]) as tf.Tensor2D;
    expect(() => f.fuse(new Map([['rna', bad]]), 'eval')).toThrow(/'rna' tokens have shape \[2, 7\], expected \[n >= 1, 4\]/);
    bad.dispose();
    f.dispose();
  });
});
