import type { CommandModule } from 'yargs';
import { COMPONENT_KINDS, type ComponentKind } from '../../contracts/component.js';
import { createCliContext, type GlobalArgs } from '../context.js';
import { renderTable } from '../table.js';

interface Args extends GlobalArgs {
  kind?: ComponentKind;
  json?: boolean;
}

export const pluginsCommand: CommandModule<GlobalArgs, Args> = {
  command: 'plugins',
  describe: 'List every registered component (id, kind, plugin, description)',
  builder: (y) =>
    y
      .option('kind', { type: 'string', choices: COMPONENT_KINDS as ComponentKind[], describe: 'Only this extension point' })
      .option('json', { type: 'boolean', describe: 'Print JSON (with each option schema)' })
      .example('$0 plugins', 'the table of everything registered')
      .example('$0 plugins --kind encoder --json', 'encoders with their option schemas, as JSON') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const entries = ctx.registries.all().filter((e) => !args.kind || e.kind === args.kind);
    if (args.json) {
      const out = entries.map((e) => ({ id: e.id, kind: e.kind, plugin: e.plugin, module: e.module, description: e.description, optionsSchema: e.optionsSchema }));
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    const rows = entries.map((e) => [e.id, e.kind, e.plugin, e.description]);
    process.stdout.write(renderTable(['id', 'kind', 'plugin', 'description'], rows) + '\n');
    process.stdout.write(`\n${entries.length} components. Use one in a config as { "type": "<id>", ...options }; \`mmsurv plugins --json\` shows the options.\n`);
  },
};
