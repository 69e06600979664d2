/**
 * Checkpoints of one fold: after every epoch the model weights, the best weights so far, the optimizer moments and
 * the loop state go to `fold-K/checkpoint-eN/`; then `fold-K/checkpoint.json` (written atomically) is pointed at
 * it and older checkpoint folders are removed. A run killed at any moment leaves a complete checkpoint behind (the
 * pointer only ever names a folder that was fully written).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelState } from '../model/survival-model.js';
import { readTensorBundle, writeTensorBundle, type TensorEntry } from '../model/tensor-bundle.js';
import { writeFileAtomic } from '../services/run-store.js';
import type { OptimizerName } from './optimizer.js';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  /** Validation Harrell's C (binary heads: ROC AUC). */
  valC: number | null;
  lr: number;
  seconds: number;
}

export interface LoopState {
  /** Last completed epoch (1-based). */
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number | null;
  bestScore: number | null;
  sinceBest: number;
  stopped: boolean;
  optimizer: { name: OptimizerName; step: number };
  modelState: ModelState;
}

export interface Checkpoint {
  loop: LoopState;
  weights: TensorEntry[];
  best: TensorEntry[] | null;
  m: TensorEntry[];
  v: TensorEntry[];
}

const POINTER = 'checkpoint.json';

export async function writeCheckpoint(foldDir: string, ck: Checkpoint): Promise<void> {
  const name = `checkpoint-e${ck.loop.epoch}`;
  const dir = join(foldDir, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeTensorBundle(join(dir, 'weights'), ck.weights);
  if (ck.best) await writeTensorBundle(join(dir, 'best'), ck.best);
  await writeTensorBundle(join(dir, 'optimizer-m'), ck.m);
  await writeTensorBundle(join(dir, 'optimizer-v'), ck.v);
  await writeFileAtomic(join(dir, 'loop.json'), JSON.stringify(ck.loop) + '\n');
  await writeFileAtomic(join(foldDir, POINTER), JSON.stringify({ dir: name, epoch: ck.loop.epoch }) + '\n');
  for (const entry of await readdir(foldDir)) {
    if (entry.startsWith('checkpoint-e') && entry !== name) await rm(join(foldDir, entry), { recursive: true, force: true });
  }
}

export async function readCheckpoint(foldDir: string): Promise<Checkpoint | null> {
  let pointer: { dir: string };
  try {
    pointer = JSON.parse(await readFile(join(foldDir, POINTER), 'utf8')) as { dir: string };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${join(foldDir, POINTER)}: cannot read the checkpoint pointer (${(err as Error).message})`);
  }
  const dir = join(foldDir, pointer.dir);
  const loop = JSON.parse(await readFile(join(dir, 'loop.json'), 'utf8')) as LoopState;
  const hasBest = loop.bestEpoch !== null;
  return {
    loop,
    weights: await readTensorBundle(join(dir, 'weights')),
    best: hasBest ? await readTensorBundle(join(dir, 'best')).catch(() => null) : null,
    m: await readTensorBundle(join(dir, 'optimizer-m')),
    v: await readTensorBundle(join(dir, 'optimizer-v')),
  };
}

export async function removeCheckpoints(foldDir: string): Promise<void> {
  for (const entry of await readdir(foldDir).catch(() => [] as string[])) {
    if (entry.startsWith('checkpoint-e') || entry === POINTER) await rm(join(foldDir, entry), { recursive: true, force: true });
  }
}
