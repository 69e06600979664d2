import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  out: string;
  cases: number;
  seed: number;
  epochs: number;
  workers: number;
}

export const demoCommand: CommandModule<GlobalArgs, Args> = {
  command: 'demo',
  describe: 'End-to-end demo: a synthetic cohort, the chimera-bilinear preset cross-validated on it (5 folds), the summary against the oracle C-index',
  builder: (y) =>
    y
      .option('out', { alias: 'o', type: 'string', default: 'demo-output', describe: 'Folder for the demo cohort, config and splits' })
      .option('cases', { alias: 'n', type: 'number', default: 120, describe: 'Number of synthetic patients' })
      .option('seed', { type: 'number', default: 7, describe: 'Seed for the cohort, the splits and the model' })
      .option('epochs', { type: 'number', default: 6, describe: 'Training epochs per fold' })
      .option('workers', { type: 'number', default: 2, describe: 'Folds trained in parallel worker threads' })
      .example('$0 demo', 'what `npm start` runs')
      .example('$0 demo --out /tmp/demo --cases 60 --epochs 3 --workers 1', 'a smaller, faster demo elsewhere') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { runDemo } = await import('../demo.js');
    const out = resolve(args.out);
    await runDemo(ctx, { out, cohortDir: join(out, 'cohort'), cases: args.cases, seed: args.seed, epochs: args.epochs, workers: args.workers });
  },
};
