import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../core/contracts/case.js';
import type { KnowledgeText } from '../../../core/contracts/knowledge-source.js';
import type { SurvivalLabel } from '../../../core/contracts/survival-label.js';
import { SeededRandom } from '../../../core/services/random.js';
import { discreteNllFloat64 } from '../../../core/survival/discrete-nll.js';
import { distillationPerCase } from '../../../plugins/llm-distill/distill-loss.js';
import { StudentHead, studentHeadSpec, type StudentHeadOptions } from '../../../plugins/llm-distill/student-head.js';
import { answerText } from '../../../plugins/llm-distill/teacher-answer.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { expectGradientOnEveryVariable, maxAbsDiff } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// events at 2, 4, 6, 8, 10; censored at 3 and 12: bins [0, 4), [4, 6), [6, 8), [8, 12 + 1e-6)
const labels: SurvivalLabel[] = [
  { time: 2, event: true }, { time: 3, event: false }, { time: 4, event: true }, { time: 6, event: true },
  { time: 8, event: true }, { time: 10, event: true }, { time: 12, event: false },
];
const BINS = [0, 0, 1, 2, 3, 3, 3];
const EDGES = [0, 4, 6, 8, 12 + 1e-6];
/** Horizons of the constructed answers: short, so that no probability is clamped (the fit then returns lambda exactly). */
const H = [1, 2, 4];

/** A stored answer on the exponential curve exp(-lambda t) (the head reads the horizons from the text). */
const answerOn = (lambda: number, explanation = `lambda ${lambda}`) =>
  answerText({ horizons: H, survival: H.map((t) => Math.exp(-lambda * t)), explanation });
const knowledge = (role: 'teacher' | 'verbalised', text: string): KnowledgeText => ({ role, field: role, text });
const withTeachers = (lambdas: (number | null)[]): Case[] =>
  labels.map((label, i) => ({ id: `t${i}`, label, knowledge: lambdas[i] === null ? [] : [knowledge('teacher', answerOn(lambdas[i]!))] }));
const train: Case[] = labels.map((label, i) => ({ id: `t${i}`, label }));

const opts = (o: Partial<StudentHeadOptions> = {}): StudentHeadOptions => optionsWithDefaults(studentHeadSpec, o);
function makeHead(o: Partial<StudentHeadOptions> = {}, inDim = 3, seed = 1): StudentHead {
  const head = new StudentHead(opts(o), testContext('head', seed));
  head.build(inDim);
  head.fit(train);
  return head;
}
function randomZ(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => rng.normal()), [rows, cols]);
}
const scalar = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const survivalOf = (row: number[]) => {
  let s = 1;
  return row.map((h) => (s *= 1 - sigmoid(h)));
};
/** mean_k KL(Bern(T_k) || Bern(S_k)), from the definition. */
const klD = (S: number[], T: number[]) =>
  S.reduce((a, s, k) => a + (T[k]! > 0 ? T[k]! * Math.log(T[k]! / s) : 0) + (T[k]! < 1 ? (1 - T[k]!) * Math.log((1 - T[k]!) / (1 - s)) : 0), 0) / S.length;

// Teachers that contradict every outcome: event cases get lambda 0.001 (S_T(time) ~ 0.99 > 0.5), censored ones
// lambda 1 (S_T(3) = 0.05 < 0.5, S_T(12) ~ 0 < 0.5).
const CONTRADICTING = labels.map((l) => (l.event ? 0.001 : 1));
// Teachers that agree with every outcome: events get lambda 0.5 (S_T(2) = 0.37 < 0.5), censored lambda 0.01.
const AGREEING = labels.map((l) => (l.event ? 0.5 : 0.01));

describe('llm-distill.student head', () => {
  it('has a conforming options schema with the documented defaults', () => {
    expect(schemaProblems(studentHeadSpec)).toEqual([]);
    expect(opts()).toEqual({ bins: 4, hidden: null, alpha: 0, distillWeight: 0.5, combine: 0.8 });
    const head = makeHead();
    expect(head.state()!.edges.slice(0, 4)).toEqual(EDGES.slice(0, 4));
    expect(head.variables.map((v) => v.shape)).toEqual([[3, 4], [4]]);
    head.dispose();
  });

  it('loss is the plain NLL without cases, without teacher texts, with distillWeight 0, or when every teacher contradicts the outcome', () => {
    for (const alpha of [0, 0.5]) {
      const head = makeHead({ alpha });
      const zero = makeHead({ alpha, distillWeight: 0 });
      const z = randomZ(labels.length, 3, 2);
      const out = head.forward(z);
      const nll = discreteNllFloat64(out.arraySync(), BINS, labels.map((l) => !l.event), { alpha });
      expect(scalar(head.loss(out, labels))).toBeCloseTo(nll, 5);
      expect(scalar(head.loss(out, labels, train))).toBeCloseTo(nll, 5);
      expect(scalar(head.loss(out, labels, withTeachers(CONTRADICTING)))).toBeCloseTo(nll, 5);
      expect(scalar(zero.loss(out, labels, withTeachers(AGREEING)))).toBeCloseTo(nll, 5);
      expect(scalar(head.loss(out, labels, withTeachers(AGREEING)))).toBeGreaterThan(nll + 1e-3);
      tf.dispose([z, out]);
      head.dispose();
      zero.dispose();
    }
  });

  it('loss = NLL + distillWeight * mean_i mask_i D_i, D the Bernoulli KL to the teacher curve at the upper bin edges', () => {
    const head = makeHead({ distillWeight: 0.7 });
    const z = randomZ(labels.length, 3, 3);
    const out = head.forward(z);
    const rows = out.arraySync();
    // rows 0-2 agree, 3 contradicts (event at 6 with S_T(6) = 0.99), 4 has no teacher, 5-6 agree
    const lambdas = [0.5, 0.01, 0.5, 0.001, null, 0.5, 0.01];
    const mask = [1, 1, 1, 0, 0, 1, 1];
    const cases = withTeachers(lambdas);
    const { mask: got } = head.teacherTargets(EDGES, labels, cases);
    expect(Array.from(got)).toEqual(mask);
    let sum = 0;
    rows.forEach((row, i) => {
      if (!mask[i]) return;
      sum += klD(survivalOf(row), EDGES.slice(1).map((t) => Math.exp(-lambdas[i]! * t)));
    });
    const nll = discreteNllFloat64(rows, BINS, labels.map((l) => !l.event));
    expect(scalar(head.loss(out, labels, cases))).toBeCloseTo(nll + 0.7 * (sum / labels.length), 4);
    tf.dispose([z, out]);
    head.dispose();
  });

  it('sends gradient to every variable, and the distillation term changes it', () => {
    const cases = withTeachers(AGREEING);
    const z = randomZ(labels.length, 3, 4);
    const head = makeHead({ hidden: 5, distillWeight: 1 });
    const plain = makeHead({ hidden: 5, distillWeight: 0 });
    expectGradientOnEveryVariable(head.variables, () => head.loss(head.forward(z), labels, cases), 'student head with teachers');
    const grads = (h: StudentHead) => {
      const { value, grads } = tf.variableGrads(() => h.loss(h.forward(z), labels, cases), h.variables);
      const flat = h.variables.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
      tf.dispose([value, ...Object.values(grads)]);
      return flat;
    };
    expect(maxAbsDiff(grads(head), grads(plain))).toBeGreaterThan(1e-4);
    tf.dispose(z);
    head.dispose();
    plain.dispose();
  });

  it('a few training steps pull the predicted curves toward the teacher (D falls, more than under NLL alone)', () => {
    const cases = withTeachers(AGREEING);
    const z = randomZ(labels.length, 3, 5);
    const meanD = (h: StudentHead) => {
      const { teacher } = h.teacherTargets(h.state()!.edges, labels, cases);
      return tf.tidy(() => tf.mean(distillationPerCase(h.forward(z), teacher)).dataSync()[0]!);
    };
    const trainSteps = (h: StudentHead) => {
      const opt = tf.train.adam(0.05);
      for (let i = 0; i < 30; i++) opt.minimize(() => h.loss(h.forward(z), labels, cases), false, h.variables);
      opt.dispose();
    };
    const distilled = makeHead({ distillWeight: 2 });
    const plain = makeHead({ distillWeight: 0 });
    const before = meanD(distilled);
    expect(meanD(plain)).toBeCloseTo(before, 6);
    trainSteps(distilled);
    trainSteps(plain);
    const after = meanD(distilled);
    expect(after).toBeLessThan(0.7 * before);
    expect(after).toBeLessThan(meanD(plain));
    tf.dispose(z);
    distilled.dispose();
    plain.dispose();
  });

  it('leaks no tensors over training steps and predictions with cases', () => {
    const cases = withTeachers([0.5, 0.01, 0.001, null, 0.5, 0.5, 0.01]).map((c, i) =>
      i % 2 ? { ...c, knowledge: [...c.knowledge!, knowledge('verbalised', answerOn(0.05))] } : c);
    const z = randomZ(labels.length, 3, 6);
    const head = makeHead({ hidden: 4 });
    const opt = tf.train.sgd(0.01);
    const step = () => opt.minimize(() => head.loss(head.forward(z), labels, cases), false, head.variables);
    step();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) step();
    const out = head.forward(z);
    head.predict(out, cases);
    out.dispose();
    expect(tf.memory().numTensors).toBe(after1);
    opt.dispose();
    tf.dispose(z);
    head.dispose();
  });

  describe('predict', () => {
    const z = () => randomZ(2, 3, 7);
    const verbalised = answerOn(0.05, 'Verbalised: pT1, low grade.');
    const teacher = answerOn(0.02, 'Teacher: high grade, LVI.');
    const cases: Case[] = [
      { id: 'a', knowledge: [knowledge('teacher', teacher), knowledge('verbalised', verbalised)] },
      { id: 'b', knowledge: [knowledge('teacher', teacher)] },
    ];
    const times = EDGES.slice(1);
    const verbalisedCurve = times.map((t) => Math.exp(-0.05 * t));

    it.each([1, 0, 0.8, 0.3])('combine %s: S = combine * S_hidden + (1 - combine) * S_verbalised, risk = -sum S', (combine) => {
      const head = makeHead({ combine });
      const zz = z();
      const out = head.forward(zz);
      const hidden = out.arraySync().map(survivalOf);
      const [a, b] = head.predict(out, cases);
      expect(Array.from(a!.times!)).toEqual(times);
      expect(maxAbsDiff(a!.curves!['hidden']!, hidden[0]!)).toBeLessThan(1e-6);
      expect(maxAbsDiff(a!.curves!['verbalised']!, verbalisedCurve)).toBeLessThan(1e-12);
      const expected = hidden[0]!.map((s, k) => combine * s + (1 - combine) * verbalisedCurve[k]!);
      expect(maxAbsDiff(a!.survival!, expected)).toBeLessThan(1e-6);
      if (combine === 1) expect(maxAbsDiff(a!.survival!, hidden[0]!)).toBeLessThan(1e-6);
      if (combine === 0) expect(maxAbsDiff(a!.survival!, verbalisedCurve)).toBeLessThan(1e-12);
      expect(a!.risk).toBeCloseTo(-expected.reduce((x, y) => x + y, 0), 5);
      // no verbalised text: the hidden-state curve alone
      expect(maxAbsDiff(b!.survival!, hidden[1]!)).toBeLessThan(1e-6);
      expect(Object.keys(b!.curves!)).toEqual(['hidden']);
      tf.dispose([zz, out]);
      head.dispose();
    });

    it("passes the verbalised answer's explanation through, else the teacher's, else none", () => {
      const head = makeHead();
      const zz = randomZ(3, 3, 8);
      const out = head.forward(zz);
      const [a, b, c] = head.predict(out, [...cases, { id: 'c' }]);
      expect(a!.explanation).toBe('Verbalised: pT1, low grade.');
      expect(b!.explanation).toBe('Teacher: high grade, LVI.');
      expect(c!.explanation).toBeUndefined();
      expect(head.predict(out).every((p) => p.explanation === undefined)).toBe(true);
      tf.dispose([zz, out]);
      head.dispose();
    });

    it('says which case and role hold a malformed answer text', () => {
      const head = makeHead();
      const zz = randomZ(1, 3, 9);
      const out = head.forward(zz);
      expect(() => head.predict(out, [{ id: 'P7', knowledge: [knowledge('verbalised', 'The prognosis is good.')] }]))
        .toThrow(/head: case P7, knowledge text of role 'verbalised': expected a stored survival answer/);
      expect(() => head.loss(out, [{ time: 3, event: true }], [{ id: 'P8', knowledge: [knowledge('teacher', '{"horizons":[12],"survival":[2],"explanation":""}')] }]))
        .toThrow(/case P8, knowledge text of role 'teacher'.*must be <= 1/);
      tf.dispose([zz, out]);
      head.dispose();
    });
  });

  it('restores its time bins and refuses predictions before fit', () => {
    const a = makeHead();
    const b = new StudentHead(opts(), testContext('head', 2));
    b.build(3);
    const zz = randomZ(1, 3, 10);
    const out = b.forward(zz);
    expect(() => b.predict(out)).toThrow(/call fit\(trainCases\) \(or restore\(state\)\) before loss\/predict/);
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(b.state()).toEqual(a.state());
    expect(() => new StudentHead(opts({ bins: 3 }), testContext('head')).restore(a.state())).toThrow(/saved time bins have 4 bins but the options say bins: 3/);
    tf.dispose([zz, out]);
    a.dispose();
    b.dispose();
  });
});
