/**
 * Binary classification metrics against scikit-learn 1.2.1 (Debian python3-sklearn): the values in
 * tests/reference/classification/wpbc.json, written by make-reference.py from the real wpbc cohort (198 patients, 47
 * recurrences) for three scores: a fitted logistic regression's probabilities, the same rounded to one decimal (ties),
 * and a constant 0.3 (no positive predicted, so the positive class's F1 is 0). Also the naive O(n^2) pair count for the
 * AUC on random tied scores, and the input checks.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracy, binaryReport, brierScore, logLoss, rocAuc, weightedF1 } from '../../../core/classification/metrics.js';

interface MetricRef { score: number[]; roc_auc: number; f1_weighted: number; accuracy: number; log_loss: number; brier: number }
const ref = JSON.parse(readFileSync(new URL('../../reference/classification/wpbc.json', import.meta.url), 'utf8')) as {
  y: number[]; metrics: Record<'fitted' | 'rounded' | 'constant', MetricRef>;
};

describe('classification metrics vs scikit-learn (wpbc)', () => {
  for (const name of ['fitted', 'rounded', 'constant'] as const) {
    it(`${name} score: roc_auc, f1 weighted at 0.5, accuracy, log_loss, brier to 1e-12`, () => {
      const m = ref.metrics[name];
      const yhat = m.score.map((p) => (p >= 0.5 ? 1 : 0));
      expect(Math.abs(rocAuc(ref.y, m.score) - m.roc_auc)).toBeLessThan(1e-12);
      expect(Math.abs(weightedF1(ref.y, yhat) - m.f1_weighted)).toBeLessThan(1e-12);
      expect(Math.abs(accuracy(ref.y, yhat) - m.accuracy)).toBeLessThan(1e-12);
      expect(Math.abs(logLoss(ref.y, m.score) - m.log_loss)).toBeLessThan(1e-12);
      expect(Math.abs(brierScore(ref.y, m.score) - m.brier)).toBeLessThan(1e-12);
      const r = binaryReport(ref.y, m.score);
      expect(r.n).toBe(198);
      expect(r.positives).toBe(47);
      expect(Math.abs(r.auc! - m.roc_auc)).toBeLessThan(1e-12);
      expect(Math.abs(r.f1_weighted - m.f1_weighted)).toBeLessThan(1e-12);
    });
  }

  it('the three scores differ, so each case tests something (ties lower the AUC; the constant predicts no positive)', () => {
    const { fitted, rounded, constant } = ref.metrics;
    expect(fitted.roc_auc).not.toBe(rounded.roc_auc);
    expect(constant.roc_auc).toBe(0.5);
    expect(constant.score.every((p) => p < 0.5)).toBe(true);
  });
});

describe('rocAuc', () => {
  const naive = (y: number[], p: number[]) => {
    let s = 0, pairs = 0;
    y.forEach((a, i) => y.forEach((b, j) => {
      if (a === 1 && b === 0) { pairs++; s += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0; }
    }));
    return s / pairs;
  };

  it('property: equals the pair count (ties count 1/2) on random tied scores', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 6 })), { minLength: 2, maxLength: 60 }),
      (rows) => {
        const y = rows.map((r) => r[0]);
        const p = rows.map((r) => r[1] / 6);
        if (!y.includes(0) || !y.includes(1)) return;
        expect(Math.abs(rocAuc(y, p) - naive(y, p))).toBeLessThan(1e-12);
      },
    ), { seed: 7, numRuns: 200 });
  });

  it('is undefined for one class; refuses labels other than 0/1 and mismatched lengths', () => {
    expect(() => rocAuc([1, 1], [0.2, 0.4])).toThrow(/needs both classes, found 2 positive and 0 negative/);
    expect(() => rocAuc([1, 2], [0.2, 0.4])).toThrow(/labels must be 0 or 1, found 2 at index 1/);
    expect(() => weightedF1([1, 0], [1])).toThrow(/equal non-empty lists, found 2 labels and 1 values/);
    expect(() => logLoss([1, 0], [0.2, 1.2])).toThrow(/probabilities in \[0, 1\], found 1.2 at index 1/);
  });

  it('binaryReport gives a null AUC for one class instead of throwing', () => {
    const r = binaryReport([0, 0, 0], [0.1, 0.7, 0.2]);
    expect(r.auc).toBeNull();
    expect(r.accuracy).toBeCloseTo(2 / 3, 12);
  });
});
