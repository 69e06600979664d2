/**
 * Loading experiment configs: JSON files with `_base_` inheritance.
 *
 * - `_base_` is a path or an array of paths. Bases are resolved depth-first and merged in order, then the file's
 *   own keys go on top (see mergeConfigs: later keys win, `"_delete_": true` replaces).
 * - A relative `_base_` path resolves against the folder of the file that names it; when nothing is there, against
 *   the mmsurv package root, so `"_base_": "plugins/chimera-bilinear/preset.json"` works from any folder.
 * - `sources` lists every file used, bases first, each once (absolute paths).
 * - Errors teach: a JSON syntax error names file, line and column; a missing base names the file that referenced
 *   it and every place looked in; a cycle lists the chain.
 *
 * @example
 * const { config, sources } = await loadConfig('configs/task3.json');
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { packageRoot } from '../paths.js';
import { didYouMean } from '../registry/did-you-mean.js';
import { isPlainObject, mergeConfigs, type ConfigObject } from './merge.js';

/** The key that names the configs a config inherits from. */
export const BASE_KEY = '_base_';

export interface LoadedConfig {
  /** The merged config, without `_base_`. */
  config: ConfigObject;
  /** Every file used (absolute), bases first. */
  sources: string[];
}

/** A config file cannot be read, parsed or resolved. */
export class ConfigLoadError extends Error {
  constructor(message: string, readonly file: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigLoadError';
  }
}

/** A path for messages: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** Why JSON.parse failed, where, and a hint for the usual suspects (trailing commas, comments). */
function describeJsonError(text: string, err: Error, file: string): string {
  const raw = err.message;
  const m = /at position (\d+)/.exec(raw);
  const offset = m ? Number(m[1]) : text.length;
  const { line, column } = lineColumn(text, offset);
  const what = raw.replace(/^JSON\.parse:\s*/, '').replace(/,?\s*"[^"]*"\.{3}\s*is not valid JSON$/, '')
    .replace(/\s*in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '');
  const ch = text[offset];
  const prev = text.slice(0, offset).trimEnd().slice(-1);
  let hint = '';
  if ((ch === '}' || ch === ']') && prev === ',') hint = ' (JSON allows no trailing comma before it)';
  else if (ch === '/' && (text[offset + 1] === '/' || text[offset + 1] === '*')) hint = ' (JSON allows no comments)';
  else if (ch === "'") hint = ' (JSON strings and keys take double quotes)';
  else if (ch === '"' && /["\d\]}el]$/.test(prev)) hint = " (a missing ',' before it?)";
  else if (offset >= text.length) hint = ' (the file ends early: an unclosed { or [ ?)';
  const lineText = text.split('\n')[line - 1] ?? '';
  const caret = `${' '.repeat(Math.max(0, column - 1))}^`;
  return `${displayPath(file)}:${line}:${column}: invalid JSON: ${what}${hint}\n    ${lineText}\n    ${caret}`;
}

/** Read and parse a JSON file; syntax errors name the file, line and column. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : (err as Error).message;
    throw new ConfigLoadError(`${displayPath(file)}: cannot read the config: ${why}`, file, { cause: err });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigLoadError(describeJsonError(text, err as Error, file), file, { cause: err });
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Files in the folder of `candidate` whose names look like its name, for a did-you-mean. */
function similarFiles(candidate: string): string[] {
  const dir = dirname(candidate);
  if (!existsSync(dir)) return [];
  try {
    const names = readdirSync(dir).filter((n) => n.endsWith('.json'));
    return didYouMean(basename(candidate), names, 2).map((n) => resolve(dir, n));
  } catch {
    return [];
  }
}

/** Where a `_base_` reference points: next to the referring file, else under the package root. */
function resolveBase(ref: string, from: string): string {
  const candidates = isAbsolute(ref) ? [ref] : [resolve(dirname(from), ref), resolve(packageRoot(), ref)];
  const unique = [...new Set(candidates)];
  const found = unique.find(isFile);
  if (found) return found;
  const similar = [...new Set(unique.flatMap(similarFiles))].map(displayPath);
  const hint = similar.length ? ` Did you mean ${similar.map((s) => `'${s}'`).join(' or ')}?` : '';
  throw new ConfigLoadError(
    `${displayPath(from)}: ${BASE_KEY} '${ref}' not found; looked in ${unique.join(' and in the mmsurv package at ')}.${hint}`,
    from,
  );
}

/** The `_base_` references of a config, checked for shape. */
function baseRefs(obj: ConfigObject, where: string): string[] {
  const refs = obj[BASE_KEY];
  if (refs === undefined) return [];
  const list = Array.isArray(refs) ? refs : [refs];
  if (list.some((r) => typeof r !== 'string' || r.trim() === '')) {
    throw new ConfigLoadError(
      `${displayPath(where)}: /${BASE_KEY}: expected a path or an array of paths, found ${JSON.stringify(refs)}`,
      where,
    );
  }
  return list as string[];
}

async function resolveObject(obj: ConfigObject, referrer: string, chain: string[], sources: string[]): Promise<ConfigObject> {
  let merged: ConfigObject = {};
  for (const ref of baseRefs(obj, referrer)) {
    const file = resolveBase(ref, referrer);
    merged = mergeConfigs(merged, await resolveFile(file, chain, sources));
  }
  const { [BASE_KEY]: _bases, ...own } = obj;
  return mergeConfigs(merged, own);
}

async function resolveFile(file: string, chain: string[], sources: string[]): Promise<ConfigObject> {
  if (chain.includes(file)) {
    const loop = [...chain.slice(chain.indexOf(file)), file].map(displayPath).join(' -> ');
    throw new ConfigLoadError(`${displayPath(chain[chain.length - 1]!)}: cycle in ${BASE_KEY}: ${loop}`, file);
  }
  const data = await readJsonFile(file);
  if (!isPlainObject(data)) {
    const found = Array.isArray(data) ? 'an array' : JSON.stringify(data);
    throw new ConfigLoadError(`${displayPath(file)}: expected a JSON object at the top level, found ${found}`, file);
  }
  const config = await resolveObject(data, file, [...chain, file], sources);
  if (!sources.includes(file)) sources.push(file);
  return config;
}

/** Load a config file and everything it inherits from. */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  const sources: string[] = [];
  const config = await resolveFile(resolve(file), [], sources);
  return { config, sources };
}

/**
 * Resolve the `_base_` chain of a config built in code. Its relative `_base_` paths resolve against `baseDir`
 * (then the package root); `sources` lists the base files only.
 */
export async function loadConfigObject(obj: ConfigObject, baseDir: string = process.cwd()): Promise<LoadedConfig> {
  const sources: string[] = [];
  const referrer = resolve(baseDir, '<config object>');
  const config = await resolveObject(obj, referrer, [], sources);
  return { config, sources };
}
