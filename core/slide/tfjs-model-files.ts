/**
 * TensorFlow.js models in a folder on disk, without tfjs-node (pure @tensorflow/tfjs has no file:// handler).
 *
 * A model folder holds `model.json` (layers format as `model.save()` writes it, or graph format as
 * tensorflowjs_converter writes it) and the weight shards its `weightsManifest` names, relative to the folder.
 * `modelFolderLoader` is the load IOHandler, `modelFolderSaver` the save counterpart (layers models, tests and
 * tools), `hashModelFolder` the sha256 that identifies the weights.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../services/run-store.js';

export type ModelFormat = 'layers' | 'graph';

interface ModelFolder {
  dir: string;
  json: tf.io.ModelJSON;
  jsonBytes: Buffer;
  format: ModelFormat;
  /** Shard paths in manifest order, as written in model.json. */
  shards: string[];
}

const SAVE_SHARD = 'weights.bin';

async function readModelFolder(dir: string): Promise<ModelFolder> {
  const abs = resolve(dir);
  const file = join(abs, 'model.json');
  let jsonBytes: Buffer;
  try {
    jsonBytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'not found' : `cannot be read (${code})`}: modelDir must be a folder with a ` +
      'TensorFlow.js model.json and its weight shards (as model.save() or tensorflowjs_converter writes them)');
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(jsonBytes.toString('utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new Error(`${file}: expected a TensorFlow.js model.json with 'modelTopology' and 'weightsManifest', found keys ` +
      `${Object.keys(json ?? {}).join(', ') || '(none)'}`);
  }
  const topology = json.modelTopology as Record<string, unknown>;
  const format: ModelFormat = json.format === 'graph-model' || Array.isArray(topology.node) ? 'graph' : 'layers';
  const shards = (json.weightsManifest ?? []).flatMap((group) => group.paths);
  return { dir: abs, json, jsonBytes, format, shards };
}

async function readShard(dir: string, path: string): Promise<Buffer> {
  const file = resolve(dir, path);
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`${file}: weight shard listed in ${join(dir, 'model.json')} ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read'}`);
  }
}

/** A tfjs IOHandler that loads model.json and its shards from `dir`. */
export function modelFolderLoader(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const folder = await readModelFolder(dir);
      return tf.io.getModelArtifactsForJSON(folder.json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = await Promise.all(manifest.flatMap((group) => group.paths).map((p) => readShard(folder.dir, p)));
        const all = Buffer.concat(buffers);
        const data = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
        return [specs, data];
      });
    },
  };
}

/** A tfjs IOHandler that writes `model.json` + `weights.bin` into `dir` (atomically, file by file). */
export function modelFolderSaver(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const json: Record<string, unknown> = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [SAVE_SHARD], weights: artifacts.weightSpecs ?? [] }],
    };
    for (const key of ['trainingConfig', 'signature', 'userDefinedMetadata', 'modelInitializer'] as const) {
      if (artifacts[key] !== undefined) json[key] = artifacts[key];
    }
    await writeFileAtomic(join(dir, SAVE_SHARD), new Uint8Array(weights));
    await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
}

/** sha256 (hex) over model.json and every weight shard in manifest order, each framed by its name and length. */
export async function hashModelFolder(dir: string): Promise<string> {
  const folder = await readModelFolder(dir);
  const h = createHash('sha256');
  const add = (name: string, bytes: Buffer) => {
    h.update(`${name}\0${bytes.length}\0`);
    h.update(bytes);
  };
  add('model.json', folder.jsonBytes);
  for (const shard of folder.shards) add(shard, await readShard(folder.dir, shard));
  return h.digest('hex');
}

export interface LoadedModel {
  model: tf.LayersModel | tf.GraphModel;
  format: ModelFormat;
  weightsHash: string;
}

/** Load a layers or graph model from a folder, with its weights hash. */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const folder = await readModelFolder(dir);
  const weightsHash = await hashModelFolder(dir);
  const handler = modelFolderLoader(dir);
  try {
    const model = folder.format === 'graph' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
    return { model, format: folder.format, weightsHash };
  } catch (err) {
    throw new Error(`${join(folder.dir, 'model.json')}: TensorFlow.js could not build the ${folder.format} model: ${(err as Error).message}`);
  }
}
