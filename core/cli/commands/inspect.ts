import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';
import { cohortOptions, readCohortFromArgs, type CohortArgs } from './cohort-args.js';
import { formatCohortSummary } from './format-summary.js';

interface Args extends GlobalArgs, CohortArgs {
  json?: boolean;
}

export const inspectCommand: CommandModule<GlobalArgs, Args> = {
  command: 'inspect',
  describe: 'Read a cohort and summarise it: outcomes, follow-up, modalities, bag sizes, missing clinical values',
  builder: (y) =>
    cohortOptions(y)
      .option('json', { type: 'boolean', describe: 'Print the summary as JSON' })
      .example('$0 inspect --data data/task3', 'summarise a CHIMERA Task 3 training folder') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { summarizeCohort } = await import('../../data/summary.js');
    const summary = summarizeCohort(await readCohortFromArgs(ctx, args));
    process.stdout.write((args.json ? JSON.stringify(summary, null, 2) : formatCohortSummary(summary)) + '\n');
  },
};
