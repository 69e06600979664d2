/**
 * Patch features of every slide of a folder, with one extractor spec: the core of `mmsurv extract`.
 *
 * Output folder:
 * - `<slideId>.h5`: CLAM/TRIDENT layout, `features` float32 [n, dim], `coords` float32 [n, 2] (level-0 top-left
 *   corners); attributes on `coords`: `encoder`, `encoder_kind`, `weights_hash`, `extractor_settings` (JSON),
 *   `patch_level`, `patch_size` (model input side, tfjs), `patch_size_level0`, `mpp` (level 0, when known),
 *   `target_mpp` (tfjs). Written atomically (temp file, then rename).
 * - `extract.json`: the extractor (id, kind, dim, weightsHash, settings, spec) and per slide its files, n, dim,
 *   seconds, warnings, or its error. Rewritten atomically after every slide, so a killed run leaves a true record.
 *
 * Resuming: a slide whose .h5 exists with this extractor's weights_hash and extractor_settings is skipped (the file
 * is not touched). An extract.json from another extractor (other weights or settings) is an error unless
 * `overwrite`, which re-extracts every slide. A failing slide does not stop the others: the error is recorded and,
 * after the last slide, an ExtractCohortError lists every failure.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../contracts/logger.js';
import type { ProgressReporter } from '../contracts/progress.js';
import type { ExtractorInfo, SlideExtractor } from '../contracts/slide-extractor.js';
import { readPatchFeaturesAttrsH5, readPatchFeaturesShapeH5, writePatchFeaturesH5 } from '../data/io/hdf5.js';
import { writeFileAtomic } from '../services/run-store.js';
import { createSlideExtractor } from './create-extractor.js';
import { findSlides, type SlideEntry } from './find-slides.js';

export const EXTRACT_RECORD = 'extract.json';

export interface ExtractCohortOptions {
  /** Folder searched recursively for slides (core/slide/find-slides.ts). */
  slides: string;
  /** Folder with the masks; default: `<id>_mask.<ext>` beside each slide. */
  masks?: string;
  out: string;
  /** Extractor spec (JSON value) and the folder its relative paths resolve against. */
  spec: unknown;
  baseDir: string;
  /** The spec's file (absolute), recorded so a trained run can name its extractor to `mmsurv package`. */
  specFile?: string;
  /** Re-extract everything, replacing an extract.json of another extractor. */
  overwrite?: boolean;
  progress?: ProgressReporter;
  logger?: Logger;
  /** An already-built extractor for `spec` (tests, callers that reuse one); not disposed here. */
  extractor?: SlideExtractor;
}

export interface SlideRecord {
  slide: string;
  mask?: string;
  file: string;
  status: 'done' | 'failed';
  n?: number;
  dim?: number;
  level?: number;
  patchSizeLevel0?: number;
  seconds?: number;
  warnings?: string[];
  error?: string;
}

export interface ExtractRecord {
  extractor: ExtractorInfo & { spec: unknown };
  /** Absolute path of the spec file, when the caller gave one. */
  specFile?: string;
  slides: Record<string, SlideRecord>;
}

export interface ExtractCohortResult {
  out: string;
  record: ExtractRecord;
  extracted: string[];
  skipped: string[];
  failed: { slideId: string; error: string }[];
}

/** Some slides failed; `result` has the others. */
export class ExtractCohortError extends Error {
  constructor(readonly result: ExtractCohortResult) {
    const lines = result.failed.map((f) => `  ${f.slideId}: ${f.error.split('\n').join('\n    ')}`);
    super(`${result.failed.length} of ${Object.keys(result.record.slides).length} slides failed ` +
      `(the other slides' features are in ${result.out}; see ${EXTRACT_RECORD}):\n${lines.join('\n')}`);
    this.name = 'ExtractCohortError';
  }
}

function sameExtractor(a: ExtractorInfo, b: ExtractorInfo): boolean {
  return a.kind === b.kind && a.id === b.id && a.weightsHash === b.weightsHash && JSON.stringify(a.settings) === JSON.stringify(b.settings);
}

function describe(info: ExtractorInfo): string {
  return `${info.id} (weights ${info.weightsHash.slice(0, 12)}, settings ${JSON.stringify(info.settings)})`;
}

async function readRecord(path: string): Promise<ExtractRecord | null> {
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as ExtractRecord;
    if (r && typeof r === 'object' && r.extractor && r.slides) return r;
  } catch {
    // fall through
  }
  throw new Error(`${path}: not an mmsurv extract record (expected JSON with 'extractor' and 'slides'); remove it or use --overwrite`);
}

/** Whether `<out>/<id>.h5` holds features of this extractor (weights and settings). */
async function upToDate(file: string, info: ExtractorInfo): Promise<boolean> {
  if (!existsSync(file)) return false;
  try {
    const attrs = await readPatchFeaturesAttrsH5(file);
    return attrs.weights_hash === info.weightsHash && attrs.extractor_settings === JSON.stringify(info.settings);
  } catch {
    return false; // unreadable (e.g. a half-written file from another tool): extract again
  }
}

export async function extractCohort(opts: ExtractCohortOptions): Promise<ExtractCohortResult> {
  const out = resolve(opts.out);
  const { slides, warnings } = await findSlides(opts.slides, opts.masks);
  for (const w of warnings) opts.logger?.warn(w);
  const extractor = opts.extractor ?? await createSlideExtractor(opts.spec, { baseDir: opts.baseDir, ...(opts.logger ? { logger: opts.logger } : {}) });
  try {
    const recordPath = join(out, EXTRACT_RECORD);
    const previous = await readRecord(recordPath);
    if (previous && !opts.overwrite && !sameExtractor(previous.extractor, extractor.info)) {
      throw new Error(`${recordPath}: the features in ${out} come from ${describe(previous.extractor)}, but the spec now gives ` +
        `${describe(extractor.info)}; pass --overwrite to replace them, or choose another --out`);
    }
    const record: ExtractRecord = {
      extractor: { ...extractor.info, spec: opts.spec },
      ...(opts.specFile ? { specFile: opts.specFile } : {}),
      slides: previous && !opts.overwrite ? previous.slides : {},
    };
    const save = () => {
      record.extractor = { ...extractor.info, spec: opts.spec };
      return writeFileAtomic(recordPath, JSON.stringify(record, null, 2) + '\n');
    };
    const result: ExtractCohortResult = { out, record, extracted: [], skipped: [], failed: [] };
    const task = opts.progress?.start('extracting slides', slides.length);
    const scratch = await mkdtemp(join(tmpdir(), 'mmsurv-extract-'));
    try {
      for (const entry of slides) {
        const file = join(out, `${entry.slideId}.h5`);
        if (!opts.overwrite && (await upToDate(file, extractor.info))) {
          result.skipped.push(entry.slideId);
          if (record.slides[entry.slideId]?.status !== 'done') {
            const { n, dim } = await readPatchFeaturesShapeH5(file);
            record.slides[entry.slideId] = { slide: entry.slidePath, ...(entry.maskPath ? { mask: entry.maskPath } : {}), file, status: 'done', n, dim };
          }
          task?.tick(1, `${entry.slideId} up to date`);
          continue;
        }
        const status = await extractOne(extractor, entry, file, scratch, opts.logger);
        record.slides[entry.slideId] = status;
        if (status.status === 'done') result.extracted.push(entry.slideId);
        else result.failed.push({ slideId: entry.slideId, error: status.error! });
        await save();
        task?.tick(1, status.status === 'done' ? `${entry.slideId} ${status.n} patches` : `${entry.slideId} FAILED`);
      }
      await save();
    } finally {
      task?.done();
      await rm(scratch, { recursive: true, force: true });
    }
    if (result.failed.length) throw new ExtractCohortError(result);
    return result;
  } finally {
    if (!opts.extractor) extractor.dispose();
  }
}

async function extractOne(extractor: SlideExtractor, entry: SlideEntry, file: string, scratch: string, logger?: Logger): Promise<SlideRecord> {
  const base: SlideRecord = { slide: entry.slidePath, ...(entry.maskPath ? { mask: entry.maskPath } : {}), file, status: 'done' };
  const started = performance.now();
  try {
    const f = await extractor.extract(entry, scratch);
    const info = extractor.info;
    const attrs: Record<string, number | string> = {
      encoder: info.id, encoder_kind: info.kind, weights_hash: info.weightsHash,
      extractor_settings: JSON.stringify(info.settings),
      patch_level: f.level, patch_size_level0: f.patchSizeLevel0,
    };
    if (f.mpp0 !== undefined) attrs.mpp = f.mpp0;
    if (typeof info.settings.patchSize === 'number') attrs.patch_size = info.settings.patchSize;
    if (typeof info.settings.targetMpp === 'number') attrs.target_mpp = info.settings.targetMpp;
    await writePatchFeaturesH5(file, { features: f.features, n: f.n, dim: f.dim, coords: f.coords, attrs });
    for (const w of f.warnings) logger?.warn(w);
    const seconds = (performance.now() - started) / 1000;
    logger?.info(`${entry.slideId}: ${f.n} patches x ${f.dim} in ${seconds.toFixed(1)} s`);
    return { ...base, n: f.n, dim: f.dim, level: f.level, patchSizeLevel0: f.patchSizeLevel0, seconds: Number(seconds.toFixed(3)), warnings: f.warnings };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    logger?.error(`${entry.slideId}: ${error}`);
    return { ...base, status: 'failed', error, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) };
  }
}
