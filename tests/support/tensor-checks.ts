/**
 * Tensor assertions for component tests: finiteness, gradients reaching every variable, weight snapshots, and a
 * fixed random readout that turns tokens into a scalar loss.
 *
 * Each check throws an Error whose message says what was expected, what was found and which component.
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../../core/services/random.js';

/** The values of `t` (a copy), after checking every one is finite. */
export function finiteValues(t: tf.Tensor, what: string): Float32Array {
  const v = Float32Array.from(t.dataSync() as Float32Array);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new Error(`${what}: expected finite values, found ${v[bad]} at flat index ${bad} of shape [${t.shape.join(', ')}]`);
  return v;
}

/** The values of the tensor `f` returns (a copy); everything `f` made is disposed. */
export function valuesOf(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  try {
    return Float32Array.from(t.dataSync() as Float32Array);
  } finally {
    t.dispose();
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, what = 'values'): number {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The fixed random projection R [d, 3] of `readoutLoss`, N(0, 1/d); depends only on (d, seed). */
export function readoutWeights(d: number, seed = 5): tf.Tensor2D {
  const rng = new SeededRandom(seed, `readout/${d}`);
  return tf.tensor2d(Float32Array.from({ length: d * 3 }, () => rng.normal(0, 1 / Math.sqrt(d))), [d, 3]);
}

/**
 * A scalar that depends on every column of `x` [n, d] through a projection R [d, 3] (default: the fixed
 * `readoutWeights(d)`; pass a variable to stand in for a head): mean over rows of sum((x R + 0.5)^2). Unlike sum(x^2)
 * it does not vanish behind a final LayerNorm (whose output has a constant sum of squares) or a softmax.
 */
export function readoutLoss(x: tf.Tensor2D, r?: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const w = r ?? readoutWeights(x.shape[1]);
    return tf.mean(tf.sum(tf.square(tf.add(tf.matMul(x, w), 0.5)), 1)) as tf.Scalar;
  });
}

/** A gradient whose largest |value| is below this fraction of the largest of any variable counts as zero. */
const RELATIVE_ZERO = 1e-6;

/**
 * Every variable in `vars` receives a gradient from `loss` with at least one non-zero value (above float32 rounding
 * noise: 1e-6 of the largest gradient of any variable). Names the variables that get none (index, name, shape),
 * which is what a layer built but not used, a value detached from the graph (dataSync / tf.tensor(...) of a
 * variable's values), or a parameter the output cannot depend on (a Cox head's bias) looks like.
 */
export function expectGradientOnEveryVariable(vars: readonly tf.Variable[], loss: () => tf.Scalar, what: string): void {
  if (vars.length === 0) return;
  const notTrainable = vars.map((v, i) => [v, i] as const).filter(([v]) => !v.trainable);
  if (notTrainable.length) {
    throw new Error(`${what}: variables ${notTrainable.map(([v, i]) => `#${i} ${v.name}`).join(', ')} are not trainable; \`variables\` lists trainable variables only`);
  }
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(loss, [...vars]);
  } catch (err) {
    throw new Error(`${what}: tf.variableGrads failed: ${(err as Error).message}`, { cause: err });
  }
  try {
    finiteValues(result.value, `${what}: loss`);
    const missing: string[] = [];
    const largest = vars.map((v, i) => {
      const g = result.grads[v.name];
      return g ? maxAbs(finiteValues(g, `${what}: gradient of #${i} ${v.name}`)) : 0;
    });
    const scale = Math.max(...largest);
    vars.forEach((v, i) => {
      const label = `#${i} ${v.name} [${v.shape.join(', ')}]`;
      if (!result.grads[v.name]) missing.push(`${label}: no gradient (the loss does not use it)`);
      else if (largest[i] === 0) missing.push(`${label}: gradient is all zeros`);
      else if (largest[i]! <= RELATIVE_ZERO * scale) {
        missing.push(`${label}: gradient is rounding noise (max |g| ${largest[i]!.toExponential(2)}, largest of any variable ${scale.toExponential(2)}): ` +
          'the output does not depend on it (e.g. a bias before a shift-invariant loss or softmax)');
      }
    });
    if (missing.length) throw new Error(`${what}: ${missing.length} of ${vars.length} variables get no gradient:\n  ${missing.join('\n  ')}`);
  } finally {
    tf.dispose([result.value, ...Object.values(result.grads)]);
  }
}

export interface WeightSnapshot {
  shape: number[];
  data: Float32Array;
}

/** The values of every variable, in order. */
export function snapshotWeights(vars: readonly tf.Variable[]): WeightSnapshot[] {
  return vars.map((v) => ({ shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) }));
}

/** Assign saved values to `vars` in order; count and shapes must match (as the model's weight loader demands). */
export function assignWeights(vars: readonly tf.Variable[], saved: readonly WeightSnapshot[], what: string): void {
  if (vars.length !== saved.length) {
    throw new Error(`${what}: the fresh instance has ${vars.length} variables, the saved one ${saved.length}: are all variables created by fit/restore/build, in a fixed order?`);
  }
  vars.forEach((v, i) => {
    if (v.shape.join('x') !== saved[i]!.shape.join('x')) {
      throw new Error(`${what}: variable #${i} is [${v.shape.join(', ')}] in the fresh instance, [${saved[i]!.shape.join(', ')}] in the saved one`);
    }
  });
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(saved[i]!.data, saved[i]!.shape, v.dtype))));
}

/** Whether any variable's values differ between two snapshots. */
export function weightsDiffer(a: readonly WeightSnapshot[], b: readonly WeightSnapshot[]): boolean {
  return a.some((w, i) => maxAbsDiff(w.data, b[i]!.data) > 0);
}
