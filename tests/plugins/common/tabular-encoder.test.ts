import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case, ClinicalRecord } from '../../../core/contracts/case.js';
import { TabularEncoder, tabularEncoderSpec, type TabularEncoderOptions } from '../../../plugins/common/tabular-encoder.js';
import { optionsWithDefaults, schemaProblems } from '../../support/component-options.js';
import { testContext } from '../../support/context.js';
import { assignWeights, expectGradientOnEveryVariable, maxAbsDiff, readoutLoss, snapshotWeights } from '../../support/tensor-checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const records: ClinicalRecord[] = [
  { age: 60, grade: 1, sex: 'M', stage: 'T1', bmi: 20 },
  { age: 70, grade: 2, sex: 'F', stage: 'T2', bmi: 30 },
  { age: 80, grade: -1, sex: 'M', stage: 'T1', bmi: 25 },
  { age: null, grade: 3, sex: 'F', stage: -1, bmi: 25 },
];
const train: Case[] = records.map((clinical, i) => ({ id: `t${i}`, clinical }));
const opts = (o: Partial<TabularEncoderOptions> = {}): TabularEncoderOptions => optionsWithDefaults(tabularEncoderSpec, o);

// by hand: age mean 70, population sd sqrt(200/3); grade (-1 = missing) mean 2, sd sqrt(2/3); bmi mean 25, sd sqrt(12.5)
const SD_AGE = Math.sqrt(200 / 3);
const SD_GRADE = Math.sqrt(2 / 3);
const SD_BMI = Math.sqrt(12.5);

describe('tabular encoder', () => {
  it('has a conforming options schema; defaults: all fields, indicators and missing columns on, -1 missing, raw vector', () => {
    expect(schemaProblems(tabularEncoderSpec)).toEqual([]);
    expect(tabularEncoderSpec.id).toBe('tabular');
    expect(tabularEncoderSpec.modalities).toEqual(['clinical']);
    expect(opts()).toEqual({ fields: null, missingIndicators: true, missingCategory: true, missingValues: [-1], outDim: null });
  });

  it('standardises numbers, one-hot encodes categories, and marks missing values, as computed by hand', () => {
    const enc = new TabularEncoder(opts(), testContext('encoders.clinical'));
    expect(() => enc.outDim).toThrow(/encoders.clinical: with outDim null the token width is the number of clinical features/);
    enc.fit(train);
    expect(enc.featureNames()).toEqual([
      'age', 'age:missing', 'bmi', 'grade', 'grade:missing', 'sex=F', 'sex=M', 'sex:missing', 'stage=T1', 'stage=T2', 'stage:missing',
    ]);
    expect(enc.outDim).toBe(11);
    expect(enc.variables).toEqual([]);
    const expectRow = (clinical: ClinicalRecord, expected: number[]) => {
      const t = enc.encode({ id: 'p', clinical }, 'eval')!;
      expect(t.shape).toEqual([1, 11]);
      expect(maxAbsDiff(t.dataSync(), expected)).toBeLessThan(1e-6);
      t.dispose();
    };
    expectRow(records[0]!, [-10 / SD_AGE, 0, -5 / SD_BMI, -1 / SD_GRADE, 0, 0, 1, 0, 1, 0, 0]);
    // null, the -1 marker (number and string) and an unseen category -> the missing columns, no error
    expectRow({ age: 75, grade: null, sex: 'X', stage: -1, bmi: 25 }, [5 / SD_AGE, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    expectRow({ age: -1, grade: '-1', sex: null, stage: '-1', bmi: null }, [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    // bmi had no missing value in training: a missing bmi is the mean (0) without an indicator column
    expectRow({}, [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    expect(enc.encode({ id: 'none' }, 'eval')).toBeNull();
    enc.dispose();
  });

  it('numbers and strings mixed in training make a categorical field; a string in a numeric field is missing, with one warning', () => {
    const ctx = testContext('encoders.clinical');
    const enc = new TabularEncoder(opts({ fields: ['grade', 'size'] }), ctx);
    enc.fit([
      { id: 'a', clinical: { grade: 1, size: 2 } },
      { id: 'b', clinical: { grade: 'G3', size: 4 } },
      { id: 'c', clinical: { grade: 2, size: 6 } },
    ]);
    expect(enc.featureNames()).toEqual(['grade=1', 'grade=2', 'grade=G3', 'grade:missing', 'size']);
    const sd = Math.sqrt(8 / 3);
    const a = enc.encode({ id: 'p', clinical: { grade: '2', size: 'large' } }, 'eval')!;
    const b = enc.encode({ id: 'q', clinical: { grade: 2, size: 'huge' } }, 'eval')!;
    expect(Array.from(a.dataSync())).toEqual([0, 1, 0, 0, 0]);
    expect(maxAbsDiff(b.dataSync(), [0, 1, 0, 0, 0])).toBe(0);
    const c = enc.encode({ id: 'r', clinical: { grade: 1, size: '6' } }, 'eval')!;
    expect(maxAbsDiff(c.dataSync(), [1, 0, 0, 0, 2 / sd])).toBeLessThan(1e-6);
    const warnings = ctx.memory.lines.filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.message)).toEqual([
      `encoders.clinical: case p: clinical field 'size' is numeric in training but holds "large"; read as missing`,
    ]);
    tf.dispose([a, b, c]);
    enc.dispose();
  });

  it('missingIndicators and missingCategory off give the sklearn-style vector (unknown categories all zeros)', () => {
    const enc = new TabularEncoder(opts({ missingIndicators: false, missingCategory: false }), testContext('encoders.clinical'));
    enc.fit(train);
    expect(enc.featureNames()).toEqual(['age', 'bmi', 'grade', 'sex=F', 'sex=M', 'stage=T1', 'stage=T2']);
    const t = enc.encode({ id: 'p', clinical: { age: null, bmi: 30, grade: 3, sex: 'X', stage: 'T2' } }, 'eval')!;
    expect(maxAbsDiff(t.dataSync(), [0, 5 / SD_BMI, 1 / SD_GRADE, 0, 0, 0, 1])).toBeLessThan(1e-6);
    t.dispose();
    enc.dispose();
  });

  it('fields picks and orders the columns; a field never seen in training warns and stays (all missing)', () => {
    const ctx = testContext('encoders.clinical');
    const enc = new TabularEncoder(opts({ fields: ['stage', 'age', 'ecog'] }), ctx);
    enc.fit(train);
    expect(enc.featureNames()).toEqual(['stage=T1', 'stage=T2', 'stage:missing', 'age', 'age:missing', 'ecog', 'ecog:missing']);
    expect(ctx.memory.lines.some((l) => l.level === 'warn' && /field 'ecog' is missing in all 4 training records/.test(l.message))).toBe(true);
    const t = enc.encode({ id: 'p', clinical: { stage: 'T2', age: 70, ecog: 2, sex: 'M' } }, 'eval')!;
    // ecog: no training value -> mean 0, sd 1, so 2 stays 2
    expect(maxAbsDiff(t.dataSync(), [0, 1, 0, 0, 0, 2, 0])).toBeLessThan(1e-6);
    t.dispose();
    enc.dispose();
  });

  it('outDim gives ReLU(x W + b) of the feature vector, computed in plain JS; gradients and no leaks', () => {
    const enc = new TabularEncoder(opts({ outDim: 5 }), testContext('encoders.clinical'));
    enc.fit(train);
    expect(enc.outDim).toBe(5);
    const [w, b] = enc.variables.map((v) => v.dataSync());
    expect(enc.variables[0]!.shape).toEqual([11, 5]);
    const x = enc.features(train[1]!)!;
    const expected = Array.from({ length: 5 }, (_, j) => Math.max(0, x.reduce((s, xi, i) => s + xi * w![i * 5 + j]!, b![j]!)));
    const t = enc.encode(train[1]!, 'train')!;
    expect(maxAbsDiff(t.dataSync(), expected)).toBeLessThan(1e-5);
    t.dispose();
    const loss = () => readoutLoss(tf.concat(train.map((c) => enc.encode(c, 'train')!)) as tf.Tensor2D);
    expectGradientOnEveryVariable(enc.variables, loss, 'tabular');
    const before = tf.memory().numTensors;
    tf.dispose(enc.encode(train[0]!, 'eval')!);
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.01);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, enc.variables); });
    step();
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(afterFirst);
    opt.dispose();
    enc.dispose();
  });

  it('seeded init; state -> JSON -> restore on a fresh encoder rebuilds the same vocabulary, scalers and outputs', () => {
    const a = new TabularEncoder(opts({ outDim: 4 }), testContext('encoders.clinical', 1));
    const b = new TabularEncoder(opts({ outDim: 4 }), testContext('encoders.clinical', 1));
    const c = new TabularEncoder(opts({ outDim: 4 }), testContext('encoders.clinical', 2));
    [a, b, c].forEach((e) => e.fit(train));
    expect(maxAbsDiff(a.variables[0]!.dataSync(), b.variables[0]!.dataSync())).toBe(0);
    expect(maxAbsDiff(a.variables[0]!.dataSync(), c.variables[0]!.dataSync())).toBeGreaterThan(0.01);
    const state = JSON.parse(JSON.stringify(a.state()));
    // the state is self-contained: options that shape the vector do not matter at restore
    const fresh = new TabularEncoder(opts({ outDim: 4, missingCategory: false, missingValues: [] }), testContext('encoders.clinical', 3));
    fresh.restore(state);
    expect(fresh.featureNames()).toEqual(a.featureNames());
    assignWeights(fresh.variables, snapshotWeights(a.variables), 'tabular');
    const probe: Case = { id: 'p', clinical: { age: 66, grade: -1, sex: 'F', stage: 'T9' } };
    const [ta, tf2] = [a.encode(probe, 'eval')!, fresh.encode(probe, 'eval')!];
    expect(Array.from(tf2.dataSync())).toEqual(Array.from(ta.dataSync()));
    tf.dispose([ta, tf2]);
    expect(() => fresh.restore({ fields: [{ key: 'age', kind: 'numeric', mean: 1, sd: 0, indicator: true }], missingValues: [], missingCategory: true }))
      .toThrow(/encoders.clinical: expected the saved state of a tabular encoder .*'age'.*sd > 0/);
    [a, b, c, fresh].forEach((e) => e.dispose());
  });

  it('explains wrong modalities and training folds without clinical data', () => {
    expect(() => new TabularEncoder(opts(), testContext('encoders.rna'))).toThrow(/encoders.rna: the 'tabular' encoder reads clinical records/);
    const enc = new TabularEncoder(opts(), testContext('encoders.clinical'));
    expect(() => enc.encode(train[0]!, 'eval')).toThrow(/encoders.clinical: call fit/);
    expect(() => enc.fit([{ id: 'x' }])).toThrow(/encoders.clinical: none of the 1 training cases has clinical data/);
  });
});
