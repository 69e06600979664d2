import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import type { Case } from '../../../core/contracts/case.js';
import { HashedTextEmbedder } from '../../../core/model/hashed-text-embedder.js';
import {
  createTextEmbedder,
  TextEmbeddingEncoder,
  textEmbeddingEncoderSpec,
  type TextEmbeddingEncoderOptions,
} from '../../../plugins/common/text-embedding-encoder.js';
import { testContext } from '../../support/context.js';
import { checkSpec } from './spec-conformance.js';

const embedder = { type: 'hashed' as const, dim: 32, ngrams: [1, 2], charTrigrams: false };
const opts = (o: Partial<TextEmbeddingEncoderOptions> = {}): TextEmbeddingEncoderOptions => ({
  outDim: 6, roles: ['clinical-prompt', 'report', 'pbk'], texts: [], activation: 'none', dropout: 0, embedder, ...o,
});

const CASE: Case = {
  id: 'c1',
  texts: { report: 'Invasive high-grade carcinoma.', note: '   ' },
  knowledge: [
    { role: 'clinical-prompt', field: 'age', text: 'The age is 71 years old.' },
    { role: 'teacher', text: 'Predicted survival: poor.' },
    { role: 'pbk', text: 'Bladder cancer: muscle invasion predicts poor survival.' },
    { role: 'report', text: '' },
  ],
};

afterEach(() => {
  vi.restoreAllMocks();
});

it('spec: strict schema, {} valid with the documented defaults, modalities knowledge/clinical/report', () => {
  expect(checkSpec(textEmbeddingEncoderSpec)).toEqual({
    outDim: 256, roles: ['clinical-prompt', 'report', 'pbk'], texts: [], activation: 'none', dropout: 0,
    embedder: { type: 'hashed', dim: 512, ngrams: [1, 2], charTrigrams: false },
  });
  expect(textEmbeddingEncoderSpec.modalities).toEqual(['knowledge', 'clinical', 'report']);
});

it('the embedder factory names the valid types', () => {
  expect(createTextEmbedder(embedder, 'encoders.knowledge')!.id).toBe('hashed-v1:d32:w1-2');
  // the LLM embedder is asynchronous: the encoder builds it (prepare), the synchronous factory gives none
  expect(createTextEmbedder({ type: 'llm', llm: 'student' }, 'encoders.knowledge')).toBeNull();
  expect(() => createTextEmbedder({ ...embedder, type: 'bert' as 'hashed' }, 'encoders.knowledge')).toThrow("encoders.knowledge.embedder.type: expected one of 'hashed', 'llm', found \"bert\"");
});

describe.each<BackendName>(['cpu', 'wasm'])('text-embedding on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it('one token per selected text, in order: knowledge of the chosen roles, then Case.texts keys; blank texts skipped', () => {
    const enc = new TextEmbeddingEncoder(opts({ texts: ['report', 'note', 'absent'] }), testContext('encoders.knowledge'));
    enc.fit([]);
    const texts = enc.textsOf(CASE);
    expect(texts).toEqual(['The age is 71 years old.', 'Bladder cancer: muscle invasion predicts poor survival.', 'Invasive high-grade carcinoma.']);
    const out = enc.encode(CASE, 'eval')!;
    expect(out.shape).toEqual([3, 6]);
    // tokens = embed(text) @ W + b
    const [kernel, bias] = enc.variables;
    const emb = new HashedTextEmbedder({ dim: 32 }).embed(texts);
    const expected = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(emb.flatMap((v) => Array.from(v)), [3, 32]), kernel as tf.Tensor2D), bias!).dataSync());
    Array.from(out.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    out.dispose();
    enc.dispose();
  });

  it('returns null when the case has no matching text (any key: knowledge, clinical, report)', () => {
    for (const key of ['knowledge', 'clinical', 'report']) {
      const enc = new TextEmbeddingEncoder(opts({ roles: ['report'] }), testContext(`encoders.${key}`));
      enc.fit([]);
      expect(enc.modality).toBe(key);
      expect(enc.encode(CASE, 'train')).toBeNull(); // its only report is blank
      expect(enc.encode({ id: 'bare' }, 'eval')).toBeNull();
      enc.dispose();
    }
  });

  it('the projection gets gradients (with ReLU and dropout); no tensor leaks over training steps', () => {
    const enc = new TextEmbeddingEncoder(opts({ activation: 'relu', dropout: 0.2 }), testContext('encoders.clinical'));
    enc.fit([]);
    const readout = tf.tensor1d([1, -2, 3, -1, 0.5, 2]);
    const loss = () => tf.sum(tf.mul(enc.encode(CASE, 'train')!, readout)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, enc.variables);
    expect(enc.variables).toHaveLength(2);
    enc.variables.forEach((v) => expect(tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!)).toBeGreaterThan(0));
    tf.dispose([value, ...Object.values(grads)]);
    const opt = tf.train.adam(0.01);
    const step = () => tf.tidy(() => { opt.minimize(loss, false, enc.variables); });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    readout.dispose();
    enc.dispose();
  });
});

describe('cache and state (cpu)', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
  });

  it('embeds each distinct text once, however many epochs and cases use it', () => {
    const spy = vi.spyOn(HashedTextEmbedder.prototype, 'embed');
    const enc = new TextEmbeddingEncoder(opts(), testContext('encoders.knowledge'));
    enc.fit([]);
    const other: Case = { id: 'c2', knowledge: [{ role: 'pbk', text: 'Bladder cancer: muscle invasion predicts poor survival.' }] };
    for (let epoch = 0; epoch < 3; epoch++) for (const c of [CASE, other]) tf.dispose(enc.encode(c, 'train')!);
    const embedded = spy.mock.calls.flatMap((call) => call[0]);
    expect(embedded.sort()).toEqual(['Bladder cancer: muscle invasion predicts poor survival.', 'The age is 71 years old.']);
    enc.dispose();
  });

  it('restore(state) recreates the projection; a different embedder is refused with both ids', () => {
    const a = new TextEmbeddingEncoder(opts(), testContext('encoders.knowledge', 1));
    a.fit([]);
    const state = JSON.parse(JSON.stringify(a.state()));
    expect(state).toEqual({ embedder: 'hashed-v1:d32:w1-2', embedDim: 32 });
    const b = new TextEmbeddingEncoder(opts(), testContext('encoders.knowledge', 2));
    expect(() => b.encode(CASE, 'eval')).toThrow(/call fit/);
    b.restore(state);
    expect(b.variables.map((v) => v.shape)).toEqual([[32, 6], [6]]);
    b.variables.forEach((v, i) => v.assign(a.variables[i]!));
    const [ya, yb] = [a.encode(CASE, 'eval')!, b.encode(CASE, 'eval')!];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([ya, yb]);
    const c = new TextEmbeddingEncoder(opts({ embedder: { ...embedder, dim: 64 } }), testContext('encoders.knowledge'));
    expect(() => c.restore(state)).toThrow("encoders.knowledge: the saved model was trained on embedder 'hashed-v1:d32:w1-2' (32-d), but the config builds 'hashed-v1:d64:w1-2' (64-d)");
    [a, b, c].forEach((e) => e.dispose());
  });
});
