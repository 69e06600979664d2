import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SurvivalLabel } from '../../../core/contracts/survival-label.js';
import { SeededRandom } from '../../../core/services/random.js';
import { coxNegLogLikFloat64 } from '../../../core/survival/cox-loss.js';
import { CoxHead, coxHeadSpec, eventTimeGrid, type CoxHeadOptions } from '../../../plugins/common/cox-head.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { assignWeights, expectGradientOnEveryVariable, maxAbsDiff, snapshotWeights } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const opts = (o: Partial<CoxHeadOptions> = {}): CoxHeadOptions => optionsWithDefaults(coxHeadSpec, o);

function randomZ(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}

// tied event times at 5 (so breslow and efron differ), censored cases inside the risk sets
const labels: SurvivalLabel[] = [
  { time: 5, event: true }, { time: 5, event: true }, { time: 7, event: false }, { time: 2, event: true },
  { time: 9, event: true }, { time: 5, event: false }, { time: 11, event: false }, { time: 3, event: true },
];
const nEvents = labels.filter((l) => l.event).length;

describe('cox head', () => {
  it('has a conforming options schema: hidden null, ties breslow, gridSize 50', () => {
    expect(schemaProblems(coxHeadSpec)).toEqual([]);
    expect(coxHeadSpec.id).toBe('cox');
    expect(opts()).toEqual({ hidden: null, ties: 'breslow', gridSize: 50 });
  });

  it('forward is z w (no bias); the loss equals coxNegLogLikFloat64 / events for breslow and efron ties', () => {
    for (const ties of ['breslow', 'efron'] as const) {
      const head = new CoxHead(opts({ ties }), testContext('head'));
      head.build(4);
      expect(head.variables.map((v) => v.shape)).toEqual([[4, 1]]);
      const z = randomZ(labels.length, 4, 1);
      const out = head.forward(z);
      const w = head.variables[0]!.dataSync();
      const zr = z.arraySync();
      expect(maxAbsDiff(out.dataSync(), zr.map((r) => r.reduce((s, x, i) => s + x * w[i]!, 0)))).toBeLessThan(1e-6);
      const risks = Array.from(out.dataSync());
      const loss = head.loss(out, labels);
      const expected = coxNegLogLikFloat64(risks, labels.map((l) => l.time), labels.map((l) => l.event), ties) / nEvents;
      expect(loss.dataSync()[0]!).toBeCloseTo(expected, 5);
      tf.dispose([z, out, loss]);
      head.dispose();
    }
    // the two tie rules give different values on this batch, so the option really is passed through
    const r = [0.3, -0.2, 0.1, 0.5, -0.4, 0.2, 0, 0.7];
    const t = labels.map((l) => l.time);
    const e = labels.map((l) => l.event);
    expect(Math.abs(coxNegLogLikFloat64(r, t, e, 'breslow') - coxNegLogLikFloat64(r, t, e, 'efron'))).toBeGreaterThan(1e-3);
  });

  it('stays finite (0) for one case or no event, warning once through the logger and then at debug level', () => {
    const ctx = testContext('head');
    const head = new CoxHead(opts(), ctx);
    head.build(3);
    const z1 = randomZ(1, 3, 2);
    const z2 = randomZ(2, 3, 3);
    const l1 = head.loss(head.forward(z1), [{ time: 4, event: true }]);
    const l2 = head.loss(head.forward(z2), [{ time: 4, event: false }, { time: 6, event: false }]);
    expect([l1.dataSync()[0], l2.dataSync()[0]]).toEqual([0, 0]);
    const warns = ctx.memory.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]!.message).toMatch(/^head: coxPartialLikelihoodLoss: a batch of 1 case\(s\) with 1 event\(s\) has no pair to rank/);
    expect(ctx.memory.lines.filter((l) => l.level === 'debug').map((l) => l.message)).toEqual([expect.stringMatching(/degenerate Cox batch #2/)]);
    tf.dispose([z1, z2, l1, l2]);
    head.dispose();
  });

  it('hidden adds Linear + ReLU; gradients reach every variable; training leaks no tensor and lowers the loss', () => {
    const head = new CoxHead(opts({ hidden: 6 }), testContext('head'));
    head.build(4);
    expect(head.variables.map((v) => v.shape)).toEqual([[4, 6], [6], [6, 1]]);
    const z = randomZ(labels.length, 4, 4);
    const loss = () => head.loss(head.forward(z), labels);
    expectGradientOnEveryVariable(head.variables, loss, 'cox');
    const lossValue = () => { const l = tf.tidy(loss); const v = l.dataSync()[0]!; l.dispose(); return v; };
    const before = tf.memory().numTensors;
    const out = head.forward(z);
    head.predict(out);
    tf.dispose([out, tf.tidy(loss)]);
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.05);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, head.variables); });
    step();
    const afterFirst = tf.memory().numTensors;
    const l0 = lossValue();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(lossValue()).toBeLessThan(l0);
    opt.dispose();
    z.dispose();
    head.dispose();
  });

  it('predicts risk only before fitBaseline; after it, Breslow survival on the event times, as computed by hand', () => {
    const head = new CoxHead(opts(), testContext('head'));
    head.build(1);
    const out = tf.tensor2d([[0], [Math.log(2)], [0], [1]]);
    const before = head.predict(out);
    expect(before.map((p) => Object.keys(p))).toEqual([['risk'], ['risk'], ['risk'], ['risk']]);
    expect(before[1]!.risk).toBeCloseTo(Math.log(2), 6);
    // training fold: t=1 event (r=0), t=2 event (r=ln 2), t=3 censored (r=0)
    // H0(1) = 1 / (1 + 2 + 1) = 1/4; H0(2) = 1/4 + 1 / (2 + 1) = 7/12
    head.fitBaseline([0, Math.log(2), 0], [{ time: 1, event: true }, { time: 2, event: true }, { time: 3, event: false }]);
    const after = head.predict(out);
    for (const [i, r] of [0, Math.log(2), 0, 1].entries()) {
      expect(Array.from(after[i]!.times!)).toEqual([1, 2]);
      expect(maxAbsDiff(after[i]!.survival!, [Math.exp(-0.25 * Math.exp(r)), Math.exp((-7 / 12) * Math.exp(r))])).toBeLessThan(1e-6);
    }
    expect(head.state()).toEqual({ baseline: { ties: 'breslow', time: [1, 2], cumHazard: [expect.closeTo(0.25, 12), expect.closeTo(7 / 12, 12)] } });
    out.dispose();
    head.dispose();
  });

  it('keeps at most gridSize event times (evenly spaced ranks, first and last kept); a fold without events warns', () => {
    const many: SurvivalLabel[] = Array.from({ length: 200 }, (_, i) => ({ time: i + 1, event: i % 2 === 0 }));
    const grid = eventTimeGrid(many, 50);
    expect(grid).toHaveLength(50);
    expect(grid[0]).toBe(1);
    expect(grid[49]).toBe(199);
    expect(grid.every((t, k) => k === 0 || t > grid[k - 1]!)).toBe(true);
    expect(eventTimeGrid(many.slice(0, 6), 50)).toEqual([1, 3, 5]);
    const ctx = testContext('head');
    const head = new CoxHead(opts({ gridSize: 10 }), ctx);
    head.build(1);
    head.fitBaseline(many.map((_, i) => (i % 7) / 7), many);
    const out = tf.tensor2d([[0.3]]);
    const [p] = head.predict(out);
    expect(p!.times).toHaveLength(10);
    expect(p!.survival!.every((s, k) => s >= 0 && s <= 1 && (k === 0 || s <= p!.survival![k - 1]!))).toBe(true);
    expect(p!.survival![9]!).toBeLessThan(p!.survival![0]!);
    head.fitBaseline([0, 1], [{ time: 3, event: false }, { time: 4, event: false }]);
    expect(head.predict(out)[0]).toEqual({ risk: expect.closeTo(0.3, 6) });
    expect(ctx.memory.lines.some((l) => l.level === 'warn' && /head: no event among the 2 training cases, so no baseline hazard/.test(l.message))).toBe(true);
    expect(() => head.fitBaseline([1], many)).toThrow(/head: fitBaseline needs one risk per label, found 1 risks and 200 labels/);
    out.dispose();
    head.dispose();
  });

  it('seeded init; state -> JSON -> restore plus copied weights reproduces risks and curves', () => {
    const a = new CoxHead(opts({ hidden: 3 }), testContext('head', 1));
    const b = new CoxHead(opts({ hidden: 3 }), testContext('head', 1));
    const c = new CoxHead(opts({ hidden: 3 }), testContext('head', 2));
    [a, b, c].forEach((h) => h.build(4));
    expect(maxAbsDiff(a.variables[0]!.dataSync(), b.variables[0]!.dataSync())).toBe(0);
    expect(maxAbsDiff(a.variables[0]!.dataSync(), c.variables[0]!.dataSync())).toBeGreaterThan(0.01);
    const z = randomZ(labels.length, 4, 5);
    const oa = a.forward(z);
    a.fitBaseline(Array.from(oa.dataSync()), labels);
    const fresh = new CoxHead(opts({ hidden: 3 }), testContext('head', 7));
    fresh.build(4);
    fresh.restore(JSON.parse(JSON.stringify(a.state())));
    assignWeights(fresh.variables, snapshotWeights(a.variables), 'cox');
    const of = fresh.forward(z);
    const [pa, pf] = [a.predict(oa), fresh.predict(of)];
    expect(pf).toEqual(pa);
    expect(pa[0]!.times!.length).toBe(4); // event times 2, 3, 5, 9
    expect(() => fresh.restore({ baseline: { ties: 'breslow', time: [2, 1], cumHazard: [0.1, 0.2] } })).toThrow(/head: saved Cox baseline: time must be finite, > 0 and strictly increasing/);
    fresh.restore({ baseline: null });
    expect(Object.keys(fresh.predict(of)[0]!)).toEqual(['risk']);
    tf.dispose([z, oa, of]);
    [a, b, c, fresh].forEach((h) => h.dispose());
  });
});
