/**
 * From a JSON extractor spec to a SlideExtractor (see core/contracts/slide-extractor.ts for the spec and rules).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../contracts/logger.js';
import type { SlideExtractor } from '../contracts/slide-extractor.js';
import { createCommandExtractor } from './command-extractor.js';
import { validateExtractorSpec, type SlideExtractorSpec } from './extractor-spec.js';
import { createTfjsExtractor } from './tfjs-extractor.js';

export { slideExtractorSchema, validateExtractorSpec, type SlideExtractorSpec } from './extractor-spec.js';

export interface CreateExtractorOptions {
  /** Folder that relative paths of the spec (modelDir, command files) resolve against: the spec file's folder. */
  baseDir: string;
  logger?: Logger;
  /** Names the spec in error messages (default 'extractor spec'). */
  where?: string;
}

/** Validate `spec` (filling defaults) and build its extractor; a tfjs model is loaded and probed once here. */
export async function createSlideExtractor(spec: unknown, opts: CreateExtractorOptions): Promise<SlideExtractor> {
  const valid = validateExtractorSpec(spec, opts.where);
  const common = { baseDir: opts.baseDir, ...(opts.logger ? { logger: opts.logger } : {}) };
  return valid.type === 'tfjs' ? createTfjsExtractor(valid, common) : createCommandExtractor(valid, common);
}

/** Read a spec file: the parsed, validated spec and its folder (the baseDir of its relative paths). */
export async function readExtractorSpecFile(path: string): Promise<{ spec: SlideExtractorSpec; baseDir: string }> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${abs}: extractor spec ${code === 'ENOENT' ? 'not found' : `cannot be read (${code})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${abs}: not valid JSON (${(err as Error).message})`);
  }
  return { spec: validateExtractorSpec(json, abs), baseDir: dirname(abs) };
}
