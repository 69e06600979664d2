import { dirname, isAbsolute, resolve } from 'node:path';

/**
 * The cohort folder a config names: `data.root`, relative to the folder of the config file that was loaded
 * (absolute paths are kept). Errors when the config has no data section.
 */
export function resolveDataRoot(resolved: Record<string, unknown>, configFile: string): string {
  const data = resolved['data'] as { root?: unknown } | undefined;
  if (!data || typeof data.root !== 'string') {
    throw new Error(`${configFile}: /data/root: expected the cohort folder (a string), found ${JSON.stringify(data?.root)}`);
  }
  return isAbsolute(data.root) ? data.root : resolve(dirname(resolve(configFile)), data.root);
}
