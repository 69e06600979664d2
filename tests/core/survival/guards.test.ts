import { describe, expect, it } from 'vitest';
import {
  caseTimeMatrix,
  checkSameLength,
  evaluationTimes,
  eventArray,
  finiteArray,
  NoComparablePairsError,
  requireEvents,
  survivalLabels,
  timeArray,
} from '../../../core/survival/guards.js';

describe('survival guards', () => {
  it('finiteArray names the index and the value', () => {
    expect(() => finiteArray('f', 'risk', [1, 2, Number.POSITIVE_INFINITY])).toThrow('f: risk[2] must be a finite number, found Infinity');
    expect(() => finiteArray('f', 'risk', [Number.NaN])).toThrow('f: risk[0] must be a finite number, found NaN');
    expect(finiteArray('f', 'risk', [1, 2])).toEqual(Float64Array.from([1, 2]));
  });

  it('times must be >= 0 (0 is allowed: real cohorts have it); events boolean or 0/1', () => {
    expect(timeArray('f', [0, 1])).toEqual(Float64Array.from([0, 1]));
    expect(() => timeArray('f', [1, -0.5])).toThrow('f: time[1] must be >= 0 (a follow-up time), found -0.5');
    expect(eventArray('f', [true, false, 1, 0])).toEqual(Uint8Array.from([1, 0, 1, 0]));
    expect(() => eventArray('f', [1, 2])).toThrow(/event\[1\] must be a boolean or 0\/1 \(1 = event observed\), found 2/);
  });

  it('lengths: all names and lengths in the message', () => {
    expect(() => checkSameLength('f', { time: 3, event: 3, risk: 2 })).toThrow('f: time, event and risk must have the same length, found 3, 3 and 2');
    expect(() => survivalLabels('f', [], [])).toThrow(/no cases/);
    expect(() => requireEvents('f', survivalLabels('f', [1, 2], [0, 0]))).toThrow(/no events among 2 cases/);
  });

  it('evaluation times: inside [min, max) of follow-up, increasing; the message says what to do', () => {
    const time = Float64Array.from([2, 5, 9, 20]);
    expect(evaluationTimes('f', [2, 5, 19.9], time)).toEqual(Float64Array.from([2, 5, 19.9]));
    expect(() => evaluationTimes('f', [5, 20], time)).toThrow(
      'f: evaluation time times[1] = 20 is outside the follow-up range [2, 20) of the data (the censoring weights are ' +
        'undefined at or after the last follow-up time); pass times with min(time) <= t < max(time), e.g. quantiles of ' +
        'the observed event times',
    );
    expect(() => evaluationTimes('f', [1.5], time)).toThrow(/times\[0\] = 1.5 is outside/);
    expect(() => evaluationTimes('f', [5, 5], time)).toThrow(/strictly increasing, found times\[0\] = 5 and times\[1\] = 5/);
    expect(() => evaluationTimes('f', [], time)).toThrow(/empty/);
  });

  it('caseTimeMatrix checks the shape, finiteness and, for probabilities, the range', () => {
    expect(caseTimeMatrix('f', 'S', [[0.1, 0.2], [0.3, 0.4]], 2, 2, true)).toEqual(Float64Array.from([0.1, 0.2, 0.3, 0.4]));
    expect(() => caseTimeMatrix('f', 'S', [[0.1, 0.2]], 2, 2)).toThrow(/one row per case \(2 rows of 2 values\), found 1 rows/);
    expect(() => caseTimeMatrix('f', 'S', [[0.1], [0.3, 0.4]], 2, 2)).toThrow(/S\[0\] must hold 2 values/);
    expect(() => caseTimeMatrix('f', 'S', [[0.1, -0.2], [0.3, 0.4]], 2, 2, true)).toThrow(/S\[0\]\[1\] must be a probability/);
  });

  it('NoComparablePairsError is an Error with its own name', () => {
    const e = new NoComparablePairsError('x');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NoComparablePairsError');
  });
});
