/**
 * RunStore: the directory of one run (`runs/NAME`). Injected as TOKENS.RunStore.
 *
 * Invariants
 * - Every write is atomic: a temp file in the same directory, then rename. A crash never leaves a half-written
 *   file and never destroys the previous version.
 * - Paths are relative to the run directory and may not escape it.
 * - The resolved config is saved as `config.resolved.json` in every run.
 *
 * @example
 * await store.writeJson('splits.json', splits);
 * const cfg = await store.readJson('config.resolved.json');
 */
export interface RunStore {
  readonly dir: string;
  path(relative: string): string;
  writeJson(relative: string, value: unknown): Promise<string>;
  writeText(relative: string, text: string): Promise<string>;
  writeBytes(relative: string, bytes: Uint8Array): Promise<string>;
  readJson<T = unknown>(relative: string): Promise<T>;
  exists(relative: string): Promise<boolean>;
}
