import type { CommandModule } from 'yargs';
import { createCliContext, type GlobalArgs } from '../context.js';
import { formatSynthSummary } from './format-summary.js';

interface Args extends GlobalArgs {
  out: string;
  cases: number;
  seed: number;
  layout: 'manifest' | 'chimera-task3' | 'chimera-task3-input' | 'chimera-task2-input';
  difficulty: 'easy' | 'default' | 'hard';
  featureDim: number;
  genes: number;
  minPatches: number;
  maxPatches: number;
  slides?: boolean;
  slidePatchPx: number;
  slideMpp: number;
  firstCase: number;
  json?: boolean;
}

export const synthCommand: CommandModule<GlobalArgs, Args> = {
  command: 'synth',
  describe: 'Generate a synthetic multimodal cohort whose survival follows a known hazard (with truth.csv and the oracle C-index)',
  builder: (y) =>
    y
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output folder (new, or a previous synth output)' })
      .option('cases', { alias: 'n', type: 'number', default: 120, describe: 'Number of patients' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed: the same seed gives the same cohort' })
      .option('layout', { type: 'string', choices: ['manifest', 'chimera-task3', 'chimera-task3-input', 'chimera-task2-input'] as const, default: 'manifest' as const,
        describe: 'Folder layout: manifest, the CHIMERA Task 3 training layout (also Task 2 training data: BRS in <pid>_CD.json), or per-case container /input folders of Task 3 or Task 2 (+ labels.json)' })
      .option('difficulty', { type: 'string', choices: ['easy', 'default', 'hard'] as const, default: 'default' as const, describe: 'Signal strength' })
      .option('feature-dim', { type: 'number', default: 64, describe: 'Patch feature width (UNI: 1024)' })
      .option('genes', { type: 'number', default: 400, describe: 'Number of RNA genes' })
      .option('min-patches', { type: 'number', default: 60, describe: 'Smallest bag' })
      .option('max-patches', { type: 'number', default: 400, describe: 'Largest bag' })
      .option('slides', { type: 'boolean', describe: 'chimera-task3: write pyramidal TIFF slides + tissue masks instead of patch features (for `mmsurv extract`); always on for the -input layouts' })
      .option('slide-patch-px', { type: 'number', default: 32, describe: 'Slides: pixels per grid cell (one patch)' })
      .option('slide-mpp', { type: 'number', default: 1, describe: 'Slides: microns per pixel written into the TIFF' })
      .option('first-case', { type: 'number', default: 0, describe: 'Index of the first case: one seed, disjoint cohorts (e.g. training 0..119, test inputs from 120)' })
      .option('json', { type: 'boolean', describe: 'Print the summary as JSON' })
      .example('$0 synth --out data/demo --cases 120 --seed 1', 'a manifest cohort')
      .example('$0 synth --out data/task3 --layout chimera-task3 --cases 176 --feature-dim 1024 --max-patches 4096', 'CHIMERA Task 3 sized')
      .example('$0 synth --out data/task3-input --layout chimera-task3-input --cases 24 --first-case 120 --seed 1', 'container test cases for chimera-task3')
      .example('$0 synth --out data/task2-input --layout chimera-task2-input --cases 24 --first-case 120 --seed 1', 'container test cases for chimera-task2 (BRS3 labels in labels.json)') as never,
  handler: async (args) => {
    const ctx = await createCliContext(args);
    const { synthesizeCohort } = await import('../../data/synth/index.js');
    const summary = await synthesizeCohort({
      out: args.out,
      cases: args.cases,
      seed: args.seed,
      layout: args.layout,
      difficulty: args.difficulty,
      featureDim: args.featureDim,
      genes: args.genes,
      minPatches: args.minPatches,
      maxPatches: args.maxPatches,
      ...(args.slides !== undefined ? { slides: args.slides } : {}),
      slidePatchPx: args.slidePatchPx,
      slideMpp: args.slideMpp,
      firstCase: args.firstCase,
      progress: ctx.progress,
    });
    process.stdout.write((args.json ? JSON.stringify(summary, null, 2) : formatSynthSummary(summary)) + '\n');
  },
};
