/**
 * The registry's conformance rules (tests/core/registry/conformance.test.ts) applied to one spec, for components not
 * yet listed in plugins/common/index.ts: strict Ajv 2020-12, `{}` valid with defaults, unknown keys rejected, a
 * description on every property. Returns the options `{}` expands to.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { ComponentSpec } from '../../../core/contracts/component.js';

export function checkSpec(spec: ComponentSpec): Record<string, unknown> {
  expect(spec.id).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
  expect(spec.description.length).toBeGreaterThan(10);
  expect(spec.description).not.toMatch(/\n/);
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, useDefaults: true, allErrors: true });
  ajv.addKeyword('x-mmsurv');
  const validate = ajv.compile(spec.optionsSchema);
  expect(spec.optionsSchema['type']).toBe('object');
  expect(spec.optionsSchema['additionalProperties']).toBe(false);
  const options: Record<string, unknown> = {};
  expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
  expect(validate({ definitelyNotAnOption: 1 })).toBe(false);
  const props = (spec.optionsSchema['properties'] ?? {}) as Record<string, { description?: string }>;
  for (const [key, p] of Object.entries(props)) expect(p.description, `${spec.id}.${key} needs a description`).toBeTruthy();
  return options;
}
