/**
 * A trained run that reads raw slides, built the way a user builds one: synthetic CHIMERA Task 3 training cohort
 * with slides, `mmsurv extract` with a small tfjs CNN this helper creates, `mmsurv train`, and synthetic /input
 * cases from the same seed (disjoint case indices). Used by the infer and container tests.
 *
 * `task: 'task2'` trains a BRS3 classifier instead (the `chimera-task2` reader on the same training layout, slide +
 * clinical, binary head) and writes Task 2 /input cases.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { synthesizeCohort } from '../../core/data/synth/index.js';
import { modelFolderSaver } from '../../core/slide/tfjs-model-files.js';
import { mmsurvOk } from './cli.js';

export interface PackagedRunFixture {
  root: string;
  trainDir: string;
  inputDir: string;
  runDir: string;
  encoderSpec: string;
}

/** A small CNN patch encoder: conv 3x3 (stride 2, 8) -> relu -> conv 3x3 (stride 2, 16) -> relu -> global mean. */
export async function writeTinyCnn(dir: string, patchSize: number, seed = 7): Promise<void> {
  await tf.setBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [patchSize, patchSize, 3], filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
  await model.save(modelFolderSaver(dir));
  model.dispose();
}

export async function buildPackagedRunFixture(root: string, o: { trainCases?: number; inputCases?: number; seed?: number; task?: 'task3' | 'task2' } = {}): Promise<PackagedRunFixture> {
  const task2 = o.task === 'task2';
  const seed = o.seed ?? 3;
  const trainCases = o.trainCases ?? 60;
  const trainDir = join(root, 'train');
  const inputDir = join(root, 'input');
  const small = { minPatches: 16, maxPatches: 40, genes: 40, seed, slidePatchPx: 32 };
  await synthesizeCohort({ out: trainDir, cases: trainCases, layout: 'chimera-task3', slides: true, ...small });
  await synthesizeCohort({ out: inputDir, cases: o.inputCases ?? 20, layout: task2 ? 'chimera-task2-input' : 'chimera-task3-input', firstCase: trainCases, ...small });

  await writeTinyCnn(join(root, 'encoder', 'cnn'), 32);
  const encoderSpec = join(root, 'encoder', 'encoder.json');
  await writeFile(encoderSpec, JSON.stringify({ type: 'tfjs', modelDir: 'cnn', patchSize: 32, targetMpp: 1, minTissue: 0.5, maxPatches: 3000, seed: 0, batchSize: 64, normalise: 'imagenet' }));
  await mmsurvOk(['extract', '--slides', trainDir, '--out', join(trainDir, 'features'), '--encoder', encoderSpec, '--quiet']);

  const config = join(root, 'experiment.json');
  await mkdir(root, { recursive: true });
  await writeFile(config, JSON.stringify(task2 ? {
    name: 'packaged-fixture-task2',
    data: { format: 'chimera-task2', root: trainDir },
    encoders: { wsi: { type: 'abmil', dim: 32, attentionDim: 16, dropout: 0 }, clinical: { type: 'tabular' } },
    fusion: { type: 'concat' },
    head: { type: 'binary' },
    train: { folds: 3, epochs: 4, batchSize: 8, lr: 0.003, seed: 1, selection: 'last' },
  } : {
    name: 'packaged-fixture',
    data: { format: 'chimera-task3', root: trainDir },
    encoders: {
      wsi: { type: 'abmil', dim: 32, attentionDim: 16, dropout: 0 },
      rna: { type: 'mlp', dims: [16], scale: 'standard' },
      clinical: { type: 'tabular' },
    },
    fusion: { type: 'concat' },
    head: { type: 'cox' },
    train: { folds: 3, epochs: 4, batchSize: 8, lr: 0.003, seed: 1, selection: 'last' },
  }, null, 2));
  const runDir = join(root, 'run');
  await mmsurvOk(['train', '--config', config, '--out', runDir, '--quiet']);
  return { root, trainDir, inputDir, runDir, encoderSpec };
}
