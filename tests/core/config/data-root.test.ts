import { describe, expect, it } from 'vitest';
import { resolveDataRoot } from '../../../core/config/data-root.js';

describe('resolveDataRoot', () => {
  it('resolves relative roots against the config file folder and keeps absolute ones', () => {
    expect(resolveDataRoot({ data: { root: 'cohort' } }, '/work/exp/config.json')).toBe('/work/exp/cohort');
    expect(resolveDataRoot({ data: { root: '../data/t3' } }, '/work/exp/config.json')).toBe('/work/data/t3');
    expect(resolveDataRoot({ data: { root: '/abs/cohort' } }, '/work/exp/config.json')).toBe('/abs/cohort');
  });
  it('names the JSON path when data.root is missing', () => {
    expect(() => resolveDataRoot({}, 'exp.json')).toThrow('exp.json: /data/root: expected the cohort folder (a string), found undefined');
  });
});
