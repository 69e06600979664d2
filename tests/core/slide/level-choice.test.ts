import { describe, expect, it } from 'vitest';
import { chooseLevel, resolveBaseMpp } from '../../../core/slide/level-choice.js';
import type { PyramidLevel } from '../../../core/slide/pyramid.js';

// a 0.25 um/px (40x) scan with levels at 1, 2, 4, 16 (0.25, 0.5, 1.0, 4.0 um/px)
const levels: PyramidLevel[] = [1, 2, 4, 16].map((d, index) => ({ index, width: 64000 / d, height: 32000 / d, downsample: d }));

describe('chooseLevel', () => {
  it.each([
    // target, expected level, its mpp, patch side at that level for patchSize 224
    [0.5, 1, 0.5, 224],
    [1.0, 2, 1.0, 224],
    [1.05, 2, 1.0, 235], // 1.0 is below the target: read 235 px, resize to 224
    [0.95, 2, 1.0, 213], // 1.0 is 5 % coarser than 0.95 (within 10 %): closest wins
    [0.88, 1, 0.5, 394], // 1.0 is 14 % coarser: not allowed, so 0.5
    [3.0, 2, 1.0, 672], // 4.0 is far coarser than 3.0; 1.0 is the closest finer level
    [4.2, 3, 4.0, 235],
  ])('target %s um/px -> level %s (%s um/px), %s px per patch', (target, level, mpp, size) => {
    const c = chooseLevel(levels, 0.25, target, 224);
    expect([c.level, c.levelMpp, c.sizeAtLevel]).toEqual([level, mpp, size]);
    expect(c.sizeLevel0).toBe(size * levels[level]!.downsample);
    expect(c.warning).toBeUndefined();
  });

  it('a target finer than level 0 reads level 0 and warns that patches are upsampled', () => {
    const c = chooseLevel(levels, 0.25, 0.1, 224);
    expect([c.level, c.sizeAtLevel]).toEqual([0, 90]);
    expect(c.warning).toMatch(/level 0 is 0\.25 um\/px, coarser than the target 0\.1 um\/px: patches are upsampled \(2\.5x\)/);
  });
});

describe('resolveBaseMpp', () => {
  it('prefers the file, warns when baseMpp disagrees, falls back to baseMpp, else says to set it', () => {
    const w: string[] = [];
    expect(resolveBaseMpp('a.tif', 0.25, null, w)).toBe(0.25);
    expect(resolveBaseMpp('a.tif', 0.25, 0.26, w)).toBe(0.25);
    expect(w).toEqual([]);
    expect(resolveBaseMpp('a.tif', 0.25, 0.5, w)).toBe(0.25);
    expect(w[0]).toMatch(/^a\.tif: the TIFF says 0\.25 um\/px at level 0; baseMpp 0\.5 of the spec is ignored/);
    expect(resolveBaseMpp('a.tif', null, 0.5, w)).toBe(0.5);
    expect(() => resolveBaseMpp('a.tif', null, null, w)).toThrow(/^a\.tif: the slide has no physical resolution .*set "baseMpp" in the extractor spec/);
  });
});
