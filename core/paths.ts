import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where mmsurv's code runs from: the folder that holds `core/` of the running files. That is `dist/` for the
 * compiled CLI and the project root when sources run directly (vitest).
 */
export function codeRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/** The mmsurv package root (the folder with package.json, registry.json and the presets). */
export function packageRoot(): string {
  const root = codeRoot();
  return basename(root) === 'dist' && existsSync(resolve(root, '..', 'package.json')) ? dirname(root) : root;
}

/**
 * Resolve a module path written as it is compiled ('plugins/common/index.js') against a base folder. When the
 * `.js` file is absent but its `.ts` source exists (running sources under vitest), the source is returned.
 */
export function resolveModuleFile(base: string, modulePath: string): string | null {
  const js = resolve(base, modulePath);
  if (existsSync(js)) return js;
  if (js.endsWith('.js')) {
    const ts = js.slice(0, -3) + '.ts';
    if (existsSync(ts)) return ts;
  }
  return null;
}
