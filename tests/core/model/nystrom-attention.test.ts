import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../core/backend/select.js';
import type { BackendName } from '../../../core/contracts/backend.js';
import { NystromAttention, type NystromAttentionOptions } from '../../../core/model/nystrom-attention.js';
import { SeededRandom } from '../../../core/services/random.js';
import { fromFlat, maxAbsDiff, nystromAttention, type NystromWeights } from './plain-js.js';

function input(n: number, dim: number, seed: number): tf.Tensor2D {
  const rng = new SeededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: n * dim }, () => rng.normal()), [n, dim]);
}

function make(opts: Partial<NystromAttentionOptions> & { backend: BackendName }): NystromAttention {
  return new NystromAttention({
    dim: 8, heads: 2, landmarks: 4, pinvIterations: 6, attention: 'nystrom', dropout: 0, residualKernel: 5,
    random: new SeededRandom(3), explicitTranspose: opts.backend === 'wasm', name: 'attn', ...opts,
  });
}

function weightsOf(a: NystromAttention): NystromWeights {
  const [qkv, out, bias, res] = a.variables.map((v) => v.dataSync());
  return {
    qkv: fromFlat(qkv!, a.dim, 3 * a.dim), out: fromFlat(out!, a.dim, a.dim), outBias: Array.from(bias!),
    residual: fromFlat(res!, res!.length / a.heads, a.heads),
  };
}

describe.each<BackendName>(['cpu', 'wasm'])('NystromAttention on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ prefer: backend });
  });

  it.each([
    ['nystrom', 7, 5], // front padding of 1 row, 2 rows per landmark
    ['nystrom', 8, 5], // no padding
    ['nystrom', 13, 33], // 3 padding rows, the official 33-tap value filter longer than the sequence
    ['exact', 6, 5],
  ] as const)('%s, n=%i, value filter %i: equals the plain-JS lucidrains forward', (attention, n, residualKernel) => {
    const a = make({ backend, attention, residualKernel });
    const w = weightsOf(a);
    tf.tidy(() => {
      const x = input(n, 8, n);
      const y = a.apply(x, 'eval', new SeededRandom(1));
      expect(y.shape).toEqual([n, 8]);
      const ref = nystromAttention(fromFlat(x.dataSync(), n, 8), w, 2, 4, 6, attention === 'exact');
      expect(maxAbsDiff(y.dataSync(), ref.flat())).toBeLessThan(2e-4);
    });
    a.dispose();
  });

  it("'auto' is exact up to `landmarks` tokens and Nystrom above", () => {
    const auto = make({ backend, attention: 'auto' });
    const w = weightsOf(auto);
    tf.tidy(() => {
      for (const [n, exact] of [[4, true], [5, false]] as const) {
        const x = input(n, 8, 11);
        const ref = nystromAttention(fromFlat(x.dataSync(), n, 8), w, 2, 4, 6, exact);
        expect(maxAbsDiff(auto.apply(x, 'eval', new SeededRandom(1)).dataSync(), ref.flat())).toBeLessThan(2e-4);
      }
    });
    auto.dispose();
  });

  it('with one landmark per token and a converged pinv, Nystrom equals exact attention', () => {
    const nys = make({ backend, attention: 'nystrom', landmarks: 6, pinvIterations: 30 });
    const exact = make({ backend, attention: 'exact' }); // same seed -> same weights
    tf.tidy(() => {
      const x = tf.mul(input(6, 8, 5), 0.3) as tf.Tensor2D; // mild scores keep softmax(q k^T) well conditioned
      const d = maxAbsDiff(nys.apply(x, 'eval', new SeededRandom(1)).dataSync(), exact.apply(x, 'eval', new SeededRandom(1)).dataSync());
      expect(d).toBeLessThan(1e-3);
    });
    nys.dispose();
    exact.dispose();
  });

  it('every variable gets a non-zero gradient, in both modes, without leaking tensors', () => {
    for (const attention of ['nystrom', 'exact'] as const) {
      const a = make({ backend, attention, dropout: 0.1 });
      const x = input(10, 8, 2);
      const g = input(10, 8, 3);
      const step = () => tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(a.apply(x, 'train', new SeededRandom(4)), g)) as tf.Scalar, a.variables);
        const norms = a.variables.map((v) => tf.norm(grads[v.name]!).dataSync()[0]!);
        value.dispose();
        return norms;
      });
      step();
      const before = tf.memory().numTensors;
      const norms = step();
      expect(tf.memory().numTensors).toBe(before);
      expect(norms).toHaveLength(4);
      for (const n of norms) expect(n).toBeGreaterThan(0);
      for (const n of norms) expect(Number.isFinite(n)).toBe(true);
      tf.dispose([x, g]);
      a.dispose();
    }
  });
});

it('explains bad shapes', () => {
  expect(() => make({ backend: 'cpu', dim: 10, heads: 3 })).toThrow('attn: dim 10 must be a multiple of heads 3');
  const a = make({ backend: 'cpu' });
  expect(() => tf.tidy(() => a.apply(tf.zeros([3, 5]), 'eval', new SeededRandom(1)))).toThrow('attn: expected [n, 8], found [3, 5]');
  a.dispose();
});
