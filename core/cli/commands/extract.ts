import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  slides: string;
  masks?: string;
  out: string;
  encoder: string;
  overwrite?: boolean;
}

export const extractCommand: CommandModule<GlobalArgs, Args> = {
  command: 'extract',
  describe: 'Raw slides (+ tissue masks) -> patch features: <out>/<slide>.h5 (CLAM layout) and extract.json; resumable',
  builder: (y) =>
    y
      .option('slides', { type: 'string', demandOption: true, describe: 'Folder searched recursively for .tif/.tiff/.svs/.mha slides' })
      .option('masks', {
        type: 'string',
        describe: 'Folder with tissue masks named <slide>.* or <slide>_mask.* (default: <slide>_mask.<ext> beside each slide, the CHIMERA layout)',
      })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output folder: <slide>.h5 per slide and extract.json' })
      .option('encoder', {
        alias: 'e', type: 'string', demandOption: true,
        describe: 'Extractor spec JSON: {"type":"tfjs","modelDir":...} or {"type":"command","command":[...]}; relative paths resolve against its folder',
      })
      .option('overwrite', { type: 'boolean', describe: 'Re-extract every slide, replacing features of another extractor or settings' })
      .example('$0 extract --slides data/task3 --out features/uni --encoder encoders/uni.json', 'CHIMERA layout: <pid>_HE.tif + <pid>_HE_mask.tif')
      .example('$0 extract --slides wsi/ --masks masks/ --out feats/ --encoder cnn.json --overwrite', 'masks in their own folder; start afresh') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const [{ readExtractorSpecFile }, { extractCohort, ExtractCohortError }] = await Promise.all([
      import('../../slide/create-extractor.js'),
      import('../../slide/extract-cohort.js'),
    ]);
    const { spec, baseDir } = await readExtractorSpecFile(args.encoder);
    if (spec.type === 'tfjs') await ctx.useBackend();
    const started = performance.now();
    const print = (r: { extracted: string[]; skipped: string[]; failed: unknown[]; out: string }) =>
      process.stdout.write(`extracted ${r.extracted.length}, up to date ${r.skipped.length}, failed ${r.failed.length}: ` +
        `${r.out} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    try {
      const result = await extractCohort({
        slides: args.slides, out: args.out, spec, baseDir, specFile: resolve(args.encoder), overwrite: args.overwrite ?? false,
        progress: ctx.progress, logger: ctx.logger, ...(args.masks ? { masks: args.masks } : {}),
      });
      print(result);
    } catch (err) {
      if (err instanceof ExtractCohortError) print(err.result);
      throw err;
    }
  },
};
