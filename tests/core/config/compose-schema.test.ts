import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { componentDefName, composeSchema } from '../../../core/config/compose-schema.js';
import { COMPONENT_SLOTS, coreSchema } from '../../../core/config/core-schema.js';
import { Registries } from '../../../core/registry/registry.js';

function fakeRegistries(): Registries {
  const registries = new Registries();
  const r = registries.registrar('testplugin', 'tests/x.ts');
  const create = () => ({}) as never;
  r.encoder({
    id: 'abmil', description: 'Attention-based MIL over patch features', create,
    optionsSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { dim: { type: 'integer', minimum: 1, default: 512, description: 'Token width' } },
      additionalProperties: false,
    },
  });
  r.encoder({
    id: 'mlp', description: 'MLP over an RNA profile', create,
    optionsSchema: {
      type: 'object',
      properties: { dims: { type: 'array', items: { type: 'integer' }, minItems: 1 } },
      required: ['dims'],
      additionalProperties: false,
    },
  });
  r.fusion({
    id: 'chimera.lowrank-bilinear', description: 'Low-rank bilinear pairwise fusion', create,
    optionsSchema: { type: 'object', properties: { rank: { type: 'integer', minimum: 1 } }, additionalProperties: false },
  });
  r.head({ id: 'cox', description: 'Cox proportional hazards head', create, optionsSchema: { type: 'object', additionalProperties: false } });
  r.dataset({
    id: 'manifest', description: 'A manifest.json cohort', create,
    optionsSchema: { type: 'object', properties: { timeUnit: { enum: ['days', 'months'] } }, additionalProperties: false },
  });
  return registries;
}

const validConfig = {
  $schema: './mmsurv.schema.json',
  _base_: 'plugins/chimera-bilinear/preset.json',
  name: 'demo',
  data: { format: 'manifest', root: 'data/demo', timeUnit: 'days' },
  encoders: { wsi: { type: 'abmil', dim: 256 }, rna: { type: 'mlp', dims: [64, 16] } },
  fusion: { type: 'chimera.lowrank-bilinear', rank: 8 },
  head: { type: 'cox' },
  train: { folds: 5, epochs: 30, lr: 1e-4, optimizer: 'adamw', earlyStopping: { metric: 'loss' } },
  calibration: { type: 'km-time' },
};

function compile(schema: object) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  expect(ajv.validateSchema(schema)).toBe(true);
  return ajv.compile(schema);
}

describe('composeSchema', () => {
  const schema = composeSchema(fakeRegistries());
  const validate = compile(schema);

  it('is a valid JSON Schema 2020-12 (it compiles under strict Ajv2020) and accepts a valid config', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(validate(validConfig), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown encoder id', { encoders: { wsi: { type: 'abmill' } } }, '/encoders/wsi/type'],
    ['a wrong option type', { encoders: { wsi: { type: 'abmil', dim: '512' } } }, '/encoders/wsi/dim'],
    ['an option of another component', { encoders: { wsi: { type: 'abmil', dims: [1] } } }, '/encoders/wsi'],
    ['a missing required option', { encoders: { rna: { type: 'mlp' } } }, '/encoders/rna'],
    ['an unknown dataset format', { data: { format: 'csv', root: 'x' } }, '/data/format'],
    ['a reader option of the wrong value', { data: { format: 'manifest', timeUnit: 'weeks' } }, '/data/timeUnit'],
    ['an unknown top-level key', { trian: {} }, ''],
    ['a bad train value', { train: { folds: 1 } }, '/train/folds'],
    ['a component without type', { fusion: { rank: 2 } }, '/fusion'],
  ])('rejects %s', (_what, config, path) => {
    expect(validate(config)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toContain(path);
  });

  it('puts each component schema in $defs as kind.id, with its description and discriminator', () => {
    const defs = schema.$defs as Record<string, any>;
    expect(Object.keys(defs).sort()).toEqual([
      'challenge', 'dataset', 'dataset.manifest', 'encoder', 'encoder.abmil', 'encoder.mlp', 'fusion',
      'fusion.chimera.lowrank-bilinear', 'head', 'head.cox', 'knowledge',
    ]);
    expect(componentDefName('encoder', 'abmil')).toBe('encoder.abmil');
    expect(defs['encoder.abmil'].description).toBe('Attention-based MIL over patch features');
    expect(defs['encoder.abmil'].properties.type).toEqual({ const: 'abmil', description: 'Attention-based MIL over patch features' });
    expect(defs['encoder.abmil'].properties.dim.description).toBe('Token width');
    expect(defs['encoder.abmil']).not.toHaveProperty('$schema');
    expect(defs['dataset.manifest'].properties).toHaveProperty('root');
    expect(defs['dataset.manifest'].properties.format.const).toBe('manifest');
  });

  it('narrows each slot to an enum of the registered ids, with one if/then per id', () => {
    const defs = schema.$defs as Record<string, any>;
    expect(defs.encoder.properties.type.enum).toEqual(['abmil', 'mlp']);
    expect(defs.encoder.properties.type.description).toContain('abmil: Attention-based MIL');
    expect(defs.encoder.allOf).toEqual([
      { if: { properties: { type: { const: 'abmil' } }, required: ['type'] }, then: { $ref: '#/$defs/encoder.abmil' } },
      { if: { properties: { type: { const: 'mlp' } }, required: ['type'] }, then: { $ref: '#/$defs/encoder.mlp' } },
    ]);
    expect(defs.dataset.properties.format.enum).toEqual(['manifest']);
    expect(defs.dataset.required).toEqual(['format']);
    const props = schema.properties as Record<string, any>;
    expect(props.encoders.additionalProperties).toEqual({ $ref: '#/$defs/encoder' });
    expect(props.fusion.$ref).toBe('#/$defs/fusion');
    expect(props.fusion.description).toBeTruthy();
  });

  it('keeps a kind with nothing registered usable (any id string, no empty enum)', () => {
    const defs = schema.$defs as Record<string, any>;
    expect(defs.knowledge.properties.type).not.toHaveProperty('enum');
    expect(defs.knowledge.properties.type.description).toContain('No knowledge is registered');
    expect(validate({ knowledge: { k: { type: 'anything' } } })).toBe(true);
  });

  it('composes from an empty registry and keeps the core schema intact', () => {
    const before = coreSchema();
    const empty = composeSchema(new Registries());
    compile(empty);
    expect(coreSchema()).toEqual(before);
    expect(Object.keys(empty.properties as object)).toEqual(Object.keys(before.properties as object));
    for (const slot of COMPONENT_SLOTS) expect((empty.$defs as any)[slot.kind]).toBeDefined();
  });

  it('the core schema alone is valid 2020-12 and fills defaults', () => {
    const ajv = new Ajv2020({ useDefaults: true, strict: true });
    const validateCore = ajv.compile(coreSchema());
    const data: Record<string, any> = { head: { type: 'whatever', anything: 1 } };
    expect(validateCore(data)).toBe(true);
    expect(data.train).toMatchObject({ folds: 5, epochs: 20, batchSize: 1, lr: 1e-4, optimizer: 'adam', seed: 0 });
  });
});
