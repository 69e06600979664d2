import type { CommandModule } from 'yargs';
import { writeFileAtomic } from '../../services/run-store.js';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  out?: string;
  of: 'config' | 'extractor';
}

export const schemaCommand: CommandModule<GlobalArgs, Args> = {
  command: 'schema',
  describe: 'Write the JSON Schema of experiment configs (core + every registered component) for editor autocompletion',
  builder: (y) =>
    y
      .option('out', { alias: 'o', type: 'string', describe: 'Write to this file instead of stdout' })
      .option('of', { choices: ['config', 'extractor'] as const, default: 'config' as const, describe: 'config: experiment configs; extractor: slide extractor specs (`mmsurv extract --encoder`)' })
      .example('$0 schema --out mmsurv.schema.json', 'then put "$schema": "./mmsurv.schema.json" in your config')
      .example('$0 schema --of extractor --out extractor.schema.json', 'the schema of encoder.json files') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const schema = args.of === 'extractor'
      ? (await import('../../slide/extractor-spec.js')).slideExtractorSchema()
      : (await import('../../config/compose-schema.js')).composeSchema(ctx.registries);
    const text = JSON.stringify(schema, null, 2) + '\n';
    if (!args.out) {
      process.stdout.write(text);
      return;
    }
    await writeFileAtomic(args.out, text);
    ctx.logger.info(`wrote ${args.out}: add "$schema": "${args.out}" to a config for autocompletion and inline errors`);
  },
};
