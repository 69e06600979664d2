import type { Argv } from 'yargs';
import type { Cohort } from '../../contracts/dataset-reader.js';
import type { CliContext } from '../context.js';

export interface CohortArgs {
  data: string;
  format?: string;
}

/** The options every command that reads a cohort shares. */
export function cohortOptions<T>(y: Argv<T>): Argv<T & CohortArgs> {
  return y
    .option('data', { alias: 'd', type: 'string', demandOption: true, describe: 'Cohort folder' })
    .option('format', { type: 'string', describe: 'Dataset reader id (default: detected: cohort.json -> manifest, <pid>/<pid>_CD.json -> chimera-task3)' }) as Argv<T & CohortArgs>;
}

/** Read the cohort named by --data/--format, printing the reader's warnings. */
export async function readCohortFromArgs(ctx: CliContext, args: CohortArgs): Promise<Cohort> {
  const [{ buildContext, createRunContainer }, { detectFormat }, { readCohort }] = await Promise.all([
    import('../../di/container.js'),
    import('../../data/detect-format.js'),
    import('../../data/read-cohort.js'),
  ]);
  const format = args.format ?? detectFormat(args.data);
  if (!format) {
    throw new Error(
      `${args.data}: cannot tell the cohort layout (no cohort.json, no <pid>/<pid>_CD.json folders). ` +
        `Pass --format with one of: ${ctx.registries.dataset.ids().join(', ')}`,
    );
  }
  const run = createRunContainer(ctx.container, { seed: 0 });
  const cohort = await readCohort(ctx.registries, { format, root: args.data }, buildContext(run, 'data'));
  for (const w of cohort.warnings) ctx.logger.warn(w);
  return cohort;
}
