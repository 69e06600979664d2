import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  run: string;
  attention: boolean;
}

export const reportCommand: CommandModule<GlobalArgs, Args> = {
  command: 'report',
  describe: "A run's report: report.html (one self-contained page) plus every figure as SVG/PNG and its data as JSON/CSV in report/",
  builder: (y) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'Run directory written by `mmsurv train`' })
      .option('attention', { type: 'boolean', default: true, describe: "Draw one case's attention heatmaps (loads fold 1's model and the case's patches); --no-attention skips it" })
      .example('$0 report --run runs/bilinear', 'write runs/bilinear/report.html and runs/bilinear/report/')
      .example('$0 report --run runs/bilinear --no-attention', 'only the figures drawn from oof.csv and summary.json') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { writeRunReport } = await import('../../report/write-report.js');
    if (args.attention) await ctx.useBackend();
    const r = await writeRunReport(args.run, args.attention ? { registries: ctx.registries, container: ctx.container } : undefined);
    for (const n of r.notes) ctx.logger.info(`note: ${n}`);
    process.stdout.write(`report: ${r.html} (${r.files.length} figure and data files in ${r.data.runDir}/report)\n`);
  },
};
