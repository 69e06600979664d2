import { describe, expect, it } from 'vitest';
import {
  answerCurve,
  answerSchema,
  answerText,
  DEFAULT_HORIZONS,
  exponentialCurve,
  exponentialRate,
  parseAnswer,
  readAnswerText,
} from '../../../plugins/llm-distill/teacher-answer.js';

const H = [12, 24, 36, 60];
const where = 'case 3A_001';

describe('answer schema and parsing', () => {
  it('asks for exactly horizons.length probabilities in [0, 1] and an explanation of at most 300 characters, nothing else', () => {
    expect(DEFAULT_HORIZONS).toEqual(H);
    expect(answerSchema(H)).toEqual({
      type: 'object',
      properties: {
        survival: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 4, maxItems: 4 },
        explanation: { type: 'string', maxLength: 300 },
      },
      required: ['survival', 'explanation'],
      additionalProperties: false,
    });
  });

  it('parses a conforming answer and keeps its horizons', () => {
    const a = parseAnswer('{"survival":[0.9,0.8,0.7,0.5],"explanation":"Low grade, no invasion."}', H, where);
    expect(a).toEqual({ horizons: H, survival: [0.9, 0.8, 0.7, 0.5], explanation: 'Low grade, no invasion.' });
  });

  it.each([
    ['not JSON', '{"survival": [0.9', /not JSON/],
    ['too few probabilities', '{"survival":[0.9,0.8,0.7],"explanation":""}', /survival must NOT have fewer than 4 items/],
    ['too many probabilities', '{"survival":[0.9,0.8,0.7,0.6,0.5],"explanation":""}', /survival must NOT have more than 4 items/],
    ['a probability above 1', '{"survival":[0.9,1.2,0.7,0.5],"explanation":""}', /survival\/1 must be <= 1/],
    ['a negative probability', '{"survival":[0.9,0.8,-0.1,0.5],"explanation":""}', /survival\/2 must be >= 0/],
    ['no explanation', '{"survival":[0.9,0.8,0.7,0.5]}', /must have required property 'explanation'/],
    ['an extra key', '{"survival":[0.9,0.8,0.7,0.5],"explanation":"","risk":1}', /additional properties/],
    ['a long explanation', JSON.stringify({ survival: [0.9, 0.8, 0.7, 0.5], explanation: 'x'.repeat(301) }), /explanation must NOT have more than 300 characters/],
  ])('rejects %s, saying where and what', (_name, text, problem) => {
    expect(() => parseAnswer(text, H, where)).toThrow(problem);
    expect(() => parseAnswer(text, H, where)).toThrow(/^case 3A_001: expected a survival answer/);
  });

  it('rejects bad horizons', () => {
    expect(() => parseAnswer('{}', [], where)).toThrow(/horizons must be a non-empty array/);
    expect(() => parseAnswer('{}', [12, 12], where)).toThrow(/strictly increasing/);
    expect(() => parseAnswer('{}', [0, 12], where)).toThrow(/horizons\[0\] must be a finite number > 0/);
  });

  it('stores the canonical JSON { horizons, survival, explanation } and reads it back', () => {
    const a = { horizons: [6, 12], survival: [0.75, 0.5], explanation: 'pT2, LVI present.' };
    const text = answerText(a);
    expect(text).toBe('{"horizons":[6,12],"survival":[0.75,0.5],"explanation":"pT2, LVI present."}');
    expect(readAnswerText(text, where)).toEqual(a);
    expect(() => readAnswerText('High risk.', where)).toThrow(/case 3A_001: expected a stored survival answer .*not JSON/);
    expect(() => readAnswerText('{"survival":[0.5],"explanation":""}', where)).toThrow(/horizons must be a non-empty array/);
    expect(() => readAnswerText('{"horizons":[6,12],"survival":[0.5],"explanation":""}', where)).toThrow(/fewer than 2 items/);
  });
});

describe('exponential fit S(t) = exp(-lambda t), lambda = sum t (-log s) / sum t^2', () => {
  it('recovers lambda exactly from probabilities on an exponential curve', () => {
    const s = H.map((t) => Math.exp(-0.01 * t));
    expect(exponentialRate(H, s)).toBeCloseTo(0.01, 12);
  });

  it('matches hand-computed values', () => {
    // one horizon: lambda = -log(0.5) / 10
    expect(exponentialRate([10], [0.5])).toBeCloseTo(Math.LN2 / 10, 12);
    // t = [1, 2], -log s = [1, 1]: lambda = (1 + 2) / (1 + 4) = 0.6
    expect(exponentialRate([1, 2], [Math.exp(-1), Math.exp(-1)])).toBeCloseTo(0.6, 12);
    // t = [12, 24], s = [0.9, 0.8]: (12 * 0.1053605157 + 24 * 0.2231435513) / (144 + 576) = 6.6197712 / 720
    expect(exponentialRate([12, 24], [0.9, 0.8])).toBeCloseTo(6.61977124 / 720, 9);
  });

  it('clamps probabilities into [1e-3, 1 - 1e-3] before the log', () => {
    // s = 0 -> -log(1e-3) = 6.907755; s = 1 -> -log(0.999) = 0.0010005003
    expect(exponentialRate([10], [0])).toBeCloseTo(6.907755279 / 10, 9);
    expect(exponentialRate([10], [1])).toBeCloseTo(0.00100050033 / 10, 12);
    expect(exponentialRate([10, 20], [1, 0])).toBeCloseTo((10 * 0.00100050033 + 20 * 6.907755279) / 500, 9);
  });

  it('evaluates the curve at any time >= 0', () => {
    const curve = answerCurve({ survival: [0.5] }, [10]);
    expect(curve.lambda).toBeCloseTo(Math.LN2 / 10, 12);
    expect(curve.at(0)).toBe(1);
    expect(curve.at(10)).toBeCloseTo(0.5, 12);
    expect(curve.at(20)).toBeCloseTo(0.25, 12);
    expect(Array.from(curve.on([5, 30]))).toEqual([Math.exp(-curve.lambda * 5), Math.exp(-curve.lambda * 30)]);
    expect(() => curve.at(-1)).toThrow(/time must be >= 0/);
    expect(() => exponentialCurve(Number.NaN)).toThrow(/lambda must be a finite number >= 0/);
    expect(() => exponentialRate([12, 24], [0.5])).toThrow(/one probability per horizon/);
  });
});
