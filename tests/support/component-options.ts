/**
 * Options of a component spec as the registry hands them to `create`: validated against its options schema under
 * the conformance suite's rules (strict Ajv 2020-12) with the schema's defaults filled in. Throws on invalid options.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ComponentSpec } from '../../core/contracts/component.js';

export function optionsWithDefaults<O>(spec: ComponentSpec<any, O>, options: Record<string, unknown> = {}): O {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, useDefaults: true, allErrors: true });
  ajv.addKeyword('x-mmsurv');
  const validate = ajv.compile(spec.optionsSchema);
  const copy = structuredClone(options);
  if (!validate(copy)) throw new Error(`${spec.id}: invalid options ${JSON.stringify(options)}: ${ajv.errorsText(validate.errors)}`);
  return copy as O;
}

/** The schema rules every registered component must keep (as tests/core/registry/conformance.test.ts checks them). */
export function schemaProblems(spec: ComponentSpec): string[] {
  const problems: string[] = [];
  const schema = spec.optionsSchema;
  if (schema['type'] !== 'object') problems.push('type must be object');
  if (schema['additionalProperties'] !== false) problems.push('additionalProperties must be false');
  const props = (schema['properties'] ?? {}) as Record<string, { description?: string; default?: unknown }>;
  for (const [key, p] of Object.entries(props)) {
    if (!p.description) problems.push(`${key} needs a description`);
    if (!('default' in p)) problems.push(`${key} needs a default`);
  }
  try {
    optionsWithDefaults(spec, {});
  } catch (err) {
    problems.push((err as Error).message);
  }
  try {
    optionsWithDefaults(spec, { definitelyNotAnOption: 1 });
    problems.push('an unknown option was accepted');
  } catch {
    // expected
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(spec.id)) problems.push(`id '${spec.id}' is not lowercase`);
  if (spec.description.length <= 10 || /\n/.test(spec.description)) problems.push('description must be one line of more than 10 characters');
  return problems;
}
