import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';
import { cohortOptions, readCohortFromArgs, type CohortArgs } from './cohort-args.js';

interface Args extends GlobalArgs, CohortArgs {
  folds: number;
  seed: number;
  out?: string;
  binary?: boolean;
}

export const splitsCommand: CommandModule<GlobalArgs, Args> = {
  command: 'splits',
  describe: 'Make patient-level k-fold splits stratified by event and time (or by class, --binary), and save them as splits.json with a content hash',
  builder: (y) =>
    cohortOptions(y)
      .option('folds', { alias: 'k', type: 'number', default: 5, describe: 'Number of folds' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed: the same seed and cohort give the same splits' })
      .option('out', { alias: 'o', type: 'string', describe: 'Where to write (default: <data>/splits.json)' })
      .option('binary', { type: 'boolean', describe: 'Stratify by the binary label (e.g. --format chimera-task2) instead of event and time; cases without one are left out' })
      .example('$0 splits --data data/demo --folds 5 --seed 1', 'write data/demo/splits.json')
      .example('$0 splits --data data/t3 --format chimera-task2 --binary --folds 5', 'splits for a BRS3 classifier') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { makeSplits, writeSplits } = await import('../../data/splits.js');
    const cohort = await readCohortFromArgs(ctx, args);
    let cases = cohort.cases;
    if (args.binary) {
      cases = cases.filter((c) => c.binary);
      if (cases.length === 0) throw new Error(`${args.data}: no case has a binary label (format ${cohort.format}); use a reader that sets one, e.g. --format chimera-task2`);
      if (cases.length < cohort.cases.length) ctx.logger.warn(`${cohort.cases.length - cases.length} of ${cohort.cases.length} cases have no binary label and are left out of the splits`);
    }
    const splits = makeSplits(cases, { folds: args.folds, seed: args.seed, ...(args.binary ? { target: 'binary' as const } : {}) });
    const out = args.out ?? join(args.data, 'splits.json');
    await writeSplits(out, splits);
    const sizes = splits.assignments.map((a) => a.val.length).join(', ');
    process.stdout.write(`wrote ${out}: ${args.folds} folds (validation sizes ${sizes}), hash ${splits.hash.slice(0, 12)}\n`);
  },
};
