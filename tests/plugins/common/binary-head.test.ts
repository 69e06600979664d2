/**
 * The binary head: its loss against tfjs's own tf.losses.sigmoidCrossEntropy (mean, and with per-case weights), its
 * fit against scikit-learn's unpenalised logistic regression on the real wpbc cohort (the head with no hidden layer
 * is logistic regression, so full-batch training must reach sklearn's coefficients and probabilities), 'balanced'
 * positive weights, state round trip, leaks, and its errors.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BinaryLabel } from '../../../core/contracts/binary-label.js';
import { SeededRandom } from '../../../core/services/random.js';
import { BinaryHead, binaryHeadSpec, type BinaryHeadOptions } from '../../../plugins/common/binary-head.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { expectGradientOnEveryVariable, maxAbsDiff } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const opts = (o: Partial<BinaryHeadOptions> = {}): BinaryHeadOptions => optionsWithDefaults(binaryHeadSpec, o);
const lab = (y: number[]): BinaryLabel[] => y.map((v) => ({ positive: v === 1 }));

const wpbc = JSON.parse(readFileSync(new URL('../../reference/classification/wpbc.json', import.meta.url), 'utf8')) as {
  x: number[][]; y: number[]; logistic: { intercept: number; coef: number[]; probability: number[]; log_loss: number };
};

describe('binary head', () => {
  it('has a conforming options schema: hidden null, positiveWeight 1; target binary', () => {
    expect(schemaProblems(binaryHeadSpec)).toEqual([]);
    expect(opts()).toEqual({ hidden: null, positiveWeight: 1 });
    expect(new BinaryHead(opts(), testContext('head')).target).toBe('binary');
  });

  it('loss equals tf.losses.sigmoidCrossEntropy (mean), and its weighted form with positive weight 3', () => {
    const rng = new SeededRandom(2);
    const logits = tf.tensor2d(Array.from({ length: 10 }, () => [rng.normal() * 4]), [10, 1]);
    const y = [1, 0, 0, 1, 1, 0, 0, 0, 1, 0];
    const head = new BinaryHead(opts(), testContext('head'));
    const l = head.loss(logits, lab(y));
    const ref = tf.losses.sigmoidCrossEntropy(tf.tensor2d(y, [10, 1]), logits);
    expect(Math.abs(l.dataSync()[0]! - ref.dataSync()[0]!)).toBeLessThan(1e-6);
    const weighted = new BinaryHead(opts({ positiveWeight: 3 }), testContext('head'));
    const w = y.map((v) => (v ? 3 : 1));
    const refW = tf.losses.sigmoidCrossEntropy(tf.tensor2d(y, [10, 1]), logits, tf.tensor2d(w, [10, 1]), 0, tf.Reduction.SUM);
    const lw = weighted.loss(logits, lab(y));
    expect(Math.abs(lw.dataSync()[0]! - refW.dataSync()[0]! / w.reduce((a, b) => a + b, 0))).toBeLessThan(1e-6);
    // extreme logits stay finite (the stable form)
    const big = head.loss(tf.tensor2d([[80], [-80]]), lab([0, 1]));
    expect(big.dataSync()[0]!).toBeCloseTo(80, 3);
    tf.dispose([logits, l, ref, refW, lw, big]);
  });

  it('full-batch training of the head alone reaches scikit-learn\'s unpenalised logistic regression on wpbc', () => {
    const head = new BinaryHead(opts(), testContext('head'));
    head.build(4);
    const x = tf.tensor2d(wpbc.x);
    const labels = lab(wpbc.y);
    const opt = tf.train.adam(0.05);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 1500; step++) {
      opt.minimize(() => head.loss(head.forward(x), labels), false, head.variables);
    }
    const p = head.predict(tf.tidy(() => head.forward(x)));
    const [kernel, bias] = head.variables.map((v) => Array.from(v.dataSync()));
    expect(maxAbsDiff(kernel!, wpbc.logistic.coef, 'coefficients')).toBeLessThan(1e-3);
    expect(Math.abs(bias![0]! - wpbc.logistic.intercept)).toBeLessThan(1e-3);
    expect(maxAbsDiff(p.map((q) => q.probability!), wpbc.logistic.probability, 'probabilities')).toBeLessThan(1e-4);
    for (const q of p) expect(q.probability!).toBeCloseTo(1 / (1 + Math.exp(-q.risk)), 12);
    const final = tf.tidy(() => head.loss(head.forward(x), labels));
    expect(Math.abs(final.dataSync()[0]! - wpbc.logistic.log_loss)).toBeLessThan(1e-5);
    final.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2 * 2 + 2); // Adam's two moments per variable (+ its step counters)
    tf.dispose(x);
    opt.dispose();
    head.dispose();
  });

  it("'balanced' fits negatives / positives on the training fold, persists it, and falls back to 1 with one class", () => {
    const ctx = testContext('head');
    const head = new BinaryHead(opts({ positiveWeight: 'balanced' }), ctx);
    head.fit([{ id: 'a', binary: { positive: true } }, { id: 'b', binary: { positive: false } }, { id: 'c', binary: { positive: false } }, { id: 'd', binary: { positive: false } }]);
    expect(head.state()).toEqual({ positiveWeight: 3 });
    const restored = new BinaryHead(opts({ positiveWeight: 'balanced' }), testContext('head'));
    restored.restore(JSON.parse(JSON.stringify(head.state())));
    expect(restored.state()).toEqual({ positiveWeight: 3 });
    head.fit([{ id: 'a', binary: { positive: false } }]);
    expect(head.state()).toEqual({ positiveWeight: 1 });
    expect(ctx.memory.lines.some((l) => l.level === 'warn' && /holds 0 positive and 1 negative cases; positiveWeight 'balanced' falls back to 1/.test(l.message))).toBe(true);
    expect(() => restored.restore({ positiveWeight: -1 })).toThrow(/expected \{ positiveWeight: a finite number > 0 \}/);
  });

  it('hidden adds Linear + ReLU; gradients reach every variable; wrong labels and shapes are refused', () => {
    const head = new BinaryHead(opts({ hidden: 6 }), testContext('head'));
    head.build(5);
    expect(head.variables.map((v) => v.shape)).toEqual([[5, 6], [6], [6, 1], [1]]);
    const z = tf.randomNormal([4, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
    expectGradientOnEveryVariable(head.variables, () => head.loss(head.forward(z), lab([1, 0, 1, 0])), 'binary head');
    const out = head.forward(z);
    expect(() => head.loss(out, lab([1, 0]))).toThrow(/expected logits of shape \[2, 1\] \(one per label\), found \[4, 1\]/);
    expect(() => head.loss(out, [{ time: 3, event: true }, ...lab([1, 0, 1])] as never)).toThrow(/label 0 is not a binary label/);
    expect(() => new BinaryHead(opts(), testContext('head')).forward(z)).toThrow(/call build\(inDim\) before forward/);
    tf.dispose([z, out]);
    head.dispose();
  });
});
