/**
 * Folds in parallel: `workers` worker threads, each with its own tfjs (the wasm backend is single-threaded in Node,
 * so this is how a run uses several cores). Each worker rebuilds the run from files (config, cohort, splits) and
 * pulls fold numbers until none is left; results come back as the same FoldResult the in-thread loop returns, so
 * a run gives the same numbers with any number of workers. Workers print as the parent does: its log level and its
 * progress mode (quiet, JSON lines or plain lines, TTY bar) travel in the job, and worker k prefixes its progress task
 * ids with 'wk.' so JSON consumers can tell the threads' tasks apart. The patch features travel too, as the parent
 * loaded them (`bags`): in SharedArrayBuffers they are shared, not copied.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PatchBag } from '../contracts/case.js';
import type { Logger } from '../contracts/logger.js';
import type { ProgressMode } from '../contracts/progress.js';
import type { LogLevel } from '../services/logger.js';
import type { FoldResult } from './train-fold.js';

export interface FoldPoolJob {
  configFile: string;
  runDir: string;
  workers: number;
  folds: number;
  resume: boolean;
  backend: string;
  pluginFiles: string[];
  splitsFile?: string;
  stopAfterEpochs?: number;
  /** The parent's progress mode (default: a StreamProgress with default settings in each worker). */
  progress?: ProgressMode;
  /** The parent's log level (default 'normal'). */
  logLevel?: LogLevel;
  /**
   * The bags the parent loaded, by case id. Features in SharedArrayBuffers reach every worker without a copy (one
   * copy of the cohort in memory, nothing read twice); without them each worker reads the bags itself.
   */
  bags?: Record<string, PatchBag[]>;
}

/** What one worker thread receives: the job and its own number (1-based). */
export interface FoldWorkerData extends FoldPoolJob {
  worker: number;
}

export type WorkerRequest = { type: 'fold'; fold: number } | { type: 'exit' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; fold: number; result: FoldResult }
  | { type: 'error'; fold: number | null; message: string };

/** Train the job's folds in worker threads; `onFold` is called in the parent as each fold's result arrives. */
export async function runFoldsInWorkers(job: FoldPoolJob, logger: Logger, onFold?: (r: FoldResult) => void): Promise<FoldResult[]> {
  const script = fileURLToPath(new URL('./fold-worker.js', import.meta.url));
  const queue = Array.from({ length: job.folds }, (_, i) => i);
  const results: FoldResult[] = [];
  logger.info(`training ${job.folds} folds in ${job.workers} worker threads`);
  await Promise.all(
    Array.from({ length: job.workers }, (_, k) =>
      new Promise<void>((resolveWorker, reject) => {
        const worker = new Worker(script, { workerData: { ...job, worker: k + 1 } satisfies FoldWorkerData });
        let failed = false;
        const next = () => {
          const fold = queue.shift();
          worker.postMessage(fold === undefined ? ({ type: 'exit' } satisfies WorkerRequest) : ({ type: 'fold', fold } satisfies WorkerRequest));
        };
        worker.on('message', (m: WorkerReply) => {
          if (m.type === 'ready') next();
          else if (m.type === 'result') { results.push(m.result); onFold?.(m.result); next(); }
          else { failed = true; queue.length = 0; reject(new Error(m.fold === null ? m.message : `fold ${m.fold + 1}: ${m.message}`)); void worker.terminate(); }
        });
        worker.on('error', (err) => { failed = true; queue.length = 0; reject(err); });
        worker.on('exit', (code) => {
          if (failed) return;
          if (code === 0) resolveWorker();
          else reject(new Error(`a fold worker exited with code ${code}`));
        });
      }),
    ),
  );
  return results.sort((a, b) => a.fold - b.fold);
}
