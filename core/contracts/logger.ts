/**
 * Logger: human-facing messages. Injected as TOKENS.Logger.
 *
 * Invariants
 * - Messages go to stderr so stdout stays free for a command's result (a table, JSON).
 * - `info` is silent under `--quiet`; `warn` and `error` are never silent; `debug` shows with `--verbose`.
 *
 * @example
 * logger.warn(`case ${c.id}: no RNA file; the rna branch is skipped`);
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
