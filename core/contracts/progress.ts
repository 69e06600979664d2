/**
 * ProgressReporter: progress of long work (training, extraction, synthesis). Injected as TOKENS.Progress.
 *
 * Invariants
 * - `start(label, total)` returns a task; `tick(n = 1)` advances it; `done()` ends it exactly once.
 * - On a TTY it draws one updating bar with rate and ETA; otherwise it prints a plain line at most every few
 *   seconds; with `--quiet` it prints nothing. Progress goes to stderr.
 *
 * @example
 * const task = progress.start('writing cases', cases.length);
 * for (const c of cases) { await write(c); task.tick(); }
 * task.done();
 */
export interface ProgressTask {
  /** Advance by n (default 1); `status` (e.g. 'loss 0.512 val C 0.713') is shown after the counts. */
  tick(n?: number, status?: string): void;
  done(): void;
}

export interface ProgressReporter {
  start(label: string, total: number): ProgressTask;
}
