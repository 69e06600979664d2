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
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { BuildContext } from '../contracts/component.js';
import type { Cohort } from '../contracts/dataset-reader.js';
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
  if (typeof data.format !== 'string' || data.format === '') {
    throw new Error(`${where}: expected "format", a dataset reader id (${registries.dataset.ids().join(', ')}), found ${JSON.stringify(data.format)}`);
  }
  const { root, ...config } = data;
  const spec = registries.dataset.get(data.format, where);
  const { format: _format, ...options } = config;
  const { $schema: _s, ...schema } = spec.optionsSchema;
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
  const validate = ajv.compile(schema);
  const opts = structuredClone(options);
  if (!validate(opts)) {
    const lines = (validate.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
      return `${where}${e.instancePath}: ${e.message}${extra}`;
    });
    throw new Error(`invalid options for dataset reader '${spec.id}':\n  ${lines.join('\n  ')}`);
  }
  const reader = registries.dataset.build({ format: data.format, ...opts }, ctx, 'format');
  return reader.read(resolve(root));
}
