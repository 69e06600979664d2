import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { distillationPerCase, distillationTerm } from '../../../plugins/llm-distill/distill-loss.js';
import { expectGradientOnEveryVariable } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Float64 reference from the definition: S_k = prod (1 - sigmoid h_j); mean_k KL(Bern(T_k) || Bern(S_k)). */
function referenceD(h: number[], t: number[]): number {
  let s = 1;
  let sum = 0;
  h.forEach((x, k) => {
    s *= 1 - sigmoid(x);
    const tk = t[k]!;
    const term = (a: number, b: number) => (a > 0 ? a * Math.log(a / b) : 0);
    sum += term(tk, s) + term(1 - tk, 1 - s);
  });
  return sum / h.length;
}

const logits = [[0.3, -1.2, 0.5, 2.0], [-2.0, -0.4, 0.1, 0.7], [1.0, 1.0, -3.0, 0.2]];
const teacher = [[0.9, 0.7, 0.5, 0.2], [0.95, 0.9, 0.8, 0.6], [0.6, 0.3, 0.25, 0.0]];

describe('distillation term (Bernoulli KL per bin edge)', () => {
  it('equals the float64 reference per case and is 0 when the curves agree', () => {
    const h = tf.tensor2d(logits);
    const d = distillationPerCase(h, teacher.flat());
    const got = Array.from(d.dataSync());
    logits.forEach((row, i) => expect(got[i]).toBeCloseTo(referenceD(row, teacher[i]!), 5));
    // a teacher equal to the student's own curve
    const own: number[] = [];
    for (const row of logits) {
      let s = 1;
      for (const x of row) own.push((s *= 1 - sigmoid(x)));
    }
    const zero = distillationPerCase(h, own);
    for (const v of zero.dataSync()) expect(Math.abs(v)).toBeLessThan(1e-5);
    tf.dispose([h, d, zero]);
  });

  it('averages mask_i D_i over the whole batch', () => {
    const h = tf.tensor2d(logits);
    const term = distillationTerm(h, teacher.flat(), [1, 0, 1]);
    const expected = (referenceD(logits[0]!, teacher[0]!) + referenceD(logits[2]!, teacher[2]!)) / 3;
    expect(term.dataSync()[0]).toBeCloseTo(expected, 5);
    const none = distillationTerm(h, teacher.flat(), [0, 0, 0]);
    expect(none.dataSync()[0]).toBe(0);
    tf.dispose([h, term, none]);
  });

  it('has finite gradients, also for saturated logits', () => {
    const v = tf.variable(tf.tensor2d([[30, -30, 0.1, 5], [-30, -30, -30, -30]]));
    expectGradientOnEveryVariable([v], () => distillationTerm(v, [0.5, 0.5, 0.5, 0.1, 1, 1, 0.99, 0.98], [1, 1]), 'distillation');
    v.dispose();
  });

  it('rejects mismatched inputs', () => {
    const h = tf.tensor2d(logits);
    expect(() => distillationTerm(h, [0.5], [1, 1, 1])).toThrow(/expected 3 x 4 teacher survival values/);
    expect(() => distillationTerm(h, teacher.flat(), [1, 1])).toThrow(/one mask value per row \(3\)/);
    expect(() => distillationTerm(h, teacher.flat().map(() => 1.5), [1, 1, 1])).toThrow(/must be in \[0, 1\], found 1.5/);
    expect(() => distillationTerm(h, teacher.flat(), [1, 2, 1])).toThrow(/mask\[1\] must be 0 or 1/);
    h.dispose();
  });
});
