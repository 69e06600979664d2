/**
 * ProgressReporter: progress of long work (training, extraction, synthesis, knowledge, image build and save,
 * container tests). Injected as TOKENS.Progress.
 *
 * Invariants
 * - `start(label, total)` returns a task; `tick(n = 1)` advances it; `done()` ends it exactly once (later calls of
 *   `tick` or `done` are ignored). `total` is the expected count, or `null` when it is not known in advance.
 * - Progress goes to stderr, never stdout (stdout holds a command's result).
 * - Three modes (`ProgressMode`):
 *   - on a TTY, one updating bar with rate and ETA;
 *   - otherwise plain lines, at most one every `intervalSeconds` (default 5) per task, and always a final line with
 *     the elapsed time ("in 12s");
 *   - `json` (`--json`): one JSON object per line (`ProgressEvent`), `start` and `done` always, `tick` at most one
 *     every `intervalSeconds` per task;
 *   - `quiet` (`--quiet`) prints nothing, whatever the other settings.
 *
 * JSON lines (`--json`), one object per event, keys in this order:
 *
 *   {"type":"progress","task":"3","label":"fold 1/5 epoch 2/30","event":"tick","count":12,"total":40,
 *    "rate":4.1,"eta_s":6.8,"elapsed_s":2.9,"status":"loss 0.5123"}
 *
 * - `type`: always "progress" (other line types may be added; skip what you do not know).
 * - `task`: a string id, unique among the tasks of one command, fold worker threads included ("w2.5" is task 5 of
 *   worker 2); the same for every event of one task.
 * - `event`: "start" (count 0), "tick", or "done" (the last event of the task).
 * - `count`, `total`: items done and expected (`total` null when unknown); bytes when `unit` is "bytes".
 * - `unit`: present only when it is not items: "bytes".
 * - `rate`: count per second since start (0 at start); `eta_s`: seconds left at that rate (null when unknown: no
 *   rate yet, or no total; 0 at done); `elapsed_s`: seconds since start. Numbers are rounded to 3 decimals.
 * - `status`: the latest status of the task (e.g. 'loss 0.512 val C 0.713'), absent when there is none.
 *
 * @example
 * const task = progress.start('writing cases', cases.length);
 * for (const c of cases) { await write(c); task.tick(1, c.id); }
 * task.done();
 *
 * const save = progress.start('saving image', null, { unit: 'bytes' });   // unknown total, counted in bytes
 */
export interface ProgressTask {
  /** Advance by n (default 1; 0 only updates the status); `status` is shown after the counts. */
  tick(n?: number, status?: string): void;
  done(): void;
}

export interface ProgressStartOptions {
  /** What `count` and `total` count: items (default) or bytes (shown as kB/MB/GB). */
  unit?: 'items' | 'bytes';
}

export interface ProgressReporter {
  start(label: string, total: number | null, options?: ProgressStartOptions): ProgressTask;
  /**
   * How this reporter writes, as plain data, so another thread can build one that writes the same way (the fold
   * workers of `mmsurv train --workers N`). Absent for reporters that cannot be copied (e.g. a test's recorder).
   */
  readonly mode?: ProgressMode;
}

/** How a stream reporter writes (serialisable: it travels to worker threads). */
export interface ProgressMode {
  /** Print nothing (`--quiet`); wins over everything else. */
  quiet?: boolean;
  /** JSON lines (`--json`) instead of a bar or plain lines. */
  json?: boolean;
  /** Draw an updating bar; default: whether stderr is a TTY. Ignored with `json`. */
  tty?: boolean;
  /** Minimum seconds between two plain lines (or JSON tick lines) of one task; default 5. */
  intervalSeconds?: number;
  /** Prefix of task ids (JSON), e.g. 'w2.' in fold worker 2, so ids stay unique across threads. */
  taskPrefix?: string;
}

/** One JSON line of `--json` progress (see the field list above). */
export interface ProgressEvent {
  type: 'progress';
  task: string;
  label: string;
  event: 'start' | 'tick' | 'done';
  count: number;
  total: number | null;
  unit?: 'bytes';
  rate: number;
  eta_s: number | null;
  elapsed_s: number;
  status?: string;
}
