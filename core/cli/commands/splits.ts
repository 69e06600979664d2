import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';
import { cohortOptions, readCohortFromArgs, type CohortArgs } from './cohort-args.js';

interface Args extends GlobalArgs, CohortArgs {
  folds: number;
  seed: number;
  out?: string;
}

export const splitsCommand: CommandModule<GlobalArgs, Args> = {
  command: 'splits',
  describe: 'Make patient-level k-fold splits stratified by event and time, and save them as splits.json with a content hash',
  builder: (y) =>
    cohortOptions(y)
      .option('folds', { alias: 'k', type: 'number', default: 5, describe: 'Number of folds' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed: the same seed and cohort give the same splits' })
      .option('out', { alias: 'o', type: 'string', describe: 'Where to write (default: <data>/splits.json)' })
      .example('$0 splits --data data/demo --folds 5 --seed 1', 'write data/demo/splits.json') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { makeSplits, writeSplits } = await import('../../data/splits.js');
    const cohort = await readCohortFromArgs(ctx, args);
    const splits = makeSplits(cohort.cases, { folds: args.folds, seed: args.seed });
    const out = args.out ?? join(args.data, 'splits.json');
    await writeSplits(out, splits);
    const sizes = splits.assignments.map((a) => a.val.length).join(', ');
    process.stdout.write(`wrote ${out}: ${args.folds} folds (validation sizes ${sizes}), hash ${splits.hash.slice(0, 12)}\n`);
  },
};
