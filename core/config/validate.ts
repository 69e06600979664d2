/**
 * Validating experiment configs, with errors that teach.
 *
 * Phases, so each message is about one thing:
 * 1. the core schema (core-schema.ts): top-level keys, train settings, slot shapes; fills defaults;
 * 2. every component slot: its `type` (`format` for data) must be a registered id of the slot's kind;
 * 3. every component's options (the slot without its core keys) against that component's optionsSchema; fills
 *    the component's defaults.
 * Each issue is one line: `<file>: /encoders/wsi/dim: expected integer, found string "512"`.
 *
 * @example
 * const { ok, errors, resolved } = validateConfig(config, registries, { file: 'exp.json' });
 * if (!ok) console.error(formatIssues(errors));
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { RegisteredComponent } from '../contracts/component.js';
import { didYouMean } from '../registry/did-you-mean.js';
import { UnknownComponentError } from '../registry/errors.js';
import type { Registries } from '../registry/registry.js';
import { COMPONENT_SLOTS, coreSchema, type ComponentSlot } from './core-schema.js';
import { loadConfig } from './load.js';
import { isPlainObject, type ConfigObject } from './merge.js';

export interface ConfigIssue {
  /** JSON pointer of the offending value, e.g. '/encoders/wsi/dim' ('' for the whole config). */
  path: string;
  /** One readable line: `<file>: <path>: <what is wrong>`. */
  message: string;
  /** What would have been valid, e.g. 'integer', 'one of "adam", "sgd"'. */
  expected?: string;
  /** The JSON of the value found, truncated to ~60 characters. */
  found?: string;
  /** The most likely intended key or id. */
  suggestion?: string;
}

export interface ValidateOptions {
  /** File name for messages. */
  file?: string;
  /** Top-level keys that must be present (e.g. the trainer needs ['data', 'encoders', 'fusion', 'head']). */
  require?: readonly string[];
}

export interface ValidationResult {
  ok: boolean;
  errors: ConfigIssue[];
  /** A copy of the config with every default filled in (best effort when not ok). */
  resolved: ConfigObject;
}

const FOUND_MAX = 60;

function newAjv(): Ajv2020 {
  return new Ajv2020({ allErrors: true, useDefaults: true, strict: false, verbose: true });
}

let coreValidator: ValidateFunction | undefined;
function validateCore(data: unknown): ErrorObject[] {
  coreValidator ??= newAjv().compile(coreSchema());
  return coreValidator(data) ? [] : [...(coreValidator.errors ?? [])];
}

interface ComponentValidators {
  ajv: Ajv2020;
  byId: Map<string, ValidateFunction | Error>;
}
const componentCache = new WeakMap<Registries, ComponentValidators>();

/** The compiled options schema of a component: once per registries object and component. */
function componentValidator(registries: Registries, spec: RegisteredComponent): ValidateFunction | Error {
  let cache = componentCache.get(registries);
  if (!cache) {
    cache = { ajv: newAjv(), byId: new Map() };
    componentCache.set(registries, cache);
  }
  const key = `${spec.kind}:${spec.id}`;
  let v = cache.byId.get(key);
  if (!v) {
    try {
      const { $schema: _ignored, ...schema } = spec.optionsSchema;
      v = cache.ajv.compile(schema);
    } catch (err) {
      v = err instanceof Error ? err : new Error(String(err));
    }
    cache.byId.set(key, v);
  }
  return v;
}

// ---------- JSON pointers and value rendering ----------

function escapeKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The JSON of a value, cut to ~60 characters. */
export function renderFound(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return json.length > FOUND_MAX ? `${json.slice(0, FOUND_MAX - 1)}…` : json;
}

function makeIssue(path: string, body: string, file: string | undefined, parts: Omit<ConfigIssue, 'path' | 'message'> = {}): ConfigIssue {
  const where = path === '' ? '(root)' : path;
  const issue: ConfigIssue = { path, message: `${file ? `${file}: ` : ''}${where}: ${body}` };
  for (const [k, v] of Object.entries(parts)) if (v !== undefined) (issue as unknown as Record<string, unknown>)[k] = v;
  return issue;
}

// ---------- ajv errors -> issues ----------

/** A short description of what a schema accepts, for anyOf/oneOf messages. */
function describeSchema(s: unknown): string {
  if (s === true) return 'anything';
  if (!isPlainObject(s)) return 'nothing';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (s.type !== undefined) return ([] as unknown[]).concat(s.type).join(' or ');
  if (typeof s.$ref === 'string') return s.$ref.split('/').pop()!;
  return 'a matching value';
}

/** Whether a schema could accept a value of this JSON type (so its errors are about more than the type). */
function acceptsTypeOf(s: unknown, value: unknown): boolean {
  if (!isPlainObject(s)) return s === true;
  const t = jsonType(value);
  if (s.const !== undefined) return jsonType(s.const) === t;
  if (Array.isArray(s.enum)) return s.enum.some((v) => jsonType(v) === t);
  if (s.type === undefined) return true;
  const types = ([] as unknown[]).concat(s.type);
  return types.includes(t) || (t === 'number' && types.includes('integer') && Number.isInteger(value));
}

/**
 * Drop the noise of anyOf/oneOf: when the value's type fits no alternative, one "expected A or B" line replaces
 * the alternatives' errors; otherwise only the errors of alternatives of the right type are kept.
 */
function pruneAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>();
  for (const a of errors) {
    if ((a.keyword !== 'anyOf' && a.keyword !== 'oneOf') || (a.params as { passingSchemas?: unknown }).passingSchemas) continue;
    const branches = Array.isArray(a.schema) ? a.schema : [];
    const fitting = branches.map((b, i) => (acceptsTypeOf(b, a.data) ? i : -1)).filter((i) => i >= 0);
    const inside = errors.filter((e) => e !== a && e.schemaPath.startsWith(`${a.schemaPath}/`));
    if (fitting.length === 0) {
      inside.forEach((e) => drop.add(e));
      continue;
    }
    const kept = inside.filter((e) => fitting.some((i) => e.schemaPath.startsWith(`${a.schemaPath}/${i}/`)));
    inside.filter((e) => !kept.includes(e)).forEach((e) => drop.add(e));
    if (kept.length) drop.add(a);
  }
  return errors.filter((e) => !drop.has(e) && e.keyword !== 'if');
}

function unknownKeyIssue(e: ErrorObject, key: string, prefix: string, file: string | undefined, extraKeys: readonly string[]): ConfigIssue {
  const parent = isPlainObject(e.parentSchema) ? e.parentSchema : {};
  const allowed = [...new Set([...extraKeys, ...Object.keys(isPlainObject(parent.properties) ? parent.properties : {})])];
  const suggestion = didYouMean(key, allowed)[0];
  const hint = suggestion ? `; did you mean '${suggestion}'?` : '';
  const list = allowed.length ? ` Allowed keys here: ${allowed.join(', ')}.` : ' This object takes no other keys.';
  return makeIssue(`${prefix}${e.instancePath}/${escapeKey(key)}`, `unknown key '${key}'${hint}${list}`, file, {
    expected: allowed.length ? `one of the keys ${allowed.join(', ')}` : 'no other key',
    found: JSON.stringify(key),
    suggestion,
  });
}

/** One ajv error as one issue: path, what was expected, what was found. */
function toIssue(e: ErrorObject, prefix: string, file: string | undefined, extraKeys: readonly string[]): ConfigIssue {
  const p = e.params as Record<string, any>;
  const path = `${prefix}${e.instancePath}`;
  const found = renderFound(e.data);
  const foundTyped = `${jsonType(e.data)} ${found}`;
  const plain = (expected: string, suggestion?: string) => {
    const hint = suggestion !== undefined ? `; did you mean ${JSON.stringify(suggestion)}?` : '';
    return makeIssue(path, `expected ${expected}, found ${found}${hint}`, file, { expected, found, suggestion });
  };
  switch (e.keyword) {
    case 'type': {
      const expected = ([] as unknown[]).concat(p.type).flatMap((t) => String(t).split(',')).join(' or ');
      return makeIssue(path, `expected ${expected}, found ${foundTyped}`, file, { expected, found });
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]) ?? [];
      const strings = allowed.filter((v): v is string => typeof v === 'string');
      const suggestion = typeof e.data === 'string' ? didYouMean(e.data, strings)[0] : undefined;
      return plain(`one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, suggestion);
    }
    case 'const':
      return plain(JSON.stringify(p.allowedValue));
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return plain(`a number ${p.comparison} ${p.limit}`);
    case 'multipleOf':
      return plain(`a multiple of ${p.multipleOf}`);
    case 'minLength': case 'maxLength':
      return plain(`a string of ${e.keyword === 'minLength' ? 'at least' : 'at most'} ${p.limit} characters`);
    case 'minItems': case 'maxItems':
      return plain(`an array of ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} items`);
    case 'minProperties': case 'maxProperties':
      return plain(`an object with ${e.keyword === 'minProperties' ? 'at least' : 'at most'} ${p.limit} keys`);
    case 'pattern':
      return plain(`a string matching /${p.pattern}/`);
    case 'format':
      return plain(`a string in "${p.format}" format`);
    case 'uniqueItems':
      return plain(`an array without duplicates (items ${p.j} and ${p.i} are equal)`);
    case 'required': case 'dependentRequired': case 'dependencies': {
      const key = String(p.missingProperty);
      const parent = isPlainObject(e.parentSchema) && isPlainObject(e.parentSchema.properties) ? e.parentSchema.properties : {};
      const prop = parent[key];
      const about = isPlainObject(prop) && typeof prop.description === 'string' ? ` (${prop.description.split('\n')[0]})` : '';
      const when = e.keyword === 'required' ? '' : `, required when '${p.property}' is present`;
      return makeIssue(`${path}/${escapeKey(key)}`, `missing required key '${key}'${about}${when}`, file, { expected: `key '${key}'` });
    }
    case 'additionalProperties':
      return unknownKeyIssue(e, String(p.additionalProperty), prefix, file, extraKeys);
    case 'unevaluatedProperties':
      return unknownKeyIssue(e, String(p.unevaluatedProperty), prefix, file, extraKeys);
    case 'anyOf': case 'oneOf': {
      if (p.passingSchemas) {
        return makeIssue(path, `matches more than one alternative (${String(p.passingSchemas)}); expected exactly one, found ${found}`, file, { expected: 'exactly one alternative', found });
      }
      const alternatives = (Array.isArray(e.schema) ? e.schema : []).map(describeSchema);
      const expected = [...new Set(alternatives)].join(' or ');
      return makeIssue(path, `expected ${expected}, found ${foundTyped}`, file, { expected, found });
    }
    case 'not':
      return plain(`a value that is not ${describeSchema(e.schema)}`);
    case 'false schema':
      return makeIssue(path, `no value is allowed here, found ${found}`, file, { expected: 'no value', found });
    default:
      return makeIssue(path, `${e.message ?? `fails '${e.keyword}'`}${found !== undefined ? `, found ${found}` : ''}`, file, { expected: e.message, found });
  }
}

/** ajv errors as issues (one line each; `prefix` is put before every JSON path). Also used by other JSON specs. */
export function ajvIssues(errors: ErrorObject[], prefix: string, file: string | undefined, extraKeys: readonly string[] = []): ConfigIssue[] {
  const seen = new Set<string>();
  return pruneAlternatives(errors)
    .map((e) => toIssue(e, prefix, file, extraKeys))
    .filter((i) => (seen.has(i.message) ? false : (seen.add(i.message), true)));
}

// ---------- component slots ----------

interface SlotEntry {
  pointer: string;
  component: ConfigObject;
  /** Put the component (with defaults) back into the resolved config. */
  store(value: ConfigObject): void;
}

function slotEntries(resolved: ConfigObject, slot: ComponentSlot): SlotEntry[] {
  const value = resolved[slot.key];
  if (!slot.many) {
    return isPlainObject(value) ? [{ pointer: `/${slot.key}`, component: value, store: (v) => { resolved[slot.key] = v; } }] : [];
  }
  if (!isPlainObject(value)) return [];
  return Object.entries(value)
    .filter((entry): entry is [string, ConfigObject] => isPlainObject(entry[1]))
    .map(([name, component]) => ({ pointer: `/${slot.key}/${escapeKey(name)}`, component, store: (v) => { value[name] = v; } }));
}

function validateSlot(
  resolved: ConfigObject,
  slot: ComponentSlot,
  registries: Registries,
  file: string | undefined,
  coreIssues: readonly ConfigIssue[],
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const registry = registries.of(slot.kind);
  for (const { pointer, component, store } of slotEntries(resolved, slot)) {
    const id = component[slot.discriminator];
    const idPath = `${pointer}/${slot.discriminator}`;
    if (typeof id !== 'string') {
      // The core schema reported it; say which ids would do.
      const reported = coreIssues.find((i) => i.path === idPath);
      const ids = registry.ids();
      if (reported && ids.length) reported.message += `; valid ${slot.kind} ids: ${ids.join(', ')}`;
      continue;
    }
    if (!registry.has(id)) {
      const err = new UnknownComponentError(slot.kind, id, registry.ids());
      const ids = registry.ids();
      issues.push(makeIssue(idPath, err.message.replace(/\.\s+Did you mean/, '; did you mean'), file, {
        expected: ids.length ? `one of ${ids.join(', ')}` : `a registered ${slot.kind} (none is registered)`,
        found: JSON.stringify(id),
        suggestion: err.suggestions[0],
      }));
      continue;
    }
    const spec = registry.get(id) as RegisteredComponent;
    const validate = componentValidator(registries, spec);
    if (validate instanceof Error) {
      issues.push(makeIssue(pointer, `the options schema of ${slot.kind} '${id}' (plugin ${spec.plugin}, ${spec.module}) does not compile: ${validate.message.split('\n')[0]}; this is a bug in the plugin, not in the config`, file));
      continue;
    }
    const core: ConfigObject = {};
    const options: ConfigObject = {};
    for (const [k, v] of Object.entries(component)) (slot.coreKeys.includes(k) ? core : options)[k] = v;
    if (!validate(options)) issues.push(...ajvIssues([...(validate.errors ?? [])], pointer, file, slot.coreKeys));
    store({ [slot.discriminator]: id, ...core, ...options });
  }
  return issues;
}

/** `"wsi": "abmil"` is a common slip for `"wsi": { "type": "abmil" }`: say so in the core schema's issue. */
function hintStringComponents(resolved: ConfigObject, slot: ComponentSlot, coreIssues: readonly ConfigIssue[]): void {
  const value = resolved[slot.key];
  const candidates: [string, unknown][] = slot.many
    ? isPlainObject(value) ? Object.entries(value).map(([k, v]) => [`/${slot.key}/${escapeKey(k)}`, v]) : []
    : [[`/${slot.key}`, value]];
  for (const [pointer, v] of candidates) {
    const issue = typeof v === 'string' ? coreIssues.find((i) => i.path === pointer) : undefined;
    if (issue) issue.message += `; write { "${slot.discriminator}": ${JSON.stringify(v)} }`;
  }
}

// ---------- public API ----------

/** Validate a (loaded, merged) config against the core schema and the registered components. */
export function validateConfig(config: Record<string, unknown>, registries: Registries, opts: ValidateOptions = {}): ValidationResult {
  const { file } = opts;
  const resolved = structuredClone(config) as ConfigObject;
  const coreIssues = ajvIssues(validateCore(resolved), '', file);
  const errors: ConfigIssue[] = [...coreIssues];
  if (isPlainObject(resolved)) {
    for (const key of opts.require ?? []) {
      if (resolved[key] !== undefined) continue;
      const slot = COMPONENT_SLOTS.find((s) => s.key === key);
      const about = slot ? ` (${slot.description})` : '';
      errors.push(makeIssue(`/${escapeKey(key)}`, `missing required key '${key}'${about}`, file, { expected: `key '${key}'` }));
    }
    for (const slot of COMPONENT_SLOTS) {
      hintStringComponents(resolved, slot, coreIssues);
      errors.push(...validateSlot(resolved, slot, registries, file, coreIssues));
    }
  }
  return { ok: errors.length === 0, errors, resolved };
}

/** Issues as lines, one per issue; `file` is put in front of messages that do not name it yet. */
export function formatIssues(issues: readonly ConfigIssue[], file?: string): string {
  return issues.map((i) => (file && !i.message.startsWith(`${file}: `) ? `${file}: ${i.message}` : i.message)).join('\n');
}

/** A config failed validation; `issues` says where and why. */
export class ConfigValidationError extends Error {
  constructor(readonly issues: ConfigIssue[], readonly file?: string) {
    const n = issues.length;
    const lines = formatIssues(issues, file).split('\n').map((l) => `  ${l}`).join('\n');
    super(`${file ?? 'config'}: invalid config, ${n} problem${n === 1 ? '' : 's'}:\n${lines}`);
    this.name = 'ConfigValidationError';
  }
}

/** Load a config file (with its `_base_` chain) and validate it; throws ConfigValidationError on failure. */
export async function resolveAndValidate(
  file: string,
  registries: Registries,
  opts: Omit<ValidateOptions, 'file'> = {},
): Promise<{ config: ConfigObject; sources: string[] }> {
  const { config, sources } = await loadConfig(file);
  const result = validateConfig(config, registries, { ...opts, file });
  if (!result.ok) throw new ConfigValidationError(result.errors, file);
  return { config: result.resolved, sources };
}
