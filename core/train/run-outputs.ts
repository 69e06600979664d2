/**
 * The files of a run directory that scripts rely on:
 *
 * - `oof.csv`: one row per validation case of every fold: `id,fold,time,event,risk` then `surv_<t>` for each
 *   evaluation time (empty cells when the head gives no curve). `fold` is 1-based.
 * - `summary.json`: at least `c_index_mean`, `c_index_sd`, `folds` (one object per fold), `seed`, `config`; also
 *   Uno's C, iAUC and IBS means and sds, the evaluation times, the pooled out-of-fold C-index and the backend.
 * - `summary.csv`: one row per fold, then `mean` and `sd` rows.
 *
 * Means and sds are over folds (sd with n - 1); a metric undefined in a fold is left out of its mean.
 *
 * A binary run (`target: 'binary'` in summary.json) writes `oof.csv` as `id,fold,label,probability,logit` and adds
 * `auc`, `f1_weighted`, `accuracy`, `log_loss` and `brier` (per fold, and `_mean`/`_sd`) plus `auc_pooled_oof`; its
 * survival metrics are null. `summary.csv` then has the binary columns.
 */
import type { TargetKind } from '../contracts/binary-label.js';
import { rocAuc } from '../classification/metrics.js';
import { harrellC } from '../survival/concordance.js';
import type { BinaryOofRow, FoldResult, OofRow } from './train-fold.js';

export interface FoldSummary {
  fold: number;
  n_train: number;
  n_val: number;
  /** Events among the validation cases (null for a binary run). */
  events_val: number | null;
  epochs: number;
  best_epoch: number | null;
  c_index: number | null;
  uno_c: number | null;
  iauc: number | null;
  ibs: number | null;
  seconds: number;
  note?: string;
  /** Binary runs: positive validation cases and the fold's binary metrics. */
  positives_val?: number;
  auc?: number | null;
  f1_weighted?: number | null;
  accuracy?: number | null;
  log_loss?: number | null;
  brier?: number | null;
}

/** The binary metrics of a run summary (means and sds over folds). */
export interface BinarySummary {
  auc_mean: number | null;
  auc_sd: number | null;
  f1_weighted_mean: number | null;
  f1_weighted_sd: number | null;
  accuracy_mean: number | null;
  accuracy_sd: number | null;
  log_loss_mean: number | null;
  log_loss_sd: number | null;
  brier_mean: number | null;
  brier_sd: number | null;
  /** ROC AUC of all out-of-fold probabilities pooled. */
  auc_pooled_oof: number | null;
}

export interface RunSummary extends Partial<BinarySummary> {
  name: string;
  /** What the run's head learns (absent in runs written before binary heads: survival). */
  target?: TargetKind;
  c_index_mean: number | null;
  c_index_sd: number | null;
  uno_c_mean: number | null;
  uno_c_sd: number | null;
  iauc_mean: number | null;
  iauc_sd: number | null;
  ibs_mean: number | null;
  ibs_sd: number | null;
  /** Harrell's C of all out-of-fold risks pooled (risks of different folds are on different scales: a rough check). */
  c_index_pooled_oof: number | null;
  eval_times: number[];
  folds: FoldSummary[];
  seed: number;
  backend: string;
  seconds: number;
  config: Record<string, unknown>;
}

export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function oofCsv(rows: readonly OofRow[], evalTimes: readonly number[]): string {
  const header = ['id', 'fold', 'time', 'event', 'risk', ...evalTimes.map((t) => `surv_${t}`)];
  const lines = [header.join(',')];
  for (const r of rows) {
    lines.push([r.id, r.fold + 1, r.time, r.event, r.risk, ...evalTimes.map((_, k) => (r.surv ? r.surv[k] : null))].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function binaryOofCsv(rows: readonly BinaryOofRow[]): string {
  const lines = ['id,fold,label,probability,logit'];
  for (const r of rows) lines.push([r.id, r.fold + 1, r.label, r.probability, r.risk].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

function meanSd(values: (number | null)[]): [number | null, number | null] {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return [null, null];
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return [mean, null];
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return [mean, sd];
}

export function foldSummary(r: FoldResult): FoldSummary {
  if (r.target === 'binary') {
    const b = r.metrics;
    return {
      fold: r.fold + 1, n_train: r.nTrain, n_val: r.nVal, events_val: null, epochs: r.epochs, best_epoch: r.bestEpoch,
      c_index: null, uno_c: null, iauc: null, ibs: null, seconds: r.seconds,
      ...(r.metricsNote ? { note: r.metricsNote } : {}),
      positives_val: r.rows.reduce((a, x) => a + x.label, 0),
      auc: b?.auc ?? null, f1_weighted: b?.f1_weighted ?? null, accuracy: b?.accuracy ?? null, log_loss: b?.log_loss ?? null, brier: b?.brier ?? null,
    };
  }
  const m = r.metrics;
  return {
    fold: r.fold + 1,
    n_train: r.nTrain,
    n_val: r.nVal,
    events_val: r.rows.reduce((a, x) => a + x.event, 0),
    epochs: r.epochs,
    best_epoch: r.bestEpoch,
    c_index: m?.harrell_c ?? null,
    uno_c: m?.uno_c ?? null,
    iauc: m?.iauc ?? null,
    ibs: m?.ibs ?? null,
    seconds: r.seconds,
    ...(r.metricsNote ? { note: r.metricsNote } : {}),
  };
}

export function runSummary(
  name: string,
  results: readonly FoldResult[],
  o: { seed: number; backend: string; seconds: number; evalTimes: number[]; config: Record<string, unknown> },
): RunSummary {
  const folds = results.map(foldSummary);
  if (results.length > 0 && results.every((r) => r.target === 'binary')) {
    const rows = results.flatMap((r) => (r.target === 'binary' ? r.rows : []));
    let pooled: number | null = null;
    try {
      pooled = rocAuc(rows.map((r) => r.label), rows.map((r) => r.probability));
    } catch {
      pooled = null;
    }
    const ms = (k: 'auc' | 'f1_weighted' | 'accuracy' | 'log_loss' | 'brier') => meanSd(folds.map((f) => f[k] ?? null));
    const [aucM, aucS] = ms('auc');
    const [f1M, f1S] = ms('f1_weighted');
    const [accM, accS] = ms('accuracy');
    const [llM, llS] = ms('log_loss');
    const [brM, brS] = ms('brier');
    return {
      name, target: 'binary',
      c_index_mean: null, c_index_sd: null, uno_c_mean: null, uno_c_sd: null, iauc_mean: null, iauc_sd: null, ibs_mean: null, ibs_sd: null,
      c_index_pooled_oof: null,
      auc_mean: aucM, auc_sd: aucS, f1_weighted_mean: f1M, f1_weighted_sd: f1S, accuracy_mean: accM, accuracy_sd: accS,
      log_loss_mean: llM, log_loss_sd: llS, brier_mean: brM, brier_sd: brS, auc_pooled_oof: pooled,
      eval_times: [], folds, seed: o.seed, backend: o.backend, seconds: o.seconds, config: o.config,
    };
  }
  if (results.some((r) => r.target === 'binary')) throw new Error('runSummary: the folds mix binary and survival results');
  const [cMean, cSd] = meanSd(folds.map((f) => f.c_index));
  const [uMean, uSd] = meanSd(folds.map((f) => f.uno_c));
  const [aMean, aSd] = meanSd(folds.map((f) => f.iauc));
  const [bMean, bSd] = meanSd(folds.map((f) => f.ibs));
  const rows = results.flatMap((r) => (r.target === 'binary' ? [] : r.rows));
  let pooled: number | null = null;
  try {
    pooled = harrellC(rows.map((r) => r.time), rows.map((r) => r.event), rows.map((r) => r.risk)).cIndex;
  } catch {
    pooled = null;
  }
  return {
    name, target: 'survival',
    c_index_mean: cMean, c_index_sd: cSd, uno_c_mean: uMean, uno_c_sd: uSd,
    iauc_mean: aMean, iauc_sd: aSd, ibs_mean: bMean, ibs_sd: bSd,
    c_index_pooled_oof: pooled,
    eval_times: o.evalTimes,
    folds,
    seed: o.seed,
    backend: o.backend,
    seconds: o.seconds,
    config: o.config,
  };
}

export function summaryCsv(s: RunSummary): string {
  if (s.target === 'binary') {
    const cols = ['fold', 'n_train', 'n_val', 'positives_val', 'epochs', 'best_epoch', 'auc', 'f1_weighted', 'accuracy', 'log_loss', 'brier', 'seconds'] as const;
    const lines = [cols.join(',')];
    for (const f of s.folds) lines.push(cols.map((c) => csvCell(f[c])).join(','));
    lines.push(['mean', '', '', '', '', '', s.auc_mean, s.f1_weighted_mean, s.accuracy_mean, s.log_loss_mean, s.brier_mean, ''].map(csvCell).join(','));
    lines.push(['sd', '', '', '', '', '', s.auc_sd, s.f1_weighted_sd, s.accuracy_sd, s.log_loss_sd, s.brier_sd, ''].map(csvCell).join(','));
    return lines.join('\n') + '\n';
  }
  const cols = ['fold', 'n_train', 'n_val', 'events_val', 'epochs', 'best_epoch', 'c_index', 'uno_c', 'iauc', 'ibs', 'seconds'] as const;
  const lines = [cols.join(',')];
  for (const f of s.folds) lines.push(cols.map((c) => csvCell(f[c])).join(','));
  lines.push(['mean', '', '', '', '', '', s.c_index_mean, s.uno_c_mean, s.iauc_mean, s.ibs_mean, ''].map(csvCell).join(','));
  lines.push(['sd', '', '', '', '', '', s.c_index_sd, s.uno_c_sd, s.iauc_sd, s.ibs_sd, ''].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

const f4 = (x: number | null) => (x === null ? '-' : x.toFixed(4));

/** The table printed at the end of `mmsurv train`. */
export function formatRunSummary(s: RunSummary): string {
  const pm = (m: number | null | undefined, sd: number | null | undefined) => (m === null || m === undefined ? '-' : `${m.toFixed(4)} +- ${sd === null || sd === undefined ? '-' : sd.toFixed(4)}`);
  if (s.target === 'binary') {
    const lines = ['fold  n_val  positive  epochs  best  AUC     F1 (w)  accuracy  log loss'];
    for (const f of s.folds) {
      lines.push(
        `${String(f.fold).padEnd(4)}  ${String(f.n_val).padStart(5)}  ${String(f.positives_val ?? '-').padStart(8)}  ${String(f.epochs).padStart(6)}  ` +
          `${String(f.best_epoch ?? '-').padStart(4)}  ${f4(f.auc ?? null).padEnd(6)}  ${f4(f.f1_weighted ?? null).padEnd(6)}  ${f4(f.accuracy ?? null).padEnd(8)}  ${f4(f.log_loss ?? null)}`,
      );
    }
    lines.push('');
    lines.push(`AUC ${pm(s.auc_mean, s.auc_sd)}   weighted F1 (p >= 0.5) ${pm(s.f1_weighted_mean, s.f1_weighted_sd)}   accuracy ${pm(s.accuracy_mean, s.accuracy_sd)}   log loss ${pm(s.log_loss_mean, s.log_loss_sd)}`);
    return lines.join('\n');
  }
  const lines = ['fold  n_val  events  epochs  best  C-index  Uno C   iAUC    IBS'];
  for (const f of s.folds) {
    lines.push(
      `${String(f.fold).padEnd(4)}  ${String(f.n_val).padStart(5)}  ${String(f.events_val ?? '-').padStart(6)}  ${String(f.epochs).padStart(6)}  ` +
        `${String(f.best_epoch ?? '-').padStart(4)}  ${f4(f.c_index).padEnd(7)}  ${f4(f.uno_c).padEnd(6)}  ${f4(f.iauc).padEnd(6)}  ${f4(f.ibs)}`,
    );
  }
  lines.push('');
  lines.push(`C-index ${pm(s.c_index_mean, s.c_index_sd)}   Uno's C ${pm(s.uno_c_mean, s.uno_c_sd)}   iAUC ${pm(s.iauc_mean, s.iauc_sd)}   IBS ${pm(s.ibs_mean, s.ibs_sd)}`);
  return lines.join('\n');
}
