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
  tick(n?: number): void;
  done(): void;
}

export interface ProgressReporter {
  start(label: string, total: number): ProgressTask;
}
