/**
 * A small manifest cohort (36 cases, 8-d patch features, 30 genes) and an ABMIL + SNN + Cox config over it
 * (`<dir>/cohort`, `<dir>/exp.json`): the quick run the CLI tests train.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { mmsurv } from './cli.js';

/** The synth options of the small cohort for a seed (without --out). */
export const smallCohortArgs = (seed: number): string[] =>
  ['--cases', '36', '--seed', String(seed), '--layout', 'manifest', '--feature-dim', '8', '--genes', '30', '--max-patches', '40', '--min-patches', '10'];

export async function writeSmallRunSetup(dir: string, cohortSeed: number, extraSynthArgs: string[] = []): Promise<void> {
  const s = await mmsurv(['synth', '--out', join(dir, 'cohort'), ...smallCohortArgs(cohortSeed), ...extraSynthArgs]);
  expect(s.exitCode, s.stderr).toBe(0);
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({
    data: { format: 'manifest', root: 'cohort' },
    encoders: { wsi: { type: 'abmil', dim: 8 }, rna: { type: 'snn', dims: [8] } },
    fusion: { type: 'concat' },
    head: { type: 'cox' },
    train: { folds: 3, epochs: 2, batchSize: 6, lr: 0.003, seed: 2 },
  }));
}
