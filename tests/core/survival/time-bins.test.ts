import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../core/services/random.js';
import { binOf, binsOf, EDGE_STRETCH, timeBinsFromEvents, validateTimeBins } from '../../../core/survival/time-bins.js';

function rAvailable(): boolean {
  try {
    execFileSync('Rscript', ['-e', 'invisible(0)'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
const hasR = rAvailable();

/** SurvPath's binning, written from its source (dataset_survival.py `_create_bins`): pd.cut(right=False). */
function survPathBin(edges: number[], t: number): number {
  for (let k = 0; k < edges.length - 1; k++) if (edges[k]! <= t && t < edges[k + 1]!) return k;
  return NaN;
}

describe('timeBinsFromEvents', () => {
  it('cuts at the type-7 quartiles of the event times; first edge 0, last = max(all times) + 1e-6', () => {
    // events at 1..8 (quartiles by hand: positions 1.75, 3.5, 5.25 -> 2.75, 4.5, 6.25); a censored case at 20
    const time = [1, 2, 3, 4, 5, 6, 7, 8, 20, 3.5];
    const event = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    const { edges } = timeBinsFromEvents(time, event);
    expect(edges).toHaveLength(5);
    expect(edges.slice(0, 4)).toEqual([0, 2.75, 4.5, 6.25]);
    expect(edges[4]).toBe(20 + EDGE_STRETCH);
    expect(EDGE_STRETCH).toBe(1e-6);
    // censored times do not move the inner edges
    expect(timeBinsFromEvents([...time, 4.4, 4.6], [...event, 0, 0]).edges.slice(0, 4)).toEqual([0, 2.75, 4.5, 6.25]);
    // booleans and other bin counts
    expect(timeBinsFromEvents(time, event.map((e) => e === 1), { bins: 2 }).edges).toEqual([0, 4.5, 20 + 1e-6]);
    expect(timeBinsFromEvents(time, event, { bins: 1 }).edges).toEqual([0, 20 + 1e-6]);
  });

  it('assigns every training case the bin SurvPath assigns (pd.cut, left-closed, outer edges min - eps / max + eps)', () => {
    const rng = new SeededRandom(7).fork('bins-survpath');
    let checked = 0;
    for (let rep = 0; rep < 20; rep++) {
      const n = 40 + rng.int(60);
      const time = Array.from({ length: n }, () => 1 + rng.int(80) / 2); // ties, some times on the quartiles
      const event = Array.from({ length: n }, () => (rng.uniform() < 0.6 ? 1 : 0));
      if (!event.includes(1)) continue;
      let bins;
      try {
        bins = timeBinsFromEvents(time, event);
      } catch {
        continue; // tied quartiles: pandas qcut raises as well
      }
      const survPathEdges = [Math.min(...time) - 1e-6, ...bins.edges.slice(1, 4), Math.max(...time) + 1e-6];
      for (const t of time) expect(binOf(bins.edges, t)).toBe(survPathBin(survPathEdges, t));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it.skipIf(!hasR)('inner edges equal R quantile(type = 7) of the event times (needs Rscript)', () => {
    const rng = new SeededRandom(11).fork('bins-r');
    const time = Array.from({ length: 57 }, () => Math.round(rng.uniform() * 3000) / 10 + 0.1);
    const event = time.map(() => (rng.uniform() < 0.5 ? 1 : 0));
    const ev = time.filter((_, i) => event[i] === 1);
    const script = `x <- c(${ev.join(',')}); cat(sprintf('%.17g', quantile(x, c(1, 2, 3) / 4, type = 7)), sep = ' ')`;
    const r = execFileSync('Rscript', ['-e', script], { encoding: 'utf8' }).trim().split(' ').map(Number);
    const { edges } = timeBinsFromEvents(time, event);
    for (let k = 0; k < 3; k++) expect(Math.abs(edges[k + 1]! - r[k]!)).toBeLessThan(1e-12);
  });

  it('explains what to do for no events, too few distinct event times and tied quartiles', () => {
    expect(() => timeBinsFromEvents([1, 2, 3], [0, 0, 0])).toThrow(/no event \(all 3 cases censored\).*stratify the split/);
    expect(() => timeBinsFromEvents([1, 2, 3, 4], [1, 1, 1, 0])).toThrow(
      /4 bins need at least 4 distinct event times in the training fold, found 3 \(3 events\); use bins: 3 or fewer/,
    );
    expect(() => timeBinsFromEvents([1, 1, 1, 1, 1, 2, 3, 4], [1, 1, 1, 1, 1, 1, 1, 1])).toThrow(
      /quantiles at 0 and 0.25 are both 1 .*Bin edges must be unique.*use fewer bins than 4/,
    );
    expect(() => timeBinsFromEvents([1, NaN], [1, 1])).toThrow(/time\[1\] must be a finite number >= 0, found NaN/);
    expect(() => timeBinsFromEvents([1, -2], [1, 1])).toThrow(/time\[1\] must be a finite number >= 0, found -2/);
    // a follow-up of 0 is allowed (real cohorts have them), but not as a quantile equal to the first edge
    expect(timeBinsFromEvents([0, 1, 2, 3, 4], [0, 1, 1, 1, 1]).edges.slice(0, 4)).toEqual([0, 1.75, 2.5, 3.25]);
    expect(() => timeBinsFromEvents([0, 0, 0, 1, 2, 3], [1, 1, 1, 1, 1, 1])).toThrow(/quantiles at 0 and 0.25 are both 0/);
    expect(() => timeBinsFromEvents([1, 2], [1, 2])).toThrow(/event\[1\] must be a boolean or 0\/1, found 2/);
    expect(() => timeBinsFromEvents([1, 2], [1])).toThrow(/same length, found 2 and 1/);
    expect(() => timeBinsFromEvents([1, 2], [1, 1], { bins: 0 })).toThrow(/bins must be an integer >= 1/);
  });

  it('round-trips through JSON and validates what it reads', () => {
    const bins = timeBinsFromEvents([1, 2, 3, 4, 5, 9], [1, 1, 1, 1, 1, 0]);
    expect(validateTimeBins(JSON.parse(JSON.stringify(bins)))).toEqual(bins);
    expect(() => validateTimeBins({ edges: [0] }, 'model.json bins')).toThrow(/model.json bins: expected \{ edges: number\[\] \}/);
    expect(() => validateTimeBins({ edges: [1, 2] })).toThrow(/edges\[0\] must be 0, found 1/);
    expect(() => validateTimeBins({ edges: [0, 2, 2] })).toThrow(/strictly increasing.*edges\[1\] = 2 >= edges\[2\] = 2/);
    expect(() => validateTimeBins({ edges: [0, 'a'] })).toThrow(/edges\[1\] must be a finite number/);
  });
});

describe('binOf', () => {
  const edges = [0, 2.75, 4.5, 6.25, 20.000001];
  it('is left-closed: a time on an inner edge goes to the later bin; past the last edge -> the last bin', () => {
    expect(binOf(edges, 0)).toBe(0);
    expect(binOf(edges, 2.7499)).toBe(0);
    expect(binOf(edges, 2.75)).toBe(1);
    expect(binOf(edges, 4.5)).toBe(2);
    expect(binOf(edges, 6.25)).toBe(3);
    expect(binOf(edges, 20)).toBe(3);
    expect(binOf(edges, 20.000001)).toBe(3);
    expect(binOf(edges, 1e9)).toBe(3);
    expect(Array.from(binsOf(edges, [1, 3, 5, 7]))).toEqual([0, 1, 2, 3]);
  });

  it('rejects negative and NaN times, naming the index in binsOf', () => {
    expect(() => binOf(edges, -1)).toThrow(/finite number >= 0 \(the first edge\), found -1/);
    expect(() => binOf(edges, NaN)).toThrow(/found NaN/);
    expect(() => binsOf(edges, [1, NaN])).toThrow(/binsOf: time\[1\]/);
    expect(() => binOf([0], 1)).toThrow(/at least 2 edges/);
  });

  it('property: edges[k] <= t < edges[k+1] for the bin k of any t inside the grid', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0, max: 200, noNaN: true }),
        (gaps, t) => {
          const e = [0];
          for (const g of gaps) e.push(e.at(-1)! + g);
          const k = binOf(e, t);
          expect(k).toBeGreaterThanOrEqual(0);
          expect(k).toBeLessThan(e.length - 1);
          expect(e[k]!).toBeLessThanOrEqual(t);
          if (k < e.length - 2) expect(t).toBeLessThan(e[k + 1]!);
          else if (t < e.at(-1)!) expect(t).toBeLessThan(e[k + 1]!);
        },
      ),
    );
  });
});
