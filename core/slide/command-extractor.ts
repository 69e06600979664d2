/**
 * The `command` slide extractor: an external program (any language) tiles and encodes the slide and writes a
 * CLAM/TRIDENT-style HDF5 (`features` [n, dim], `coords` [n, 2] level-0 top-left corners).
 *
 * `{slide}`, `{mask}` ('' without a mask) and `{out}` are replaced inside every argument; the program runs in
 * `baseDir` (the spec's folder) with no stdin, killed after `timeoutSeconds`. The HDF5 attributes `patch_level`
 * and `patch_size_level0` (or `patch_size` when `patch_level` is 0) fill in `level` and `patchSizeLevel0`.
 * weightsHash = sha256 over the command line and the content of every argument that names an existing file in
 * baseDir (e.g. the script), so editing the script invalidates cached features; files the script loads by
 * itself (its weights) are not seen: put their path on the command line to have them hashed.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../contracts/logger.js';
import type { ExtractorInfo, SlideExtractor, SlideFeatures, SlideInput } from '../contracts/slide-extractor.js';
import { readPatchFeaturesH5 } from '../data/io/hdf5.js';
import type { CommandExtractorSpec } from './extractor-spec.js';

const STDERR_TAIL_LINES = 20;

/** Replace {slide}, {mask}, {out} in each argument. */
export function substituteArgs(command: readonly string[], values: { slide: string; mask: string; out: string }): string[] {
  return command.map((arg) => arg.replace(/\{(slide|mask|out)\}/g, (_, key: 'slide' | 'mask' | 'out') => values[key]));
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function hashCommand(command: readonly string[], baseDir: string): Promise<string> {
  const h = createHash('sha256');
  h.update(JSON.stringify(command));
  for (const arg of command) {
    if (/\{(slide|mask|out)\}/.test(arg) || arg === '') continue;
    const p = resolve(baseDir, arg);
    if (!(await isFile(p))) continue;
    const bytes = await readFile(p);
    h.update(`\0${arg}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex');
}

function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['...', ...all.slice(-lines)] : all).map((l) => `    ${l}`).join('\n');
}

function quote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function numberAttr(attrs: Record<string, unknown>, key: string): number | undefined {
  const v = attrs[key];
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

class CommandSlideExtractor implements SlideExtractor {
  constructor(readonly info: ExtractorInfo, private readonly spec: CommandExtractorSpec, private readonly baseDir: string, private readonly logger?: Logger) {}

  async extract(slide: SlideInput, scratchDir: string): Promise<SlideFeatures> {
    const out = join(scratchDir, `${slide.slideId.replace(/[^\w.-]/g, '_')}.features.h5`);
    await rm(out, { force: true });
    const args = substituteArgs(this.spec.command, { slide: resolve(slide.slidePath), mask: slide.maskPath ? resolve(slide.maskPath) : '', out });
    const line = quote(args);
    const r = await execa(args[0]!, args.slice(1), {
      cwd: this.baseDir, reject: false, stdin: 'ignore', timeout: this.spec.timeoutSeconds * 1000, stripFinalNewline: false,
    });
    const stderr = String(r.stderr ?? '');
    if (r.failed) {
      const started = r.exitCode !== undefined || r.signal !== undefined || r.timedOut;
      const why = r.timedOut ? `timed out after ${this.spec.timeoutSeconds} s (timeoutSeconds)`
        : r.exitCode !== undefined ? `exit code ${r.exitCode}`
        : r.signal ? `killed by ${r.signal}`
        : `could not start ${args[0]} (${r.originalMessage ?? r.message}); is it installed, executable and on PATH?`;
      const errText = !started ? '' : stderr.trim() ? `; stderr (last lines):\n${tail(stderr, STDERR_TAIL_LINES)}` : '; stderr was empty';
      throw new Error(`${slide.slidePath}: extractor command ${this.info.id} failed, ${why}: ${line} (in ${this.baseDir})${errText}`);
    }
    if (stderr.trim()) this.logger?.debug(`${slide.slideId}: ${this.info.id} stderr:\n${tail(stderr, STDERR_TAIL_LINES)}`);
    if (!(await isFile(out))) {
      throw new Error(`${slide.slidePath}: extractor command ${this.info.id} exited 0 but wrote no file at {out} = ${out}: ${line}`);
    }
    let h5;
    try {
      h5 = await readPatchFeaturesH5(out);
    } finally {
      await rm(out, { force: true });
    }
    if (!h5.coords) throw new Error(`${out}: written by ${this.info.id} for ${slide.slidePath}: expected a dataset 'coords' [n, 2] next to 'features', found none`);
    if (h5.n < 1) throw new Error(`${out}: written by ${this.info.id} for ${slide.slidePath}: no patches (features [0, ${h5.dim}])`);
    if (this.info.dim && h5.dim !== this.info.dim) {
      throw new Error(`${out}: written by ${this.info.id} for ${slide.slidePath}: expected features of width ${this.info.dim}` +
        `${this.spec.dim ? ' (dim in the spec)' : ' (as on earlier slides)'}, found [${h5.n}, ${h5.dim}]`);
    }
    this.info.dim = h5.dim;
    const level = numberAttr(h5.attrs, 'patch_level');
    const size0 = numberAttr(h5.attrs, 'patch_size_level0') ?? (level === 0 ? numberAttr(h5.attrs, 'patch_size') : undefined);
    return {
      slideId: slide.slideId, n: h5.n, dim: h5.dim, features: h5.features, coords: h5.coords,
      level: level ?? -1, patchSizeLevel0: size0 ?? 0, warnings: [],
    };
  }

  dispose(): void {}
}

export async function createCommandExtractor(spec: CommandExtractorSpec, opts: { baseDir: string; logger?: Logger }): Promise<SlideExtractor> {
  const baseDir = resolve(opts.baseDir);
  const info: ExtractorInfo = {
    id: spec.id, kind: 'command', dim: spec.dim ?? 0,
    weightsHash: await hashCommand(spec.command, baseDir),
    settings: { command: [...spec.command] },
  };
  return new CommandSlideExtractor(info, spec, baseDir, opts.logger);
}
