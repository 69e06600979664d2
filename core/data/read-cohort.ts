/**
 * Read the cohort a config's `data` section names: `{ "format": reader id, "root": folder, ...reader options }`.
 *
 * The options are checked against the reader's optionsSchema (defaults filled in) before the reader is built, so
 * this works on raw configs too; `root` is resolved against the working directory.
 *
 * @example
 * const cohort = await readCohort(registries, { format: 'chimera-task3', root: 'data/task3' }, ctx);
 */
import { resolve } from 'node:path';
import type { BuildContext } from '../contracts/component.js';
import type { Cohort } from '../contracts/dataset-reader.js';
import { ConfigValidationError, validateConfig } from '../config/validate.js';
import type { Registries } from '../registry/registry.js';

export interface DataSection {
  format: string;
  root: string;
  [key: string]: unknown;
}

export async function readCohort(registries: Registries, data: DataSection, ctx: BuildContext): Promise<Cohort> {
  const where = ctx.path || 'data';
  if (typeof data.root !== 'string' || data.root === '') {
    throw new Error(`${where}: expected "root", the cohort folder, found ${JSON.stringify(data.root)}`);
  }
  // The same validation as a config's data section: reader id (with did-you-mean) and options (defaults filled in).
  const result = validateConfig({ data }, registries, { file: where });
  if (!result.ok) throw new ConfigValidationError(result.errors, where);
  const { root, ...options } = result.resolved['data'] as DataSection;
  const reader = registries.dataset.build(options, ctx, 'format');
  return reader.read(resolve(root));
}
