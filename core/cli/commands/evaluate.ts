import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  run: string;
  json?: boolean;
}

export const evaluateCommand: CommandModule<GlobalArgs, Args> = {
  command: 'evaluate',
  describe: "Recompute a run's metrics from its saved out-of-fold predictions (oof.csv)",
  builder: (y) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'Run directory written by `mmsurv train`' })
      .option('json', { type: 'boolean', describe: 'Print the per-fold metrics and their means as JSON' })
      .example('$0 evaluate --run runs/bilinear', 'per-fold C-index, Uno C, iAUC, IBS from oof.csv') as never,
  handler: async (args) => {
    const { evaluateRun } = await import('../../train/evaluate-run.js');
    const { formatRunSummary } = await import('../../train/run-outputs.js');
    const summary = await evaluateRun(args.run);
    if (args.json) {
      const { config: _config, ...rest } = summary;
      process.stdout.write(JSON.stringify(rest, null, 2) + '\n');
    } else {
      process.stdout.write(`${formatRunSummary(summary)}\n`);
    }
  },
};
