import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';
import { describeComponents } from './describe-config.js';

interface Args extends GlobalArgs {
  config: string;
  json?: boolean;
  print?: boolean;
}

export const validateCommand: CommandModule<GlobalArgs, Args> = {
  command: 'validate <config>',
  describe: 'Check an experiment config: _base_ inheritance, every component id, every option (exit 1 on errors)',
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'Experiment config (JSON)' })
      .option('json', { type: 'boolean', describe: 'Print { ok, issues, resolved } as JSON' })
      .option('print', { type: 'boolean', describe: 'Print the resolved config (bases merged, defaults filled in)' })
      .example('$0 validate experiments/task3.json', 'validate a config') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const [{ loadConfig }, { formatIssues, validateConfig }] = await Promise.all([import('../../config/load.js'), import('../../config/validate.js')]);
    const { config, sources } = await loadConfig(args.config);
    const result = validateConfig(config, ctx.registries, { file: args.config });
    if (args.json) {
      process.stdout.write(JSON.stringify({ ok: result.ok, issues: result.errors, sources, resolved: result.resolved }, null, 2) + '\n');
    } else if (result.ok) {
      process.stdout.write(`${args.config}: valid (${sources.length} file${sources.length === 1 ? '' : 's'}: ${sources.join(' <- ')})\n`);
      process.stdout.write(describeComponents(result.resolved) + '\n');
      if (args.print) process.stdout.write(JSON.stringify(result.resolved, null, 2) + '\n');
    } else {
      process.stderr.write(formatIssues(result.errors, args.config) + '\n');
      process.stderr.write(`${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} in ${args.config}\n`);
    }
    if (!result.ok) process.exitCode = 1;
  },
};
