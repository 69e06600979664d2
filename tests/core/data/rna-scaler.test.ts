import { describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import { fitRnaScaler, scaleRna, validateRnaScalerState } from '../../../core/data/rna-scaler.js';

const rna = (genes: string[], values: number[]) => ({ genes, values: Float32Array.from(values) });
// A: 1, 2, 3, 6 (mean 3, population sd sqrt(3.5)); B: 4, 4, 4 (constant) and missing in one case; C only in case 2
const train: Case[] = [
  { id: 'a', rna: rna(['A', 'B'], [1, 4]) },
  { id: 'b', rna: rna(['B', 'A'], [4, 2]) },
  { id: 'c', rna: rna(['A', 'B', 'C'], [3, NaN, 10]) },
  { id: 'd', rna: rna(['A', 'B'], [6, 4]) },
  { id: 'no-rna' },
];

describe('fitRnaScaler / scaleRna', () => {
  it('standard: z-scores with the population sd over non-missing values; constant genes -> sd 1; missing -> mean', () => {
    const s = fitRnaScaler(train, 'standard', 'encoders.rna');
    expect(s.geneOrder).toEqual(['A', 'B', 'C']);
    expect(s.fill).toEqual([3, 4, 10]);
    const x = scaleRna(rna(['C', 'A'], [12, 5]), s);
    expect(x[0]).toBeCloseTo(2 / Math.sqrt(3.5), 6);
    expect(x[1]).toBe(0); // B absent: imputed 4, minus mean 4
    expect(x[2]).toBeCloseTo(2, 6); // C seen once: sd 0 -> 1, so 12 - 10
    expect(scaleRna(rna(['A'], [NaN]), s)[0]).toBe(0); // NaN (null) -> the mean
  });

  it('minmax: the training range of each gene to [-1, 1] (SurvPath); zero range -> 1', () => {
    const s = fitRnaScaler(train, 'minmax', 'encoders.rna');
    const x = scaleRna(rna(['A', 'B', 'C'], [6, 5, 10]), s);
    expect(Array.from(x)).toEqual([1, 1, -1]);
    expect(scaleRna(rna(['A'], [1]), s)[0]).toBe(-1);
    expect(scaleRna(rna(['A'], [3.5]), s)[0]).toBeCloseTo(0, 6);
  });

  it("none: raw values, missing genes get the training mean; extra genes are ignored", () => {
    const s = fitRnaScaler(train, 'none', 'encoders.rna');
    expect(Array.from(scaleRna(rna(['Z', 'A'], [100, 7]), s))).toEqual([7, 4, 10]);
    expect(s.mul).toBeUndefined();
  });

  it('explains bad inputs: no RNA, infinite values, a broken saved state', () => {
    expect(() => fitRnaScaler([{ id: 'x' }], 'standard', 'encoders.rna')).toThrow(/encoders.rna: none of the 1 training cases has RNA/);
    expect(() => fitRnaScaler([{ id: 'x', rna: rna(['A'], [Infinity]) }], 'standard', 'encoders.rna')).toThrow(/encoders.rna: case x: gene "A" is Infinity/);
    const s = JSON.parse(JSON.stringify(fitRnaScaler(train, 'standard', 'w')));
    expect(validateRnaScalerState(s, 'w')).toEqual(s);
    expect(() => validateRnaScalerState({ ...s, mul: [1] }, 'w')).toThrow(/w: RNA scaler state: mul must hold 3 finite numbers \(one per gene\), found 1 values/);
    expect(() => validateRnaScalerState({ ...s, scale: 'log' }, 'w')).toThrow(/scale must be one of none, standard, minmax/);
  });
});
