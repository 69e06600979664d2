import { describe, expect, it } from 'vitest';
import { distillMask, teacherContradicts } from '../../../plugins/llm-distill/distill-mask.js';

/** A teacher whose curve is the constant s (S_T(t) = s at every time), and one that is exp(-lambda t). */
const flat = (s: number) => () => s;
const exponential = (lambda: number) => (t: number) => Math.exp(-lambda * t);

describe('calibration-correction mask', () => {
  it('masks an event case whose teacher said "likely event-free past this time" (S_T(time) > 0.5)', () => {
    expect(distillMask({ time: 10, event: true }, flat(0.8))).toBe(0);
    // S_T(10) = exp(-0.01 * 10) = 0.905: the teacher contradicts an event at 10 ...
    expect(distillMask({ time: 10, event: true }, exponential(0.01))).toBe(0);
    // ... but not an event at 100 (S_T(100) = 0.368)
    expect(distillMask({ time: 100, event: true }, exponential(0.01))).toBe(1);
  });

  it('masks a censored case whose teacher said "likely an event by this time" (S_T(time) < 0.5)', () => {
    expect(distillMask({ time: 24, event: false }, flat(0.2))).toBe(0);
    expect(distillMask({ time: 100, event: false }, exponential(0.01))).toBe(0);
    expect(distillMask({ time: 10, event: false }, exponential(0.01))).toBe(1);
  });

  it('keeps agreeing cases: an event the teacher expected, event-free time the teacher expected', () => {
    expect(distillMask({ time: 5, event: true }, flat(0.3))).toBe(1);
    expect(distillMask({ time: 5, event: false }, flat(0.7))).toBe(1);
  });

  it('at exactly 0.5 the teacher contradicts neither outcome; just past it, one of them', () => {
    expect(distillMask({ time: 12, event: true }, flat(0.5))).toBe(1);
    expect(distillMask({ time: 12, event: false }, flat(0.5))).toBe(1);
    expect(distillMask({ time: 12, event: true }, flat(0.5 + 1e-12))).toBe(0);
    expect(distillMask({ time: 12, event: false }, flat(0.5 - 1e-12))).toBe(0);
    // the same boundary on the value itself
    expect(teacherContradicts({ time: 12, event: true }, 0.5)).toBe(false);
    expect(teacherContradicts({ time: 12, event: false }, 0.5)).toBe(false);
  });

  it('reads the teacher curve at the observed time', () => {
    const seen: number[] = [];
    distillMask({ time: 37.5, event: false }, (t) => (seen.push(t), 0.9));
    expect(seen).toEqual([37.5]);
  });

  it('gives 0 (no distillation term) for a case without a teacher answer', () => {
    expect(distillMask({ time: 10, event: true }, null)).toBe(0);
    expect(distillMask({ time: 10, event: false }, undefined)).toBe(0);
  });

  it('rejects a teacher value that is not a probability', () => {
    expect(() => distillMask({ time: 10, event: true }, flat(1.5))).toThrow(/must be a probability in \[0, 1\], found 1.5/);
    expect(() => distillMask({ time: 10, event: true }, flat(Number.NaN))).toThrow(/found NaN/);
  });
});
