import { basename, extname, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  config: string;
  out?: string;
  resume?: boolean;
  workers: number;
  splits?: string;
}

export const trainCommand: CommandModule<GlobalArgs, Args> = {
  command: 'train',
  describe: 'k-fold cross-validation of an experiment config: per-fold models, oof.csv, summary.json/csv in a run directory',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Experiment config (JSON, may use _base_)' })
      .option('out', { alias: 'o', type: 'string', describe: 'Run directory (default: runs/<config file name>)' })
      .option('resume', { type: 'boolean', describe: 'Continue a killed run: finished folds are kept, the others restart from their last checkpoint' })
      .option('workers', { type: 'number', default: 1, describe: 'Train folds in parallel worker threads (each with its own tfjs)' })
      .option('splits', { type: 'string', describe: 'splits.json to use (default: the cohort\'s splits.json when its fold count matches, else new seeded splits)' })
      .example('$0 train --config plugins/chimera-bilinear/preset.json --out runs/bilinear', 'cross-validate the HKKH preset')
      .example('$0 train --config exp.json --out runs/exp --resume', 'continue a run that was interrupted') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const backend = await ctx.useBackend();
    const { crossValidate, formatRunSummary } = await import('../../train/cross-validate.js');
    const out = args.out ?? join('runs', basename(args.config, extname(args.config)));
    if (!Number.isInteger(args.workers) || args.workers < 1) throw new Error(`--workers: expected a positive integer, found ${args.workers}`);
    const summary = await crossValidate(
      { registries: ctx.registries, container: ctx.container, backend },
      { configFile: args.config, runDir: out, resume: args.resume ?? false, workers: args.workers, pluginFiles: args.plugins ?? [], ...(args.splits ? { splitsFile: args.splits } : {}) },
    );
    const { reportAfterTraining } = await import('../../report/write-report.js');
    const report = await reportAfterTraining(out, { registries: ctx.registries, container: ctx.container }, ctx.logger);
    process.stdout.write(`\n${formatRunSummary(summary)}\n\nrun: ${out} (summary.json, summary.csv, oof.csv, fold-*/model${report ? ', report.html' : ''}); ${summary.seconds.toFixed(0)} s on ${summary.backend}\n`);
  },
};
