import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface BuildArgs extends GlobalArgs {
  config: string;
  data?: string;
  cache?: string;
}

const buildCommand: CommandModule<GlobalArgs, BuildArgs> = {
  command: 'build',
  describe: "Run the config's knowledge sources (LLM report refinement, background knowledge, a teacher's answers) and LLM text embeddings over the cohort once, into the knowledge cache that training and containers read",
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'Experiment config with `knowledge` (and `llm`) sections' })
      .option('data', { alias: 'd', type: 'string', describe: "Cohort folder (default: the config's data.root)" })
      .option('cache', { type: 'string', describe: 'Cache folder (default: <cohort folder>/knowledge-cache, where training looks)' })
      .example('$0 knowledge build --config plugins/kemm/preset.json --data data/task3', 'refine every report once; a second run makes no LLM call') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    await ctx.useBackend();
    const { buildKnowledge, formatKnowledgeBuild } = await import('../../llm/build-knowledge.js');
    const r = await buildKnowledge(
      { registries: ctx.registries, container: ctx.container },
      { configFile: args.config, ...(args.data ? { dataRoot: args.data } : {}), ...(args.cache ? { cacheDir: args.cache } : {}) },
    );
    process.stdout.write(`${formatKnowledgeBuild(r)}\n`);
  },
};

export const knowledgeCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'knowledge <command>',
  describe: 'LLM knowledge: build the cache of refined reports, background knowledge, teacher answers and embeddings',
  builder: (y) => y.command(buildCommand as never).demandCommand(1, 'name a knowledge subcommand, e.g. `mmsurv knowledge build --config exp.json`') as never,
  handler: () => {},
};
