import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigValidationError,
  formatIssues,
  resolveAndValidate,
  validateConfig,
  type ConfigIssue,
} from '../../../core/config/validate.js';
import { Registries } from '../../../core/registry/registry.js';

/** Fake components: config tests never call create(). */
function fakeRegistries(): Registries {
  const registries = new Registries();
  const r = registries.registrar('testplugin', 'tests/x.ts');
  const create = () => ({}) as never;
  r.encoder({
    id: 'abmil', description: 'Attention-based MIL over patch features', create,
    optionsSchema: {
      type: 'object',
      properties: {
        dim: { type: 'integer', minimum: 1, default: 512 },
        dropout: { type: 'number', minimum: 0, maximum: 1, default: 0.25 },
        gated: { type: 'boolean', default: true },
      },
      additionalProperties: false,
    },
  });
  r.encoder({
    id: 'mlp', description: 'MLP over an RNA profile', create,
    optionsSchema: {
      type: 'object',
      properties: { dims: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 } },
      required: ['dims'],
      additionalProperties: false,
    },
  });
  r.encoder({ id: 'tabular', description: 'Clinical variables as one token', create, optionsSchema: { type: 'object' } });
  r.fusion({
    id: 'chimera.lowrank-bilinear', description: 'Low-rank bilinear pairwise fusion', create,
    optionsSchema: { type: 'object', properties: { rank: { type: 'integer', minimum: 1, default: 64 } }, additionalProperties: false },
  });
  r.fusion({ id: 'concat', description: 'Concatenate pooled tokens', create, optionsSchema: { type: 'object', properties: {} } });
  r.head({
    id: 'cox', description: 'Cox proportional hazards head', create,
    optionsSchema: { type: 'object', properties: { l2: { type: 'number', minimum: 0, default: 0 } }, additionalProperties: false },
  });
  r.head({
    id: 'discrete-hazard', description: 'Discrete-time hazards over bins', create,
    optionsSchema: {
      type: 'object',
      properties: {
        bins: { type: 'integer', minimum: 2, default: 4 },
        alpha: { anyOf: [{ type: 'number', minimum: 0 }, { const: 'auto' }] },
      },
      additionalProperties: false,
    },
  });
  r.dataset({
    id: 'manifest', description: 'A manifest.json cohort', create,
    optionsSchema: { type: 'object', properties: { timeUnit: { enum: ['days', 'months'], default: 'months' } }, additionalProperties: false },
  });
  r.knowledge({ id: 'survpgc.clinical-prompt', description: 'Clinical text prompts', create, optionsSchema: { type: 'object' } });
  r.challenge({ id: 'chimera-task3', description: 'CHIMERA task 3', create, optionsSchema: { type: 'object' } });
  return registries;
}

const registries = fakeRegistries();

function valid(): Record<string, unknown> {
  return {
    name: 'demo',
    data: { format: 'manifest', root: 'data/demo' },
    encoders: { wsi: { type: 'abmil', dim: 256 }, rna: { type: 'mlp', dims: [64, 16] }, clinical: { type: 'tabular' } },
    fusion: { type: 'chimera.lowrank-bilinear' },
    head: { type: 'cox' },
    knowledge: { prompts: { type: 'survpgc.clinical-prompt' } },
    challenge: { type: 'chimera-task3' },
    train: { folds: 3, epochs: 2, earlyStopping: { patience: 3 } },
    calibration: { type: 'km-time', grid: 100 },
  };
}

function only(issues: ConfigIssue[]): ConfigIssue {
  expect(issues).toHaveLength(1);
  return issues[0]!;
}

describe('validateConfig', () => {
  it('accepts a valid config and fills core and component defaults into resolved', () => {
    const config = valid();
    const before = structuredClone(config);
    const { ok, errors, resolved } = validateConfig(config, registries);
    expect(errors).toEqual([]);
    expect(ok).toBe(true);
    expect(config).toEqual(before); // the input is not mutated
    expect(resolved.train).toEqual({
      folds: 3, epochs: 2, batchSize: 1, lr: 1e-4, weightDecay: 0, optimizer: 'adam', seed: 0, maxPatches: 4096,
      gradAccumulation: 1, earlyStopping: { metric: 'c-index', patience: 3 }, selection: 'best',
      schedule: 'constant', warmupEpochs: 0, sampling: 'shuffle', evalTimes: null, minEpochs: 1,
    });
    expect(resolved.encoders).toEqual({
      wsi: { type: 'abmil', dim: 256, dropout: 0.25, gated: true },
      rna: { type: 'mlp', dims: [64, 16] },
      clinical: { type: 'tabular' },
    });
    expect(resolved.fusion).toEqual({ type: 'chimera.lowrank-bilinear', rank: 64 });
    expect(resolved.data).toEqual({ format: 'manifest', root: 'data/demo', timeUnit: 'months' });
    expect(Object.keys(resolved.encoders as object)).toEqual(['wsi', 'rna', 'clinical']);
  });

  it('fills a whole train section when the config has none', () => {
    const { ok, resolved } = validateConfig({ head: { type: 'cox' } }, registries);
    expect(ok).toBe(true);
    expect(resolved.train).toMatchObject({ folds: 5, epochs: 20, optimizer: 'adam', selection: 'best' });
    expect(resolved.train).not.toHaveProperty('earlyStopping');
  });

  it('accepts a partial config (every slot is optional) unless asked to require slots', () => {
    expect(validateConfig({}, registries).ok).toBe(true);
    const { errors } = validateConfig({ head: { type: 'cox' } }, registries, { require: ['data', 'head'] });
    const issue = only(errors);
    expect(issue.path).toBe('/data');
    expect(issue.message).toContain("missing required key 'data'");
  });

  it('a typo in a type fails with a did-you-mean naming the right id and the valid ids', () => {
    const config = valid();
    (config.encoders as any).wsi.type = 'abmill';
    const issue = only(validateConfig(config, registries, { file: 'exp.json' }).errors);
    expect(issue.path).toBe('/encoders/wsi/type');
    expect(issue.suggestion).toBe('abmil');
    expect(issue.found).toBe('"abmill"');
    expect(issue.expected).toBe('one of abmil, mlp, tabular');
    expect(issue.message).toBe("exp.json: /encoders/wsi/type: unknown encoder 'abmill'; did you mean 'abmil'? Valid encoder ids: abmil, mlp, tabular.");
  });

  it('suggests by suffix for dotted plugin ids, and uses format for dataset readers', () => {
    const config = valid();
    config.fusion = { type: 'bilinear' };
    config.data = { format: 'manifests', root: 'x' };
    const { errors } = validateConfig(config, registries);
    expect(errors.map((e) => [e.path, e.suggestion])).toEqual([
      ['/data/format', 'manifest'],
      ['/fusion/type', 'chimera.lowrank-bilinear'],
    ]);
  });

  it('a wrong option type names its JSON path, what was expected and what was found', () => {
    const config = valid();
    (config.encoders as any).wsi.dim = '512';
    const issue = only(validateConfig(config, registries, { file: 'exp.json' }).errors);
    expect(issue).toMatchObject({ path: '/encoders/wsi/dim', expected: 'integer', found: '"512"' });
    expect(issue.message).toBe('exp.json: /encoders/wsi/dim: expected integer, found string "512"');
  });

  it('phrases limits, enums, required keys and array items', () => {
    const config = valid();
    config.train = { folds: 1, lr: 0, optimizer: 'adamm', earlyStopping: { metric: 'auc' } };
    (config.encoders as any).rna = { type: 'mlp' };
    (config.encoders as any).wsi.dropout = 1.5;
    config.head = { type: 'discrete-hazard', bins: [4] };
    const { errors } = validateConfig(config, registries);
    const byPath = Object.fromEntries(errors.map((e) => [e.path, e]));
    expect(byPath['/train/folds']!.message).toBe('/train/folds: expected a number >= 2, found 1');
    expect(byPath['/train/lr']!.expected).toBe('a number > 0');
    expect(byPath['/train/optimizer']!.message).toBe('/train/optimizer: expected one of "adam", "adamw", "radam", "sgd", found "adamm"; did you mean "adam"?');
    expect(byPath['/train/earlyStopping/metric']!.expected).toBe('one of "c-index", "loss"');
    expect(byPath['/encoders/rna/dims']!.message).toBe("/encoders/rna/dims: missing required key 'dims'");
    expect(byPath['/encoders/wsi/dropout']!.expected).toBe('a number <= 1');
    expect(byPath['/head/bins']!.message).toBe('/head/bins: expected integer, found array [4]');
    expect(errors).toHaveLength(7);
  });

  it('reports anyOf mismatches as one line', () => {
    const config = valid();
    config.head = { type: 'discrete-hazard', alpha: 'automatic' };
    const issue = only(validateConfig(config, registries).errors);
    expect(issue.path).toBe('/head/alpha');
    expect(issue.message).toContain('"auto"');
    config.head = { type: 'discrete-hazard', alpha: true };
    expect(only(validateConfig(config, registries).errors).message).toBe('/head/alpha: expected number or "auto", found boolean true');
  });

  it('an unknown top-level key gets a did-you-mean from the allowed keys', () => {
    const config = valid();
    config.trian = config.train;
    delete config.train;
    const issue = only(validateConfig(config, registries, { file: 'exp.json' }).errors);
    expect(issue.path).toBe('/trian');
    expect(issue.suggestion).toBe('train');
    expect(issue.message).toMatch(/^exp\.json: \/trian: unknown key 'trian'; did you mean 'train'\? Allowed keys here: .*encoders/);
  });

  it('unknown keys in train and in component options get suggestions too', () => {
    const config = valid();
    (config.train as any).epoch = 3;
    (config.encoders as any).wsi.dimm = 3;
    const { errors } = validateConfig(config, registries);
    expect(errors.map((e) => [e.path, e.suggestion])).toEqual([
      ['/train/epoch', 'epochs'],
      ['/encoders/wsi/dimm', 'dim'],
    ]);
  });

  it('a component without a type names the valid ids', () => {
    const config = valid();
    config.fusion = { rank: 3 };
    const issue = only(validateConfig(config, registries).errors);
    expect(issue.path).toBe('/fusion/type');
    expect(issue.message).toMatch(/missing required key 'type'.*valid fusion ids: chimera\.lowrank-bilinear, concat$/);
  });

  it('hints the object form when a component is written as a bare id', () => {
    const config = valid();
    (config.encoders as any).wsi = 'abmil';
    const issue = only(validateConfig(config, registries).errors);
    expect(issue.message).toBe('/encoders/wsi: expected object, found string "abmil"; write { "type": "abmil" }');
  });

  it('re-validating a resolved config (as saved, with _sources_) changes nothing', () => {
    const first = validateConfig(valid(), registries).resolved;
    const again = validateConfig({ ...first, _sources_: ['a.json'] }, registries);
    expect(again.ok).toBe(true);
    expect(again.resolved).toEqual({ ...first, _sources_: ['a.json'] });
  });

  it('truncates long found values', () => {
    const config = valid();
    (config.encoders as any).wsi.dim = 'x'.repeat(200);
    const issue = only(validateConfig(config, registries).errors);
    expect(issue.found!.length).toBeLessThanOrEqual(60);
    expect(issue.found!.endsWith('…')).toBe(true);
  });

  it('reports a plugin whose options schema does not compile instead of throwing', () => {
    const regs = new Registries();
    regs.registrar('broken', 'plugins/broken/index.ts').head({
      id: 'bad', description: 'broken', create: () => ({}) as never, optionsSchema: { type: 'object', properties: { x: { $ref: '#/nowhere' } } },
    });
    const issue = only(validateConfig({ head: { type: 'bad' } }, regs).errors);
    expect(issue.path).toBe('/head');
    expect(issue.message).toContain('bug in the plugin');
  });

  it('caches compiled component schemas per registries object', () => {
    const regs = fakeRegistries();
    const first = validateConfig(valid(), regs);
    const second = validateConfig(valid(), regs);
    expect(second).toEqual(first);
  });
});

describe('formatIssues and resolveAndValidate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmsurv-validate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('formats one line per issue, adding the file where missing', () => {
    const config = valid();
    (config.encoders as any).wsi.dim = 0;
    (config.train as any).seed = 'a';
    const { errors } = validateConfig(config, registries);
    expect(formatIssues(errors, 'exp.json').split('\n')).toEqual([
      'exp.json: /train/seed: expected integer, found string "a"',
      'exp.json: /encoders/wsi/dim: expected a number >= 1, found 0',
    ]);
  });

  it('loads, merges and validates a file, returning the resolved config and sources', async () => {
    const base = join(dir, 'base.json');
    const exp = join(dir, 'exp.json');
    await writeFile(base, JSON.stringify({ encoders: { wsi: { type: 'abmil' } }, head: { type: 'cox' } }));
    await writeFile(exp, JSON.stringify({ _base_: 'base.json', encoders: { wsi: { dim: 128 } } }));
    const { config, sources } = await resolveAndValidate(exp, registries);
    expect(config.encoders).toEqual({ wsi: { type: 'abmil', dim: 128, dropout: 0.25, gated: true } });
    expect(sources).toEqual([base, exp]);
  });

  it('throws ConfigValidationError carrying the issues', async () => {
    const exp = join(dir, 'bad.json');
    await writeFile(exp, JSON.stringify({ head: { type: 'coxx' }, trian: {} }));
    const err = await resolveAndValidate(exp, registries).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigValidationError);
    const v = err as ConfigValidationError;
    expect(v.issues.map((i) => i.suggestion)).toEqual(['train', 'cox']);
    expect(v.message).toContain('invalid config, 2 problems');
    expect(v.message).toContain(`${exp}: /head/type: unknown head 'coxx'; did you mean 'cox'?`);
  });
});
