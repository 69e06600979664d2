/**
 * The full experiment schema for editors (`mmsurv schema` writes it): the core schema with every component slot
 * narrowed to the registered components and their options.
 *
 * For each kind, `$defs[kind]` is `{ type: { enum: ids }, allOf: [ if type == id then $defs['kind.id'] ] }` and
 * `$defs['kind.id']` is the component's options schema with its discriminator (`type`, or `format` + `root` for
 * dataset readers) added and its description attached, so editors complete ids and options and show what each is.
 */
import type { ComponentKind, JsonSchema, RegisteredComponent } from '../contracts/component.js';
import type { Registries } from '../registry/registry.js';
import { isPlainObject } from './merge.js';
import { COMPONENT_SLOTS, coreComponentSchema, coreSchema, type ComponentSlot } from './core-schema.js';

/** `$defs` name of one component's schema: 'encoder.abmil'. */
export function componentDefName(kind: ComponentKind, id: string): string {
  return `${kind}.${id}`;
}

/** A component's options schema with its slot's core keys added, as it appears in the composed schema. */
function componentDef(spec: RegisteredComponent, slot: ComponentSlot): JsonSchema {
  const { $schema: _ignored, ...options } = spec.optionsSchema;
  const core = coreComponentSchema(slot).properties as Record<string, JsonSchema>;
  const discriminator = { const: spec.id, description: spec.description };
  const extra: Record<string, JsonSchema> = { ...core, [slot.discriminator]: discriminator };
  const ownProps = isPlainObject(options.properties) ? options.properties : {};
  return {
    ...options,
    description: options.description ? `${spec.description}\n\n${String(options.description)}` : spec.description,
    properties: { ...extra, ...ownProps, [slot.discriminator]: discriminator },
  };
}

/** The union of one kind: its discriminator is one of the registered ids, the rest follows the chosen one. */
function slotDef(specs: RegisteredComponent[], slot: ComponentSlot): JsonSchema {
  const core = coreComponentSchema(slot);
  const props = { ...(core.properties as Record<string, JsonSchema>) };
  const listing = specs.map((s) => `- ${s.id}: ${s.description}`).join('\n');
  props[slot.discriminator] = specs.length
    ? { type: 'string', enum: specs.map((s) => s.id), description: `The ${slot.kind} to use:\n${listing}` }
    : { type: 'string', description: `No ${slot.kind} is registered: add a plugin that registers one to registry.json.` };
  const def: JsonSchema = { ...core, properties: props };
  if (specs.length) {
    def.allOf = specs.map((s) => ({
      if: { properties: { [slot.discriminator]: { const: s.id } }, required: [slot.discriminator] },
      then: { $ref: `#/$defs/${componentDefName(slot.kind, s.id)}` },
    }));
  }
  return def;
}

/** The composed JSON Schema (2020-12) of an experiment config, for the components in `registries`. */
export function composeSchema(registries: Registries): JsonSchema {
  const schema = coreSchema();
  const properties = schema.properties as Record<string, JsonSchema>;
  const defs: Record<string, JsonSchema> = {};
  for (const slot of COMPONENT_SLOTS) {
    if (!(slot.kind in defs)) {
      const specs = registries.of(slot.kind).entries() as RegisteredComponent[];
      defs[slot.kind] = { ...slotDef(specs, slot), description: `A ${slot.kind} component.` };
      for (const spec of specs) defs[componentDefName(slot.kind, spec.id)] = structuredClone(componentDef(spec, slot));
    }
    const ref = { $ref: `#/$defs/${slot.kind}` };
    properties[slot.key] = slot.many
      ? { type: 'object', description: slot.description, additionalProperties: ref }
      : { ...ref, description: slot.description };
  }
  schema.$defs = defs;
  return schema;
}
