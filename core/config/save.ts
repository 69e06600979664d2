/**
 * The resolved config of a run: `config.resolved.json` in the run directory, every default filled in, with a
 * `_sources_` array naming the files it was merged from. It travels into the container, which loads it as is.
 */
import type { RunStore } from '../contracts/run-store.js';
import { isPlainObject, type ConfigObject } from './merge.js';

export const RESOLVED_CONFIG_FILE = 'config.resolved.json';
export const SOURCES_KEY = '_sources_';

/** Write `config.resolved.json` atomically; returns its path. */
export async function saveResolvedConfig(store: RunStore, resolved: ConfigObject, sources: readonly string[]): Promise<string> {
  const { [SOURCES_KEY]: _previous, ...config } = resolved;
  return store.writeJson(RESOLVED_CONFIG_FILE, { ...config, [SOURCES_KEY]: [...sources] });
}

/** Read a run's resolved config back: the config without `_sources_`, and the sources. */
export async function readResolvedConfig(store: RunStore): Promise<{ config: ConfigObject; sources: string[] }> {
  const data = await store.readJson<unknown>(RESOLVED_CONFIG_FILE);
  if (!isPlainObject(data)) {
    throw new Error(`${store.path(RESOLVED_CONFIG_FILE)}: expected a JSON object, found ${Array.isArray(data) ? 'an array' : JSON.stringify(data)}`);
  }
  const { [SOURCES_KEY]: sources, ...config } = data;
  return { config, sources: Array.isArray(sources) ? sources.filter((s): s is string => typeof s === 'string') : [] };
}
