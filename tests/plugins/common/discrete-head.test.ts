import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import type { SurvivalLabel } from '../../../core/contracts/survival-label.js';
import { SeededRandom } from '../../../core/services/random.js';
import { discreteNllFloat64 } from '../../../core/survival/discrete-nll.js';
import { DiscreteHead, discreteHeadSpec, type DiscreteHeadOptions } from '../../../plugins/common/discrete-head.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { assignWeights, expectGradientOnEveryVariable, maxAbsDiff, snapshotWeights } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// events at 2, 4, 6, 8, 10; censored at 3 and 12. Quartiles of the event times (type 7): 4, 6, 8.
const labels: SurvivalLabel[] = [
  { time: 2, event: true }, { time: 3, event: false }, { time: 4, event: true }, { time: 6, event: true },
  { time: 8, event: true }, { time: 10, event: true }, { time: 12, event: false },
];
const train: Case[] = labels.map((label, i) => ({ id: `t${i}`, label }));
const EDGES = [0, 4, 6, 8, 12 + 1e-6];
const opts = (o: Partial<DiscreteHeadOptions> = {}): DiscreteHeadOptions => optionsWithDefaults(discreteHeadSpec, o);

function randomZ(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

function rowsOf(t: tf.Tensor2D): number[][] {
  return t.arraySync();
}

describe('discrete head', () => {
  it('has a conforming options schema: bins 4, hidden null, alpha 0', () => {
    expect(schemaProblems(discreteHeadSpec)).toEqual([]);
    expect(discreteHeadSpec.id).toBe('discrete');
    expect(opts()).toEqual({ bins: 4, hidden: null, alpha: 0 });
  });

  it('cuts the bins at the quartiles of the training event times; forward is x W + b', () => {
    const head = new DiscreteHead(opts(), testContext('head'));
    head.build(3);
    head.fit(train);
    const edges = head.state()!.edges;
    expect(edges.slice(0, 4)).toEqual(EDGES.slice(0, 4));
    expect(edges[4]).toBeCloseTo(EDGES[4]!, 9);
    expect(head.variables.map((v) => v.shape)).toEqual([[3, 4], [4]]);
    const z = randomZ(2, 3, 1);
    const out = head.forward(z);
    const [w, b] = head.variables.map((v) => v.dataSync());
    const zr = rowsOf(z);
    const expected = zr.flatMap((r) => [0, 1, 2, 3].map((j) => r.reduce((s, x, i) => s + x * w![i * 4 + j]!, b![j]!)));
    expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-6);
    tf.dispose([z, out]);
    head.dispose();
  });

  it('loss equals discreteNllFloat64 on the same logits with hand-assigned bins (alpha 0 and 0.5)', () => {
    for (const alpha of [0, 0.5]) {
      const head = new DiscreteHead(opts({ alpha }), testContext('head'));
      head.build(3);
      head.fit(train);
      const z = randomZ(labels.length, 3, 2);
      const out = head.forward(z);
      // bins by hand, left-closed [e_k, e_k+1): 2->0, 3->0, 4->1, 6->2, 8->3, 10->3, 12->3
      const bins = [0, 0, 1, 2, 3, 3, 3];
      const censored = labels.map((l) => !l.event);
      const loss = head.loss(out, labels);
      const expected = discreteNllFloat64(rowsOf(out), bins, censored, { alpha });
      expect(expected).toBeGreaterThan(0.1);
      expect(loss.dataSync()[0]!).toBeCloseTo(expected, 5);
      tf.dispose([z, out, loss]);
      head.dispose();
    }
  });

  it('predict: hazards sigmoid(h), S_k = prod (1 - h_j) at the upper bin edges, risk = -sum S', () => {
    const head = new DiscreteHead(opts(), testContext('head'));
    head.build(2);
    head.fit(train);
    const logits = tf.tensor2d([[-2, -1, 0, 3], [1, 1, 1, 1]]);
    const preds = head.predict(logits);
    expect(preds).toHaveLength(2);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const s0 = [1 - sig(-2)];
    for (const h of [-1, 0, 3]) s0.push(s0[s0.length - 1]! * (1 - sig(h)));
    expect(maxAbsDiff(preds[0]!.survival!, s0)).toBeLessThan(1e-7);
    expect(preds[0]!.risk).toBeCloseTo(-s0.reduce((a, b) => a + b, 0), 7);
    expect(Array.from(preds[0]!.times!)).toEqual(head.state()!.edges.slice(1));
    expect(preds[1]!.risk).toBeGreaterThan(preds[0]!.risk); // higher hazards early -> higher risk
    logits.dispose();
    head.dispose();
  });

  it('hidden adds Linear + ReLU; gradients reach every variable; training leaks no tensor', () => {
    const head = new DiscreteHead(opts({ hidden: 5, alpha: 0.5 }), testContext('head'));
    head.build(3);
    head.fit(train);
    expect(head.variables.map((v) => v.shape)).toEqual([[3, 5], [5], [5, 4], [4]]);
    const z = randomZ(labels.length, 3, 3);
    const loss = () => head.loss(head.forward(z), labels);
    expectGradientOnEveryVariable(head.variables, loss, 'discrete');
    const lossValue = () => { const l = tf.tidy(loss); const v = l.dataSync()[0]!; l.dispose(); return v; };
    const before = tf.memory().numTensors;
    tf.dispose([head.forward(z), tf.tidy(loss)]);
    const out = head.forward(z);
    head.predict(out);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.05);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, head.variables); });
    step();
    const afterFirst = tf.memory().numTensors;
    const l0 = lossValue();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(lossValue()).toBeLessThan(l0);
    opt.dispose();
    z.dispose();
    head.dispose();
  });

  it('seeded init; state -> JSON -> restore with built layers and copied weights gives the same predictions', () => {
    const a = new DiscreteHead(opts({ hidden: 4 }), testContext('head', 1));
    const b = new DiscreteHead(opts({ hidden: 4 }), testContext('head', 1));
    const c = new DiscreteHead(opts({ hidden: 4 }), testContext('head', 2));
    [a, b, c].forEach((h) => { h.build(3); h.fit(train); });
    expect(maxAbsDiff(a.variables[0]!.dataSync(), b.variables[0]!.dataSync())).toBe(0);
    expect(maxAbsDiff(a.variables[0]!.dataSync(), c.variables[0]!.dataSync())).toBeGreaterThan(0.01);
    const fresh = new DiscreteHead(opts({ hidden: 4 }), testContext('head', 9));
    fresh.build(3);
    fresh.restore(JSON.parse(JSON.stringify(a.state())));
    assignWeights(fresh.variables, snapshotWeights(a.variables), 'discrete');
    const z = randomZ(3, 3, 4);
    const [oa, of] = [a.forward(z), fresh.forward(z)];
    expect(fresh.predict(of)).toEqual(a.predict(oa));
    tf.dispose([z, oa, of]);
    expect(() => new DiscreteHead(opts({ bins: 3 }), testContext('head')).restore(a.state())).toThrow(/head: the saved time bins have 4 bins but the options say bins: 3/);
    expect(() => fresh.restore({ edges: [0, 2, 1] })).toThrow(/head: saved time bins: edges must be strictly increasing/);
    [a, b, c, fresh].forEach((h) => h.dispose());
  });

  it('explains unfitted use, unlabelled cases, too few events and shape mismatches', () => {
    const head = new DiscreteHead(opts(), testContext('head'));
    expect(() => head.forward(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow(/head: call build\(inDim\) before forward/);
    head.build(3);
    const out = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => head.loss(out, labels.slice(0, 2))).toThrow(/head: call fit\(trainCases\).*before loss\/predict/);
    expect(() => head.fit([{ id: 'u' }])).toThrow(/head: training case u has no label/);
    expect(() => head.fit(train.slice(0, 3))).toThrow(/head: timeBinsFromEvents: 4 bins need at least 4 distinct event times .*\(option head.bins\)/);
    head.fit(train);
    expect(() => head.loss(out, labels.slice(0, 3))).toThrow(/head: expected logits of shape \[3, 4\], found \[2, 4\]/);
    out.dispose();
    head.dispose();
  });
});
