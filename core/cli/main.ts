/**
 * The mmsurv command line. Each command is a thin shell over a core function (core/cli/commands/*).
 */
import 'reflect-metadata';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { commands } from './commands/index.js';
import { loadCommandModules } from '../registry/loader.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const extra = (await loadCommandModules()) as CommandModule[];
  const cli = yargs(argv)
    .scriptName('mmsurv')
    .usage('$0 <command> [options]\n\nMultimodal cancer survival prediction: mix published model parts by config, cross-validate, package a challenge submission.')
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print only results, warnings and errors', global: true })
    .option('verbose', { type: 'boolean', describe: 'Print debug messages', global: true })
    .option('json', {
      type: 'boolean',
      describe: 'Progress as JSON lines on stderr (commands with a JSON result also print it on stdout)',
      global: true,
    })
    .option('backend', {
      type: 'string',
      choices: ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'],
      default: 'auto',
      describe: 'TensorFlow.js backend (auto: tfjs-node-gpu > tfjs-node > wasm > cpu)',
      global: true,
    })
    .option('plugins', { type: 'string', array: true, describe: "Extra registry.json files of your own plugins", global: true })
    .command([...commands, ...extra])
    .demandCommand(1, 'Name a command; `mmsurv --help` lists them.')
    .strict()
    .recommendCommands()
    .example('$0 synth --out data/demo --cases 120 --seed 1', 'generate a synthetic multimodal cohort')
    .example('$0 validate my-experiment.json', 'check a config against every registered component')
    .epilogue('Docs: README.md. Each command has --help with an example.')
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      if (err) {
        process.stderr.write(`error: ${err.message}\n`);
        exitCode = 1;
      } else {
        process.stderr.write(`error: ${msg}\nRun with --help for usage.\n`);
        exitCode = 2;
      }
      // stop here: without a throw, yargs goes on to run the command's handler with the invalid arguments
      throw new Error(msg ?? err?.message ?? 'invalid arguments');
    });
  try {
    await cli.parseAsync();
  } catch (err) {
    if (exitCode === 0) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      exitCode = 1;
    }
  }
  return exitCode || (process.exitCode as number | undefined) || 0;
}
