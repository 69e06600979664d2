/**
 * `mmsurv evaluate`: the metrics of a run recomputed from its saved predictions (oof.csv) alone, so a changed
 * metric definition or an edited oof.csv is re-scored without retraining. Fold sizes, epochs and timings come from
 * summary.json; every metric comes from oof.csv.
 */
import { join, resolve } from 'node:path';
import { readDelimited } from '../data/csv.js';
import { readRunSummary } from './cross-validate.js';
import { runSummary, type RunSummary } from './run-outputs.js';
import { binaryFoldMetrics, foldMetrics, type BinaryOofRow, type FoldResult, type OofRow } from './train-fold.js';

export async function evaluateRun(runDir: string): Promise<RunSummary> {
  const dir = resolve(runDir);
  const saved = await readRunSummary(dir);
  const file = join(dir, 'oof.csv');
  const table = await readDelimited(file);
  if (saved.target === 'binary') return evaluateBinary(saved, file, table);
  const rows = survivalOofRows(table, file, saved.eval_times);
  const results: FoldResult[] = saved.folds.map((f) => {
    const foldRows = rows.filter((r) => r.fold === f.fold - 1);
    const { metrics, note } = foldMetrics(foldRows, saved.eval_times);
    return {
      fold: f.fold - 1, nTrain: f.n_train, nVal: foldRows.length, epochs: f.epochs, bestEpoch: f.best_epoch, history: [],
      metrics, ...(note ? { metricsNote: note } : {}), rows: foldRows, seconds: f.seconds,
    };
  });
  return runSummary(saved.name, results, { seed: saved.seed, backend: saved.backend, seconds: saved.seconds, evalTimes: saved.eval_times, config: saved.config });
}

type Table = Awaited<ReturnType<typeof readDelimited>>;

/** A survival run's oof.csv (`id,fold,time,event,risk,surv_<t>...`) as rows (fold 0-based; `predictedTime` NaN). */
export async function readSurvivalOof(file: string, evalTimes: readonly number[]): Promise<OofRow[]> {
  return survivalOofRows(await readDelimited(file), file, evalTimes);
}

function survivalOofRows(table: Table, file: string, evalTimes: readonly number[]): OofRow[] {
  const [ci, fi, ti, ei, ri] = columns(table, file, ['id', 'fold', 'time', 'event', 'risk'], 'id,fold,time,event,risk,surv_<t>...');
  const survCols = evalTimes.map((t) => table.header.indexOf(`surv_${t}`));
  return table.rows.map((r, k) => {
    const num = cellNumber(table, file, k);
    const surv = survCols.every((c) => c >= 0 && r[c] !== '') ? survCols.map((c) => num(c, table.header[c]!)) : null;
    return { id: r[ci]!, fold: num(fi, 'fold') - 1, time: num(ti, 'time'), event: num(ei, 'event'), risk: num(ri, 'risk'), predictedTime: NaN, surv };
  });
}

/** Indices of the named columns; a missing one is an error naming the file and the expected header. */
function columns(table: Table, file: string, names: readonly string[], expected: string): number[] {
  return names.map((name) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no column '${name}'; expected ${expected}`);
    return i;
  });
}

/** A reader of row k's numeric cells: an empty or non-numeric cell is an error naming the file line and column. */
function cellNumber(table: Table, file: string, k: number): (i: number, name: string) => number {
  const r = table.rows[k]!;
  return (i, name) => {
    const v = Number(r[i]);
    if (r[i] === '' || !Number.isFinite(v)) throw new Error(`${file}:${table.rowLines[k]}: column '${name}': expected a number, found ${JSON.stringify(r[i])}`);
    return v;
  };
}

/** A binary run: oof.csv is id,fold,label,probability,logit. */
function evaluateBinary(saved: RunSummary, file: string, table: Table): RunSummary {
  const [ci, fi, li, pi, ri] = columns(table, file, ['id', 'fold', 'label', 'probability', 'logit'], "id,fold,label,probability,logit (a binary run's oof.csv)");
  const rows: BinaryOofRow[] = table.rows.map((r, k) => {
    const num = cellNumber(table, file, k);
    const label = num(li, 'label');
    if (label !== 0 && label !== 1) throw new Error(`${file}:${table.rowLines[k]}: column 'label': expected 0 or 1, found ${JSON.stringify(r[li])}`);
    const probability = num(pi, 'probability');
    if (probability < 0 || probability > 1) throw new Error(`${file}:${table.rowLines[k]}: column 'probability': expected a value in [0, 1], found ${probability}`);
    return { id: r[ci]!, fold: num(fi, 'fold') - 1, label, probability, risk: num(ri, 'logit') };
  });
  const results: FoldResult[] = saved.folds.map((f) => {
    const foldRows = rows.filter((r) => r.fold === f.fold - 1);
    const { metrics, note } = binaryFoldMetrics(foldRows);
    return {
      target: 'binary', fold: f.fold - 1, nTrain: f.n_train, nVal: foldRows.length, epochs: f.epochs, bestEpoch: f.best_epoch, history: [],
      metrics, ...(note ? { metricsNote: note } : {}), rows: foldRows, seconds: f.seconds,
    };
  });
  return runSummary(saved.name, results, { seed: saved.seed, backend: saved.backend, seconds: saved.seconds, evalTimes: [], config: saved.config });
}
