/**
 * Patient-level k-fold cross-validation splits, stratified by event and time (binary targets: by class),
 * deterministic by seed.
 *
 * How a split is made
 * 1. Cases are grouped by patient (`meta.patientId ?? id`): all cases of a patient land in the same fold.
 *    A patient's outcome is its earliest event time when any of its cases had the event, else its longest
 *    follow-up.
 * 2. Strata = event (0/1) x time bin: within each event group, patients sorted by (time, id) are cut into
 *    `timeBins` rank-quantile bins of (nearly) equal size. With `target: 'binary'` the strata are the two classes
 *    (`Case.binary`; a patient is positive when any of its cases is), keyed 'class=0' and 'class=1'.
 * 3. Strata are visited in a fixed order (event 0 before 1, early bins first); within each stratum the patients,
 *    sorted by id, are shuffled with `new SeededRandom(seed).fork('splits')` and dealt round-robin into the folds,
 *    continuing the rotation from one stratum to the next. Every fold therefore gets floor or ceil of each
 *    stratum's size / folds, and fold sizes (in patients) differ by at most 1.
 * The input order of the cases never matters; the same (cases, folds, seed, timeBins) gives the same split.
 *
 * `hash` is the sha256 of the canonical JSON of `assignments` (ids sorted), so two runs can prove they used the
 * same split; `readSplits` recomputes it and refuses an edited file.
 *
 * @example
 * const splits = makeSplits(cohort.cases, { folds: 5, seed: 1 });
 * await writeSplits('runs/exp1/splits.json', splits);
 * const { train, val } = splits.assignments[0];
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TargetKind } from '../contracts/binary-label.js';
import type { Case } from '../contracts/case.js';
import { SeededRandom } from '../services/random.js';
import { writeFileAtomic } from '../services/run-store.js';

export interface FoldAssignment {
  fold: number;
  /** Case ids used for training in this fold, sorted. */
  train: string[];
  /** Case ids held out in this fold, sorted. */
  val: string[];
}

export interface Splits {
  version: 1;
  seed: number;
  folds: number;
  /**
   * Number of patients per stratum, keyed 'event=E/time=B' (B = time bin within the event group, 0 = earliest), or
   * 'class=C' for a binary target.
   */
  strata: Record<string, number>;
  /** sha256 (hex) of the canonical JSON of `assignments`. */
  hash: string;
  assignments: FoldAssignment[];
}

export interface SplitOptions {
  folds: number;
  seed: number;
  /** Time-quantile bins within each event group. Default 2. Not used for binary targets. */
  timeBins?: number;
  /** Which label stratifies: 'survival' (default: `Case.label`) or 'binary' (`Case.binary`). */
  target?: TargetKind;
}

interface Patient {
  id: string;
  caseIds: string[];
  event: boolean;
  time: number;
}

function groupPatients(cases: Case[], target: TargetKind): Patient[] {
  const binary = target === 'binary';
  const unlabeled = cases.filter((c) => (binary ? !c.binary : !c.label)).map((c) => c.id);
  if (unlabeled.length > 0) {
    const shown = unlabeled.slice(0, 10).join(', ') + (unlabeled.length > 10 ? `, ... (${unlabeled.length} in all)` : '');
    throw new Error(`makeSplits: every case needs a ${binary ? 'binary label' : 'label (time, event)'} to be stratified; cases without one: ${shown}`);
  }
  const seen = new Set<string>();
  const byPatient = new Map<string, Patient>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`makeSplits: case id '${c.id}' appears twice; case ids must be unique`);
    seen.add(c.id);
    const { time, event } = binary ? { time: 0, event: c.binary!.positive } : c.label!;
    if (!Number.isFinite(time)) throw new Error(`makeSplits: case '${c.id}' has a non-finite label time (${time})`);
    const pid = c.meta?.patientId ?? c.id;
    const p = byPatient.get(pid);
    if (!p) {
      byPatient.set(pid, { id: pid, caseIds: [c.id], event, time });
      continue;
    }
    p.caseIds.push(c.id);
    if (event && (!p.event || time < p.time)) { p.event = true; p.time = time; }
    else if (!event && !p.event && time > p.time) p.time = time;
  }
  return [...byPatient.values()];
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The canonical JSON the hash is computed over: fixed key order, sorted ids, no whitespace. */
function canonicalAssignments(assignments: FoldAssignment[]): string {
  return JSON.stringify(
    assignments.map((a) => ({ fold: a.fold, train: [...a.train].sort(), val: [...a.val].sort() })),
  );
}

/** sha256 (hex) of the canonical JSON of the assignments. */
export function hashAssignments(assignments: FoldAssignment[]): string {
  return createHash('sha256').update(canonicalAssignments(assignments)).digest('hex');
}

/** Patient-level k-fold splits stratified by event x time quantile (see the file comment). */
export function makeSplits(cases: Case[], opts: SplitOptions): Splits {
  const { folds, seed } = opts;
  const target = opts.target ?? 'survival';
  const timeBins = target === 'binary' ? 1 : opts.timeBins ?? 2;
  if (!Number.isInteger(seed)) throw new Error(`makeSplits: seed must be an integer, found ${seed}`);
  if (!Number.isInteger(timeBins) || timeBins < 1) {
    throw new Error(`makeSplits: timeBins must be an integer >= 1, found ${timeBins}`);
  }
  const patients = groupPatients(cases, target);
  if (!Number.isInteger(folds) || folds < 2 || folds > patients.length) {
    throw new Error(
      `makeSplits: folds must be an integer in [2, number of patients = ${patients.length}], found ${folds}` +
        (cases.length !== patients.length ? ` (${cases.length} cases grouped by meta.patientId)` : ''),
    );
  }

  const strata = new Map<string, Patient[]>();
  for (const ev of [false, true]) {
    const group = patients.filter((p) => p.event === ev).sort((a, b) => a.time - b.time || byId(a, b));
    group.forEach((p, rank) => {
      const bin = Math.floor((rank * timeBins) / group.length);
      const key = target === 'binary' ? `class=${ev ? 1 : 0}` : `event=${ev ? 1 : 0}/time=${bin}`;
      const list = strata.get(key) ?? [];
      list.push(p);
      strata.set(key, list);
    });
  }

  const rng = new SeededRandom(seed).fork('splits');
  const foldCases: string[][] = Array.from({ length: folds }, () => []);
  const strataCounts: Record<string, number> = {};
  let next = 0;
  for (const [key, members] of strata) {
    strataCounts[key] = members.length;
    for (const p of rng.shuffle([...members].sort(byId))) {
      foldCases[next]!.push(...p.caseIds);
      next = (next + 1) % folds;
    }
  }

  const allIds = cases.map((c) => c.id).sort();
  const assignments: FoldAssignment[] = foldCases.map((val, fold) => {
    const valSet = new Set(val);
    return { fold, train: allIds.filter((id) => !valSet.has(id)), val: [...val].sort() };
  });
  return { version: 1, seed, folds, strata: strataCounts, hash: hashAssignments(assignments), assignments };
}

/** Write splits as pretty JSON, atomically. */
export async function writeSplits(path: string, splits: Splits): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(splits, null, 2) + '\n');
}

function fail(path: string, what: string): never {
  throw new Error(`${path}: not a valid mmsurv splits file: ${what}`);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Read a splits file written by writeSplits, checking its structure and its hash. */
export async function readSplits(path: string): Promise<Splits> {
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(path, `expected JSON, found a parse error: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'expected a JSON object');
  const s = raw as Record<string, unknown>;
  if (s.version !== 1) fail(path, `expected "version": 1, found ${JSON.stringify(s.version)}`);
  if (!Number.isInteger(s.seed)) fail(path, `expected an integer "seed", found ${JSON.stringify(s.seed)}`);
  if (!Number.isInteger(s.folds) || (s.folds as number) < 2) {
    fail(path, `expected an integer "folds" >= 2, found ${JSON.stringify(s.folds)}`);
  }
  if (typeof s.hash !== 'string') fail(path, `expected a string "hash", found ${JSON.stringify(s.hash)}`);
  if (typeof s.strata !== 'object' || s.strata === null) fail(path, 'expected an object "strata"');
  if (!Array.isArray(s.assignments) || s.assignments.length !== s.folds) {
    fail(path, `expected "assignments" to be an array of ${String(s.folds)} folds`);
  }
  (s.assignments as unknown[]).forEach((a, i) => {
    const f = a as Record<string, unknown>;
    if (typeof f !== 'object' || f === null || f.fold !== i || !isStringArray(f.train) || !isStringArray(f.val)) {
      fail(path, `assignments[${i}] must be { "fold": ${i}, "train": string[], "val": string[] }`);
    }
  });
  const splits = s as unknown as Splits;
  const actual = hashAssignments(splits.assignments);
  if (actual !== splits.hash) {
    throw new Error(
      `${path}: the assignments do not match the recorded hash (recorded ${splits.hash}, computed ${actual}): ` +
        `the file was edited after it was written. Regenerate it with makeSplits instead of editing it by hand.`,
    );
  }
  return splits;
}
