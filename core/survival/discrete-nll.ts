/**
 * Discrete-time survival negative log-likelihood (Zadeh & Schmid 2021), exactly SurvPath's `nll_loss`
 * (mahmoodlab/SurvPath `utils/loss_func.py`, also MCAT/PORPOISE), as a tfjs op and as a plain float64 function.
 *
 * For one case with logits h[0..K-1], y its time bin (core/survival/time-bins) and c = 1 when censored:
 *   hazard_k = sigmoid(h_k),  S_k = prod_{j<=k} (1 - hazard_j),  S_{-1} = 1,
 *   uncensored = -(1 - c) (log S_{y-1} + log hazard_y),   censored = -c log S_y,
 *   loss = (1 - alpha) (uncensored + censored) + alpha * uncensored   (= uncensored + (1 - alpha) censored),
 * with every probability clamped from below by eps (S_{y-1}, hazard_y, S_y: SurvPath's `.clamp(min=eps)`), then
 * the mean (default) or sum over the batch. SurvPath trains with alpha 0.5.
 *
 * Numerically stable form: log hazard = -softplus(-h), log(1 - hazard) = -softplus(h), so
 * log S_k = -sum_{j<=k} softplus(h_j), computed as softplus(h) @ U with U the upper-triangular ones matrix
 * (no tf.cumsum/cumprod, whose gradients are missing on some axes); clamping is max(log p, log eps), which equals
 * log(max(p, eps)) and has the same (zero below eps) gradient as torch's clamp. The per-case selection of bins is a
 * product with constant coefficient matrices built on the JS side (no gather, which has no gradient on wasm).
 * Every op used (softplus, matMul, maximum, mul, sum) has a gradient on the cpu and wasm backends (tested on both).
 *
 * @example
 * const loss = discreteNll(logits, Int32Array.from([0, 3]), Uint8Array.from([0, 1]), { alpha: 0.5 });
 */
import * as tf from '@tensorflow/tfjs';

export type DiscreteNllReduction = 'mean' | 'sum';

export interface DiscreteNllOptions {
  /** Weight of the uncensored term added on top (SurvPath: 0.5). In [0, 1]. Default 0. */
  alpha?: number;
  /** Lower clamp of probabilities. Default 1e-7. */
  eps?: number;
  /** 'mean' (default) or 'sum' over the batch. */
  reduction?: DiscreteNllReduction;
  /**
   * Read the logits back and reject NaN/Infinity with their index (default true). This is a device sync; turn it
   * off in a hot loop on a GPU backend once training is known to be stable.
   */
  checkFinite?: boolean;
}

interface Checked {
  b: number;
  k: number;
  alpha: number;
  logEps: number;
  bin: Int32Array;
  censored: Uint8Array;
}

function checkLabels(
  where: string,
  b: number,
  k: number,
  bin: ArrayLike<number>,
  censored: ArrayLike<number | boolean>,
  options: DiscreteNllOptions,
): Checked {
  if (b < 1) throw new Error(`${where}: the batch is empty (logits of shape [0, ${k}])`);
  if (k < 1) throw new Error(`${where}: logits need at least one bin, found shape [${b}, ${k}]`);
  if (bin.length !== b || censored.length !== b) {
    throw new Error(`${where}: logits have ${b} rows but bin has ${bin.length} and censored ${censored.length} values`);
  }
  const alpha = options.alpha ?? 0;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`${where}: alpha must be in [0, 1], found ${alpha}`);
  const eps = options.eps ?? 1e-7;
  if (!(eps > 0 && eps < 1)) throw new Error(`${where}: eps must be in (0, 1), found ${eps}`);
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new Error(`${where}: reduction must be 'mean' or 'sum', found '${String(reduction)}'`);
  }
  const y = new Int32Array(b);
  const c = new Uint8Array(b);
  for (let i = 0; i < b; i++) {
    const v = bin[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= k) {
      throw new Error(`${where}: bin[${i}] must be an integer in [0, ${k - 1}] (the case's time bin), found ${v}`);
    }
    y[i] = v;
    const ci = censored[i];
    if (ci === true || ci === 1) c[i] = 1;
    else if (ci === false || ci === 0) c[i] = 0;
    else throw new Error(`${where}: censored[${i}] must be a boolean or 0/1 (1 = censored), found ${String(ci)}`);
  }
  return { b, k, alpha, logEps: Math.log(eps), bin: y, censored: c };
}

/** `values` are rows firstRow, firstRow + 1, .. of the [b, k] logits, row-major. */
function rejectNonFinite(where: string, values: ArrayLike<number>, k: number, firstRow = 0): void {
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j]!)) {
      throw new Error(
        `${where}: logits[${firstRow + Math.floor(j / k)}][${j % k}] is ${values[j]}: the model produced a non-finite output ` +
          '(diverged training: lower the learning rate, check the inputs for NaN)',
      );
    }
  }
}

/**
 * Coefficients so that loss_i = -sum_k (A_ik log S_ik + B_ik log hazard_ik):
 * uncensored: B[i, y] = 1 and A[i, y-1] = 1 (y >= 1); censored: A[i, y] = 1 - alpha.
 */
function coefficients(l: Checked): { a: Float32Array; bh: Float32Array } {
  const a = new Float32Array(l.b * l.k);
  const bh = new Float32Array(l.b * l.k);
  for (let i = 0; i < l.b; i++) {
    const y = l.bin[i]!;
    if (l.censored[i] === 1) {
      a[i * l.k + y] += 1 - l.alpha;
    } else {
      bh[i * l.k + y] = 1;
      if (y >= 1) a[i * l.k + y - 1] += 1;
    }
  }
  return { a, bh };
}

/** The loss of each case, [b] (before the batch reduction). */
export function discreteNllPerSample(
  logits: tf.Tensor2D,
  bin: ArrayLike<number>,
  censored: ArrayLike<number | boolean>,
  options: DiscreteNllOptions = {},
): tf.Tensor1D {
  const where = 'discreteNll';
  if (logits.rank !== 2) throw new Error(`${where}: logits must be [batch, bins], found shape [${logits.shape.join(', ')}]`);
  const [b, k] = logits.shape as [number, number];
  const labels = checkLabels(where, b, k, bin, censored, options);
  if (options.checkFinite ?? true) rejectNonFinite(where, logits.dataSync() as Float32Array, k);
  const { a, bh } = coefficients(labels);
  return tf.tidy(() => {
    const upper = new Float32Array(k * k);
    for (let j = 0; j < k; j++) for (let m = j; m < k; m++) upper[j * k + m] = 1;
    const h = tf.cast(logits, 'float32') as tf.Tensor2D;
    const logEps = tf.scalar(labels.logEps);
    // log S_k = -sum_{j<=k} softplus(h_j); log hazard = -softplus(-h)
    const logS = tf.maximum(tf.neg(tf.matMul(tf.softplus(h), tf.tensor2d(upper, [k, k]))), logEps);
    const logHazard = tf.maximum(tf.neg(tf.softplus(tf.neg(h))), logEps);
    const weighted = tf.add(tf.mul(logS, tf.tensor2d(a, [b, k])), tf.mul(logHazard, tf.tensor2d(bh, [b, k])));
    return tf.neg(tf.sum(weighted, 1)) as tf.Tensor1D;
  });
}

/** The discrete-time NLL of a batch (see the file comment), a scalar on the gradient tape. */
export function discreteNll(
  logits: tf.Tensor2D,
  bin: ArrayLike<number>,
  censored: ArrayLike<number | boolean>,
  options: DiscreteNllOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const perSample = discreteNllPerSample(logits, bin, censored, options);
    return (options.reduction ?? 'mean') === 'sum' ? tf.sum(perSample) : tf.mean(perSample);
  });
}

function softplus64(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Float64 per-case losses, no tfjs: for metrics and reports. `logits` is [b][K]. */
export function discreteNllFloat64PerSample(
  logits: ArrayLike<ArrayLike<number>>,
  bin: ArrayLike<number>,
  censored: ArrayLike<number | boolean>,
  options: Omit<DiscreteNllOptions, 'checkFinite'> = {},
): Float64Array {
  const where = 'discreteNllFloat64';
  const b = logits.length;
  const k = b > 0 ? logits[0]!.length : 0;
  const l = checkLabels(where, b, k, bin, censored, options);
  const out = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    const row = logits[i]!;
    if (row.length !== k) throw new Error(`${where}: logits[${i}] has ${row.length} values, logits[0] has ${k}`);
    rejectNonFinite(where, row, k, i);
    const y = l.bin[i]!;
    let logSPrev = 0; // log S_{y-1}, unclamped running sum
    for (let j = 0; j < y; j++) logSPrev -= softplus64(row[j]!);
    const logSThis = logSPrev - softplus64(row[y]!);
    const logHazard = -softplus64(-row[y]!);
    const clamp = (v: number) => Math.max(v, l.logEps);
    const uncensored = l.censored[i] ? 0 : -(clamp(logSPrev) + clamp(logHazard));
    const cens = l.censored[i] ? -clamp(logSThis) : 0;
    out[i] = (1 - l.alpha) * (uncensored + cens) + l.alpha * uncensored;
  }
  return out;
}

/** Float64 discrete-time NLL of a batch, reduced like `discreteNll`. */
export function discreteNllFloat64(
  logits: ArrayLike<ArrayLike<number>>,
  bin: ArrayLike<number>,
  censored: ArrayLike<number | boolean>,
  options: Omit<DiscreteNllOptions, 'checkFinite'> = {},
): number {
  const per = discreteNllFloat64PerSample(logits, bin, censored, options);
  let s = 0;
  for (const v of per) s += v;
  return (options.reduction ?? 'mean') === 'sum' ? s : s / per.length;
}
