/**
 * The `tfjs` slide extractor: mmsurv tiles the slide (tile-plan, patch-reader) and a TensorFlow.js model encodes
 * the patches on whatever tfjs backend the process selected (core/backend).
 *
 * Model input: float32 [b, patchSize, patchSize, 3], RGB; 'imagenet' = (x / 255 - mean) / std with mean
 * (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225); 'none' = x / 255. Output: [b, dim]; an output of another
 * rank (e.g. a [b, h, w, c] feature map) is flattened per patch. A graph model with control flow runs through
 * executeAsync. Every batch runs inside tf.tidy (or disposes explicitly): extraction leaves no tensors behind.
 */
import { basename, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../contracts/logger.js';
import type { ExtractorInfo, SlideExtractor, SlideFeatures, SlideInput } from '../contracts/slide-extractor.js';
import type { TfjsExtractorSpec } from './extractor-spec.js';
import { readPatchBatches } from './patch-reader.js';
import { openPyramid } from './pyramid.js';
import { planTiles } from './tile-plan.js';
import { loadModelFolder } from './tfjs-model-files.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** The spec values that change the features (batchSize does not). */
export function tfjsSettings(spec: TfjsExtractorSpec): Record<string, unknown> {
  const { patchSize, targetMpp, baseMpp, minTissue, maxPatches, seed, normalise } = spec;
  return { patchSize, targetMpp, baseMpp, minTissue, maxPatches, seed, normalise };
}

/** uint8 RGB patches -> the normalised float input tensor (call inside tf.tidy). */
export function patchTensor(pixels: Uint8Array, count: number, patchSize: number, normalise: 'imagenet' | 'none'): tf.Tensor4D {
  const x = tf.tensor4d(Float32Array.from(pixels.subarray(0, count * patchSize * patchSize * 3)), [count, patchSize, patchSize, 3]).div(255);
  if (normalise === 'none') return x as tf.Tensor4D;
  return x.sub(tf.tensor1d([...IMAGENET_MEAN])).div(tf.tensor1d([...IMAGENET_STD])) as tf.Tensor4D;
}

function flattenOutput(y: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, where: string): tf.Tensor2D {
  let t: tf.Tensor;
  if (y instanceof tf.Tensor) t = y;
  else if (Array.isArray(y)) t = y[0]!;
  else t = Object.values(y)[0]!;
  if (!t) throw new Error(`${where}: the model returned no output tensor`);
  if (t.rank === 0) throw new Error(`${where}: the model returned a scalar; expected [batch, dim] features`);
  return t.rank === 2 ? (t as tf.Tensor2D) : t.reshape([t.shape[0]!, -1]);
}

class TfjsSlideExtractor implements SlideExtractor {
  private disposed = false;

  constructor(
    readonly info: ExtractorInfo,
    private readonly spec: TfjsExtractorSpec,
    private readonly model: tf.LayersModel | tf.GraphModel,
    private readonly modelDir: string,
    private readonly logger?: Logger,
  ) {}

  /** Features of `count` patches, [count * dim]. */
  async encode(pixels: Uint8Array, count: number): Promise<Float32Array> {
    const { patchSize, normalise } = this.spec;
    const where = `${this.modelDir}/model.json`;
    let out: tf.Tensor2D;
    try {
      out = tf.tidy(() => flattenOutput(this.model.predict(patchTensor(pixels, count, patchSize, normalise)), where));
    } catch (err) {
      if (!(this.model instanceof tf.GraphModel) || !/executeAsync/.test((err as Error).message)) {
        throw new Error(`${where}: the model failed on a batch of ${count} patches [${count}, ${patchSize}, ${patchSize}, 3]: ${(err as Error).message}`);
      }
      const x = tf.tidy(() => patchTensor(pixels, count, patchSize, normalise));
      const ys = await this.model.executeAsync(x).finally(() => x.dispose());
      out = tf.tidy(() => flattenOutput(ys, where).clone());
      tf.dispose(ys);
    }
    try {
      if (out.shape[0] !== count) throw new Error(`${where}: expected ${count} output rows, found shape [${out.shape.join(', ')}]`);
      if (this.info.dim && out.shape[1] !== this.info.dim) {
        throw new Error(`${where}: expected features of width ${this.info.dim}, found shape [${out.shape.join(', ')}]`);
      }
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  async extract(slide: SlideInput, _scratchDir: string): Promise<SlideFeatures> {
    if (this.disposed) throw new Error(`extractor ${this.info.id} was disposed`);
    const pyramid = await openPyramid(slide.slidePath);
    const mask = slide.maskPath ? await openPyramid(slide.maskPath) : null;
    const plan = await planTiles(pyramid, mask, slide.slideId, this.spec);
    const n = plan.cells.length;
    const dim = this.info.dim;
    const features = new Float32Array(n * dim);
    this.logger?.debug(`${slide.slideId}: level ${plan.level} (${plan.levelMpp.toFixed(3)} um/px), ${plan.grid.cols} x ${plan.grid.rows} grid, ` +
      `${plan.tissuePatches} tissue patches, ${n} kept`);
    // The next batch is read (libvips decodes in its own threads) while the model encodes the current one.
    const batches = readPatchBatches(pyramid, plan, this.spec.patchSize, this.spec.batchSize);
    let pending = batches.next();
    try {
      for (let r = await pending; !r.done; r = await pending) {
        pending = batches.next();
        features.set(await this.encode(r.value.pixels, r.value.count), r.value.start * dim);
      }
    } catch (err) {
      pending.catch(() => undefined);
      throw err;
    }
    return {
      slideId: slide.slideId, n, dim, features, coords: plan.coords, level: plan.level,
      patchSizeLevel0: plan.patchSizeLevel0, mpp0: plan.mpp0, warnings: plan.warnings,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
  }
}

/** Load the model of a validated `tfjs` spec (modelDir resolved against baseDir) and probe its feature width. */
export async function createTfjsExtractor(spec: TfjsExtractorSpec, opts: { baseDir: string; logger?: Logger }): Promise<SlideExtractor> {
  const modelDir = resolve(opts.baseDir, spec.modelDir);
  const { model, weightsHash, format } = await loadModelFolder(modelDir);
  const info: ExtractorInfo = { id: `tfjs:${basename(modelDir)}`, kind: 'tfjs', dim: 0, weightsHash, settings: tfjsSettings(spec) };
  const extractor = new TfjsSlideExtractor(info, spec, model, modelDir, opts.logger);
  try {
    const probe = await extractor.encode(new Uint8Array(spec.patchSize * spec.patchSize * 3), 1);
    info.dim = probe.length;
  } catch (err) {
    extractor.dispose();
    throw new Error(`${(err as Error).message}\n(patchSize ${spec.patchSize} in the spec must match the model's input size)`);
  }
  opts.logger?.debug(`extractor ${info.id}: ${format} model, ${info.dim}-d features, weights ${weightsHash.slice(0, 12)}`);
  return extractor;
}
