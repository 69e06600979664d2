/** Helpers of the core/slide tests: temp folders, synthetic slides with a known layout, a small tfjs CNN. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { writeSyntheticSlide, type SyntheticSlideOptions } from '../../../core/data/synth/slide-image.js';
import { modelFolderSaver } from '../../../core/slide/tfjs-model-files.js';

export const projectRoot = resolve(import.meta.dirname, '..', '..', '..');
export const IHC = join(projectRoot, 'tests', 'fixtures', 'histology', 'ihc_pyr.tif');

export async function tempDir(prefix = 'mmsurv-slide-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export { errorOf } from '../data/support.js';

/**
 * A 16 x 16 layout of 64-px cells: tissue is a ring (Chebyshev distance 3..6 from the centre) plus a 2 x 2 block
 * in the top-left corner; prototypes cycle with the cell index.
 */
export function ringLayout(cols = 16, rows = 16): { tissue: boolean[]; prototype: number[] } {
  const tissue: boolean[] = [];
  const prototype: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const d = Math.max(Math.abs(c - (cols - 1) / 2), Math.abs(r - (rows - 1) / 2));
      tissue.push((d >= 3 && d <= 6) || (r < 2 && c < 2));
      prototype.push((r * cols + c) % 8);
    }
  }
  return { tissue, prototype };
}

export async function writeRingSlide(
  dir: string, name: string, extra: Partial<SyntheticSlideOptions> = {},
): Promise<{ slidePath: string; maskPath: string; tissue: boolean[]; prototype: number[] }> {
  const { tissue, prototype } = ringLayout(extra.grid?.cols, extra.grid?.rows);
  const slidePath = join(dir, `${name}.tif`);
  const maskPath = join(dir, `${name}_mask.tif`);
  await writeSyntheticSlide({
    slidePath, maskPath, grid: { cols: 16, rows: 16 }, patchPx: 64, tissue, prototype, seed: 7, mpp: 0.5, ...extra,
  });
  return { slidePath, maskPath, tissue: extra.tissue ? [...extra.tissue] : tissue, prototype };
}

/** A small CNN: conv 3x3/2 (8) + relu, global average pooling, dense 16 (or no pooling: a [b, h, w, 8] output). */
export function smallCnn(patchSize: number, opts: { pool?: boolean; seed?: number } = {}): tf.LayersModel {
  const seed = opts.seed ?? 1;
  const model = tf.sequential();
  model.add(tf.layers.conv2d({
    inputShape: [patchSize, patchSize, 3], filters: 8, kernelSize: 3, strides: 2, activation: 'relu',
    kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: tf.initializers.constant({ value: 0.05 }),
  }));
  if (opts.pool ?? true) {
    model.add(tf.layers.globalAveragePooling2d({}));
    model.add(tf.layers.dense({ units: 16, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  }
  return model;
}

/** Save a CNN into `dir` with mmsurv's own save handler; returns the model (caller disposes). */
export async function saveSmallCnn(dir: string, patchSize: number, opts: { pool?: boolean; seed?: number } = {}): Promise<tf.LayersModel> {
  const model = smallCnn(patchSize, opts);
  await model.save(modelFolderSaver(dir));
  return model;
}

/** RGB pixels of a level region read straight through sharp (independently of core/slide). */
export async function sharpRegion(file: string, page: number, left: number, top: number, size: number, resizeTo?: number): Promise<Uint8Array> {
  let img = sharp(file, { page }).extract({ left, top, width: size, height: size });
  const raw = await img.removeAlpha().raw().toBuffer();
  if (resizeTo === undefined || resizeTo === size) return new Uint8Array(raw);
  img = sharp(raw, { raw: { width: size, height: size, channels: 3 } }).resize(resizeTo, resizeTo, { fit: 'fill', kernel: 'lanczos3' });
  return new Uint8Array(await img.raw().toBuffer());
}

/** The model applied to pixels normalised in plain JS (ImageNet mean/std). */
export function applyModel(model: tf.LayersModel, pixels: Uint8Array, size: number): Float32Array {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = (pixels[i]! / 255 - mean[i % 3]!) / std[i % 3]!;
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [pixels.length / (size * size * 3), size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
}
