import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  input: string;
  output: string;
  model?: string;
  challenge?: string;
  json?: boolean;
}

export const inferCommand: CommandModule<GlobalArgs, Args> = {
  command: 'infer',
  describe: "Predict one challenge case from a platform input folder and write the output socket(s): a graded container's entrypoint",
  builder: (y) =>
    y
      .option('input', { type: 'string', default: '/input', describe: 'Input folder with inputs.json and the socket files' })
      .option('output', { type: 'string', default: '/output', describe: 'Output folder (the output file is written atomically)' })
      .option('model', { type: 'string', describe: 'Model directory written by `mmsurv package` (default: /opt/ml/model when mounted, else /opt/app/model)' })
      .option('challenge', { type: 'string', describe: 'Challenge adapter id (default: the one the model was packaged for)' })
      .option('json', { type: 'boolean', describe: 'Print the result as JSON' })
      .example('$0 infer --input cases/case-001/input --output /tmp/out --model build/model', 'run a packaged model on one case outside Docker') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    await ctx.useBackend();
    const { inferCase } = await import('../../infer/infer-case.js');
    const r = await inferCase({
      registries: ctx.registries, container: ctx.container, inputDir: args.input, outputDir: args.output,
      ...(args.model ? { modelDir: args.model } : {}), ...(args.challenge ? { challenge: args.challenge } : {}),
    });
    if (args.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      const value = r.time !== undefined ? `time ${r.time.toFixed(3)}` : `probability ${r.probability}`;
      process.stdout.write(`${r.challenge}: risk ${r.risk.toFixed(4)}, ${value} -> ${r.files.join(', ')} ` +
        `(read ${r.seconds.read.toFixed(1)} s, slides ${r.seconds.extract.toFixed(1)} s, predict ${r.seconds.predict.toFixed(1)} s)\n`);
    }
  },
};
