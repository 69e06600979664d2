import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../../core/registry/did-you-mean.js';

describe('didYouMean', () => {
  it('computes edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('abmil', 'ABMIL')).toBe(0);
  });
  it('suggests the closest id', () => {
    expect(didYouMean('abmli', ['abmil', 'transmil', 'snn'])[0]).toBe('abmil');
    expect(didYouMean('bilinear', ['chimera.lowrank-bilinear', 'concat'])).toEqual(['chimera.lowrank-bilinear']);
    expect(didYouMean('zzzzzz', ['abmil', 'snn'])).toEqual([]);
  });
});
