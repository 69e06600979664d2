import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginModule, Registrar } from '../contracts/component.js';
import { codeRoot, packageRoot, resolveModuleFile } from '../paths.js';
import { PluginLoadError } from './errors.js';
import { Registries } from './registry.js';

/** One entry of registry.json. */
export interface PluginEntry {
  /** Short name shown in `mmsurv plugins` ('common', 'survpgc', 'chimera'). */
  name: string;
  /** Module path, relative to the code root for mmsurv's own registry.json, else to the registry file. */
  module: string;
  description?: string;
}

export interface RegistryFile {
  plugins: PluginEntry[];
  challenges: PluginEntry[];
  /** Modules that add CLI commands (`export const commands: CommandModule[]`), e.g. containers' package / test-container. */
  commands: PluginEntry[];
}

export interface LoadOptions {
  /** mmsurv's registry.json; default: the one at the package root. */
  registryFile?: string;
  /** Extra registry files of a team's own plugins; their module paths are relative to each file. */
  extraRegistryFiles?: string[];
  /** Components built into core (dataset readers); registered first, as plugin 'core'. */
  builtins?: (r: Registrar) => void;
}

/** Parse and check registry.json; errors name the file and the JSON path. */
export async function readRegistryFile(file: string): Promise<RegistryFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new PluginLoadError(`${file}: cannot read the plugin registry: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PluginLoadError(`${file}: expected an object with "plugins" and "challenges" arrays, found ${JSON.stringify(raw)}`);
  }
  const obj = raw as Record<string, unknown>;
  const out: RegistryFile = { plugins: [], challenges: [], commands: [] };
  for (const key of ['plugins', 'challenges', 'commands'] as const) {
    const list = obj[key] ?? [];
    if (!Array.isArray(list)) throw new PluginLoadError(`${file}: /${key}: expected an array, found ${JSON.stringify(list)}`);
    list.forEach((e, i) => {
      const entry = e as Partial<PluginEntry>;
      if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string' || typeof entry.module !== 'string') {
        throw new PluginLoadError(`${file}: /${key}/${i}: expected { "name": string, "module": string }, found ${JSON.stringify(e)}`);
      }
      out[key].push(entry as PluginEntry);
    });
  }
  for (const key of Object.keys(obj)) {
    if (!['plugins', 'challenges', 'commands', '$schema', '$comment'].includes(key)) {
      throw new PluginLoadError(`${file}: /${key}: unexpected key; registry.json has "plugins", "challenges" and "commands"`);
    }
  }
  return out;
}

async function importPlugin(entry: PluginEntry, base: string, registryFile: string, registries: Registries): Promise<void> {
  const file = resolveModuleFile(base, entry.module);
  if (!file) {
    throw new PluginLoadError(
      `${registryFile}: plugin '${entry.name}': module '${entry.module}' not found (looked in ${base}). ` +
        `Build with 'npm run build' or fix the path.`,
    );
  }
  let mod: Partial<PluginModule>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Partial<PluginModule>;
  } catch (err) {
    throw new PluginLoadError(`plugin '${entry.name}' (${file}) failed to import: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.register !== 'function') {
    throw new PluginLoadError(`plugin '${entry.name}' (${file}): expected an exported function register(registrar), found ${typeof mod.register}`);
  }
  const shown = relative(packageRoot(), file) || file;
  await mod.register(registries.registrar(entry.name, shown));
}

/**
 * Load every plugin and challenge adapter listed in registry.json (and any extra registry files) into fresh
 * registries. Import order is file order; an id registered twice fails naming both modules.
 */
export async function loadRegistries(options: LoadOptions = {}): Promise<Registries> {
  const registries = new Registries();
  if (options.builtins) options.builtins(registries.registrar('core', 'core'));
  const mainFile = options.registryFile ?? resolve(packageRoot(), 'registry.json');
  const ownFile = resolve(mainFile) === resolve(packageRoot(), 'registry.json');
  const files: { file: string; base: string }[] = [{ file: mainFile, base: ownFile ? codeRoot() : dirname(resolve(mainFile)) }];
  for (const extra of options.extraRegistryFiles ?? []) files.push({ file: resolve(extra), base: dirname(resolve(extra)) });
  for (const { file, base } of files) {
    const reg = await readRegistryFile(file);
    for (const entry of [...reg.plugins, ...reg.challenges]) await importPlugin(entry, base, file, registries);
  }
  return registries;
}

/**
 * CLI commands contributed by the modules under "commands" in mmsurv's registry.json (they import core only, so core
 * never imports them). Each module exports `commands`, an array of yargs CommandModules.
 */
export async function loadCommandModules(registryFile = resolve(packageRoot(), 'registry.json')): Promise<unknown[]> {
  const reg = await readRegistryFile(registryFile);
  const out: unknown[] = [];
  for (const entry of reg.commands) {
    const file = resolveModuleFile(codeRoot(), entry.module);
    if (!file) throw new PluginLoadError(`${registryFile}: commands '${entry.name}': module '${entry.module}' not found (looked in ${codeRoot()}); build with 'npm run build'`);
    const mod = (await import(pathToFileURL(file).href)) as { commands?: unknown };
    if (!Array.isArray(mod.commands)) throw new PluginLoadError(`commands '${entry.name}' (${file}): expected an exported array \`commands\`, found ${typeof mod.commands}`);
    out.push(...mod.commands);
  }
  return out;
}
