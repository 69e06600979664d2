/**
 * Shared input checks for the survival metrics (core/survival). Every check copies its input into a typed array and
 * throws an error that says which function, which argument, which index, what was expected and what was found.
 *
 * Conventions (DESIGN.md section 6): `time >= 0` (R and the real cohorts allow a follow-up of 0, e.g. survminer's
 * myeloma; negative times are rejected), `event` is a boolean or 0/1 (true = the event was observed), risk scores
 * are finite numbers with "higher means earlier event". Evaluation times for time-dependent metrics (AUC, Brier)
 * must lie in `[min(time), max(time))`, the rule scikit-survival applies: at or after the last follow-up time the
 * censoring survival G(t) can be 0 and the inverse-probability weights are undefined.
 */

/** Thrown when a concordance-type metric has no comparable pair; bootstrap code catches exactly this class. */
export class NoComparablePairsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoComparablePairsError';
  }
}

/** Throws unless every length equals the first one; `lengths` maps argument names to lengths. */
export function checkSameLength(fn: string, lengths: Record<string, number>): number {
  const entries = Object.entries(lengths);
  const n = entries[0]![1];
  if (entries.some(([, len]) => len !== n)) {
    const names = entries.map(([k]) => k);
    const found = entries.map(([, v]) => String(v));
    throw new Error(
      `${fn}: ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} must have the same length, ` +
        `found ${found.slice(0, -1).join(', ')} and ${found[found.length - 1]}`,
    );
  }
  return n;
}

/** Copies `values` into a Float64Array; throws naming the first index that is not a finite number. */
export function finiteArray(fn: string, name: string, values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${fn}: ${name}[${i}] must be a finite number, found ${String(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** Follow-up times: finite and >= 0. */
export function timeArray(fn: string, time: ArrayLike<number>, name = 'time'): Float64Array {
  const t = finiteArray(fn, name, time);
  for (let i = 0; i < t.length; i++) {
    if (t[i]! < 0) throw new Error(`${fn}: ${name}[${i}] must be >= 0 (a follow-up time), found ${t[i]}`);
  }
  return t;
}

/** Event indicators: boolean or 0/1, copied to a Uint8Array of 0/1. */
export function eventArray(fn: string, event: ArrayLike<boolean | number>, name = 'event'): Uint8Array {
  const n = event.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = event[i];
    if (v === true || v === 1) out[i] = 1;
    else if (v === false || v === 0) out[i] = 0;
    else throw new Error(`${fn}: ${name}[${i}] must be a boolean or 0/1 (1 = event observed), found ${String(v)}`);
  }
  return out;
}

export interface SurvivalLabels {
  n: number;
  time: Float64Array;
  event: Uint8Array;
  /** Number of observed events. */
  events: number;
}

/** Checks (time, event) together: equal lengths, at least one case, valid values. */
export function survivalLabels(
  fn: string,
  time: ArrayLike<number>,
  event: ArrayLike<boolean | number>,
  extraLengths: Record<string, number> = {},
): SurvivalLabels {
  const n = checkSameLength(fn, { time: time.length, event: event.length, ...extraLengths });
  if (n === 0) throw new Error(`${fn}: no cases (time and event are empty)`);
  const t = timeArray(fn, time);
  const e = eventArray(fn, event);
  let events = 0;
  for (let i = 0; i < n; i++) events += e[i]!;
  return { n, time: t, event: e, events };
}

/** Throws when no event was observed (the metric is undefined). */
export function requireEvents(fn: string, labels: SurvivalLabels): void {
  if (labels.events === 0) {
    throw new Error(`${fn}: no events among ${labels.n} cases (every case is censored); the metric is undefined`);
  }
}

/**
 * Evaluation times for IPCW metrics: finite, strictly increasing, and inside the follow-up range
 * `[min(time), max(time))`. Returns them as a Float64Array.
 */
export function evaluationTimes(fn: string, times: ArrayLike<number>, time: Float64Array): Float64Array {
  const ts = finiteArray(fn, 'times', times);
  if (ts.length === 0) throw new Error(`${fn}: times (the evaluation grid) is empty; pass at least one time`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < time.length; i++) {
    if (time[i]! < lo) lo = time[i]!;
    if (time[i]! > hi) hi = time[i]!;
  }
  for (let k = 0; k < ts.length; k++) {
    const t = ts[k]!;
    if (t < lo || t >= hi) {
      throw new Error(
        `${fn}: evaluation time times[${k}] = ${t} is outside the follow-up range [${lo}, ${hi}) of the data ` +
          `(the censoring weights are undefined at or after the last follow-up time); pass times with ` +
          `min(time) <= t < max(time), e.g. quantiles of the observed event times`,
      );
    }
    if (k > 0 && !(t > ts[k - 1]!)) {
      throw new Error(
        `${fn}: evaluation times must be strictly increasing, found times[${k - 1}] = ${ts[k - 1]} and ` +
          `times[${k}] = ${t}`,
      );
    }
  }
  return ts;
}

/**
 * A per-case, per-time matrix given as rows `[n][m]`: checks the shape and finiteness and, with `unit`, that every
 * value is a probability in [0, 1]. Returns a row-major Float64Array (`out[i * m + k]`).
 */
export function caseTimeMatrix(
  fn: string,
  name: string,
  rows: ArrayLike<ArrayLike<number>>,
  n: number,
  m: number,
  unit = false,
): Float64Array {
  if (rows.length !== n) {
    throw new Error(`${fn}: ${name} must have one row per case (${n} rows of ${m} values), found ${rows.length} rows`);
  }
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (row === undefined || row === null || typeof row !== 'object' || row.length !== m) {
      const found = row === undefined || row === null || typeof row !== 'object' ? String(row) : `${row.length} values`;
      throw new Error(`${fn}: ${name}[${i}] must hold ${m} values (one per evaluation time), found ${found}`);
    }
    for (let k = 0; k < m; k++) {
      const v = row[k]!;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`${fn}: ${name}[${i}][${k}] must be a finite number, found ${String(v)}`);
      }
      if (unit && (v < 0 || v > 1)) {
        throw new Error(`${fn}: ${name}[${i}][${k}] must be a probability in [0, 1], found ${v}`);
      }
      out[i * m + k] = v;
    }
  }
  return out;
}
