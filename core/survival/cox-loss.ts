/**
 * Cox partial likelihood: the negative partial log-likelihood of risks r (linear predictors; higher = earlier event),
 * as a tfjs loss and as a plain float64 function.
 *
 * Equals `-coxph(Surv(time, event) ~ offset(r), ties = ties)$loglik` (R survival) with the 'sum' reduction.
 * With G the distinct event times t_g, D_g the d_g cases with an event at t_g and R_g = {j : t_j >= t_g} the risk
 * set (censored cases tied with an event time are at risk, as in R):
 *   breslow: -loglik = -sum_g [ sum_{i in D_g} r_i - d_g log sum_{j in R_g} e^{r_j} ]
 *   efron:   -loglik = -sum_g [ sum_{i in D_g} r_i - sum_{l=0}^{d_g-1} log( sum_{R_g} e^r - (l/d_g) sum_{D_g} e^r ) ]
 * Without tied event times both are the same. Times tie when exactly equal (R's `timefix` also merges times that
 * differ by ~1e-8 relative, which only matters for computed, not recorded, times). Reduction 'mean' (default) divides by the number of events
 * (METHODS.md: `loss = -sum_events (r_i - logsumexp_{t_j >= t_i} r_j) / n_events`); 'sum' does not.
 *
 * Numerics. tfjs: one row per distinct event time: X_gj = r_j + (0 if j in R_g else -1e30), m_g = max_j X_gj,
 * A'_g = sum_j exp(X_gj - m_g) (>= 1), B'_g = sum_{j in D_g} exp(X_gj - m_g); each log term is
 * m_g + log(A'_g - (l/d_g) B'_g), which is positive-argument (D_g is inside R_g, l/d_g < 1) and overflow-free.
 * This is O(G x batch) memory, fine for training batches and for cohorts of a few thousand cases. Masks are constants
 * built on the JS side, so only add/max/exp/sum/mul/log touch the risks (no gather, where or cumsum: all have
 * gradients on cpu and wasm). float64: cases sorted by time, descending, with running log-sum-exps, O(n log n).
 *
 * Degenerate batches: with fewer than 2 cases or no event the partial likelihood carries no ranking information;
 * the loss is a scalar 0 still connected to `risk` (gradients are zeros) and `onWarning` is told why: sample batches
 * with events (class-balanced sampling) or use larger batches.
 *
 * @example
 * const loss = coxPartialLikelihoodLoss(riskTensor, batchTime, batchEvent, { ties: 'efron' });
 */
import * as tf from '@tensorflow/tfjs';

export type CoxTies = 'breslow' | 'efron';

export interface CoxLossOptions {
  /** Tie handling. Default 'efron' (R coxph's default). */
  ties?: CoxTies;
  /** 'mean' (default): divide by the number of events; 'sum': -loglik. */
  reduction?: 'mean' | 'sum';
  /** Told when the batch cannot be scored (fewer than 2 cases, no event) and 0 is returned. */
  onWarning?: (message: string) => void;
  /** Read the risks back and reject NaN/Infinity with their index (default true; a device sync on GPUs). */
  checkFinite?: boolean;
}

/** Event flags (1 = event observed) from booleans or 0/1; errors name the index. */
export function eventFlags(event: ArrayLike<number | boolean>, where: string): Uint8Array {
  const out = new Uint8Array(event.length);
  for (let i = 0; i < event.length; i++) {
    const e = event[i];
    if (e === true || e === 1) out[i] = 1;
    else if (e !== false && e !== 0) throw new Error(`${where}: event[${i}] must be a boolean or 0/1, found ${String(e)}`);
  }
  return out;
}

/** Throws on the first non-finite value, naming the array and the index. */
export function requireFinite(values: ArrayLike<number>, name: string, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`${where}: ${name}[${i}] must be a finite number, found ${values[i]}`);
  }
}

/** Distinct event times, increasing, with the cases that had their event at each (tied events). */
export interface CoxEventGroups {
  eventTimes: number[];
  /** Cases with an event at eventTimes[g]. */
  events: number[][];
  nEvents: number;
}

export function coxEventGroups(time: ArrayLike<number>, event: Uint8Array): CoxEventGroups {
  const byTime = new Map<number, number[]>();
  let nEvents = 0;
  for (let i = 0; i < time.length; i++) {
    if (!event[i]) continue;
    nEvents++;
    const list = byTime.get(time[i]!);
    if (list) list.push(i);
    else byTime.set(time[i]!, [i]);
  }
  const eventTimes = [...byTime.keys()].sort((a, b) => a - b);
  return { eventTimes, events: eventTimes.map((t) => byTime.get(t)!), nEvents };
}

const MASKED = -1e30;

function checkOptions(where: string, options: CoxLossOptions): { ties: CoxTies; reduction: 'mean' | 'sum' } {
  const ties = options.ties ?? 'efron';
  if (ties !== 'breslow' && ties !== 'efron') throw new Error(`${where}: ties must be 'breslow' or 'efron', found '${String(ties)}'`);
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`${where}: reduction must be 'mean' or 'sum', found '${String(reduction)}'`);
  return { ties, reduction };
}

/** The negative Cox partial log-likelihood of a batch (see the file comment), a scalar on the gradient tape. */
export function coxPartialLikelihoodLoss(
  risk: tf.Tensor,
  time: ArrayLike<number>,
  event: ArrayLike<number | boolean>,
  options: CoxLossOptions = {},
): tf.Scalar {
  const where = 'coxPartialLikelihoodLoss';
  const { ties, reduction } = checkOptions(where, options);
  const b = time.length;
  if (!(risk.rank === 1 || (risk.rank === 2 && risk.shape[1] === 1)) || risk.shape[0] !== b) {
    throw new Error(`${where}: risk must have shape [${b}] or [${b}, 1] (one value per case), found [${risk.shape.join(', ')}]`);
  }
  if (event.length !== b) throw new Error(`${where}: time and event must have the same length, found ${b} and ${event.length}`);
  requireFinite(time, 'time', where);
  const e = eventFlags(event, where);
  if (options.checkFinite ?? true) requireFinite(risk.dataSync() as Float32Array, 'risk', where);
  const groups = coxEventGroups(time, e);

  if (b < 2 || groups.nEvents === 0) {
    options.onWarning?.(
      `${where}: a batch of ${b} case(s) with ${groups.nEvents} event(s) has no pair to rank, so the partial ` +
        'likelihood is undefined; the loss is 0 (zero gradients). Sample batches that contain events ' +
        '(class-balanced sampling by event) or use larger batches',
    );
    return tf.tidy(() => tf.mul(tf.sum(tf.cast(risk, 'float32')), 0) as tf.Scalar);
  }

  const nG = groups.eventTimes.length;
  let maxTied = 1;
  for (const d of groups.events) maxTied = Math.max(maxTied, d.length);
  const offset = new Float32Array(nG * b); // 0 inside the risk set, MASKED outside
  const inD = new Float32Array(nG * b); // 1 for the tied events of the row
  const frac = new Float32Array(nG * maxTied); // l / d_g (efron), 0 (breslow)
  const used = new Float32Array(nG * maxTied); // 1 for l < d_g
  const dCount = new Float32Array(nG);
  const eventMask = new Float32Array(b);
  for (let g = 0; g < nG; g++) {
    const tg = groups.eventTimes[g]!;
    for (let j = 0; j < b; j++) if (!(time[j]! >= tg)) offset[g * b + j] = MASKED;
    const d = groups.events[g]!;
    for (const i of d) {
      inD[g * b + i] = 1;
      eventMask[i] = 1;
    }
    dCount[g] = d.length;
    for (let l = 0; l < d.length; l++) {
      used[g * maxTied + l] = 1;
      if (ties === 'efron') frac[g * maxTied + l] = l / d.length;
    }
  }
  const divisor = reduction === 'mean' ? groups.nEvents : 1;

  return tf.tidy(() => {
    const r = tf.reshape(tf.cast(risk, 'float32'), [1, b]);
    const x = tf.add(r, tf.tensor2d(offset, [nG, b]));
    const m = tf.max(x, 1, true); // [G, 1]
    const ex = tf.exp(tf.sub(x, m));
    const a = tf.sum(ex, 1, true); // [G, 1], >= 1
    const bd = tf.sum(tf.mul(ex, tf.tensor2d(inD, [nG, b])), 1, true); // [G, 1]
    const den = tf.sub(a, tf.mul(tf.tensor2d(frac, [nG, maxTied]), bd)); // [G, L]
    const logDen = tf.sum(tf.mul(tf.log(den), tf.tensor2d(used, [nG, maxTied])));
    const shift = tf.sum(tf.mul(tf.reshape(m, [nG]), tf.tensor1d(dCount)));
    const eventRisk = tf.sum(tf.mul(tf.reshape(r, [b]), tf.tensor1d(eventMask)));
    const negLogLik = tf.sub(tf.add(logDen, shift), eventRisk);
    return tf.div(negLogLik, divisor) as tf.Scalar;
  });
}

/** Running log(sum(exp(.))): add(x) in O(1) without overflow. */
class LogSumExp {
  private m = -Infinity;
  private s = 0;
  add(x: number): void {
    if (x <= this.m) this.s += Math.exp(x - this.m);
    else {
      this.s = this.s * Math.exp(this.m - x) + 1;
      this.m = x;
    }
  }
  get value(): number {
    return this.m + Math.log(this.s);
  }
}

/**
 * Float64 -loglik (sum over events, no division) of `coxph(Surv(time, event) ~ offset(risk), ties)`. No tfjs.
 * Returns 0 when there is no event.
 */
export function coxNegLogLikFloat64(
  risk: ArrayLike<number>,
  time: ArrayLike<number>,
  event: ArrayLike<number | boolean>,
  ties: CoxTies = 'efron',
): number {
  const where = 'coxNegLogLikFloat64';
  checkOptions(where, { ties });
  const n = time.length;
  if (risk.length !== n || event.length !== n) {
    throw new Error(`${where}: risk, time and event must have the same length, found ${risk.length}, ${n} and ${event.length}`);
  }
  requireFinite(risk, 'risk', where);
  requireFinite(time, 'time', where);
  const e = eventFlags(event, where);
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => time[q]! - time[p]!); // descending time
  const atRisk = new LogSumExp();
  let loglik = 0;
  for (let start = 0; start < n; ) {
    const t = time[order[start]!]!;
    let end = start;
    const tied = new LogSumExp();
    let d = 0;
    let eventRisk = 0;
    for (; end < n && time[order[end]!] === t; end++) {
      const i = order[end]!;
      atRisk.add(risk[i]!);
      if (e[i]) {
        tied.add(risk[i]!);
        d++;
        eventRisk += risk[i]!;
      }
    }
    if (d > 0) {
      const logA = atRisk.value;
      loglik += eventRisk;
      if (ties === 'breslow' || d === 1) loglik -= d * logA;
      else {
        const q = Math.exp(tied.value - logA); // B / A, in (0, 1]
        for (let l = 0; l < d; l++) loglik -= logA + Math.log1p(-(l / d) * q);
      }
    }
    start = end;
  }
  return loglik === 0 ? 0 : -loglik;
}
