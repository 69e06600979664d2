/**
 * The `train` section of a resolved config (defaults filled in by the config validator; see core/config/core-schema.ts
 * for what each setting means).
 */
import type { OptimizerName } from './optimizer.js';

export interface TrainSettings {
  folds: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  optimizer: OptimizerName;
  seed: number;
  maxPatches: number | null;
  gradAccumulation: number;
  schedule: 'constant' | 'cosine';
  warmupEpochs: number;
  sampling: 'shuffle' | 'balanced';
  evalTimes: number[] | null;
  minEpochs: number;
  earlyStopping?: { metric: 'c-index' | 'loss'; patience: number };
  selection: 'best' | 'last';
}

export function trainSettings(resolved: Record<string, unknown>): TrainSettings {
  const t = resolved['train'] as TrainSettings | undefined;
  if (!t || typeof t !== 'object') throw new Error('config: no `train` section after validation (validateConfig fills its defaults)');
  return t;
}
