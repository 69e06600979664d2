/**
 * The JSON spec of a slide extractor (see core/contracts/slide-extractor.ts): its JSON Schema, its types and
 * validation with errors that name the JSON path, what was expected and what was found.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ajvIssues, formatIssues, renderFound } from '../config/validate.js';
import { didYouMean } from '../registry/did-you-mean.js';
import type { TilingSettings } from './tile-plan.js';

export interface TfjsExtractorSpec extends TilingSettings {
  type: 'tfjs';
  /** Folder with model.json (layers or graph format) and its weight shards; relative to the spec's folder. */
  modelDir: string;
  batchSize: number;
  normalise: 'imagenet' | 'none';
}

export interface CommandExtractorSpec {
  type: 'command';
  id: string;
  command: string[];
  timeoutSeconds: number;
  /** Expected feature width, checked on every slide; optional. */
  dim?: number;
}

export type SlideExtractorSpec = TfjsExtractorSpec | CommandExtractorSpec;

export const EXTRACTOR_TYPES = ['tfjs', 'command'] as const;

const tfjsSchema = {
  $id: 'tfjs',
  type: 'object',
  description: 'Tile the slide with mmsurv and encode patches with a TensorFlow.js model',
  required: ['type', 'modelDir'],
  additionalProperties: false,
  properties: {
    type: { const: 'tfjs' },
    modelDir: { type: 'string', minLength: 1, description: 'folder with model.json and weight shards, relative to the spec file' },
    patchSize: { type: 'integer', minimum: 8, maximum: 4096, default: 224, description: 'patch side in pixels fed to the model' },
    targetMpp: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'microns per pixel of the patches (0.5 ~ 20x, 1.0 ~ 10x)' },
    baseMpp: {
      type: ['number', 'null'], exclusiveMinimum: 0, default: null,
      description: 'microns per pixel of level 0 when the TIFF has no physical resolution tags',
    },
    minTissue: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'fraction of mask pixels a kept patch must cover' },
    maxPatches: { type: 'integer', minimum: 1, default: 4096, description: 'at most this many patches per slide (seeded sample, grid order)' },
    seed: { type: 'integer', default: 0, description: 'seed of the patch sample' },
    batchSize: { type: 'integer', minimum: 1, maximum: 4096, default: 32, description: 'patches per model call' },
    normalise: {
      enum: ['imagenet', 'none'], default: 'imagenet',
      description: "'imagenet': (x/255 - mean) / std with ImageNet mean/std; 'none': x/255",
    },
  },
} as const;

const commandSchema = {
  $id: 'command',
  type: 'object',
  description: 'Run an external program that writes a CLAM/TRIDENT-style HDF5 of patch features',
  required: ['type', 'id', 'command'],
  additionalProperties: false,
  properties: {
    type: { const: 'command' },
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$', description: 'name of the extractor, e.g. "uni-trident"' },
    command: {
      type: 'array', minItems: 1, items: { type: 'string' },
      description: 'program and arguments; {slide}, {mask} and {out} are substituted',
    },
    timeoutSeconds: { type: 'number', exclusiveMinimum: 0, default: 3600, description: 'kill the program after this many seconds' },
    dim: { type: 'integer', minimum: 1, description: 'expected feature width (checked on every slide)' },
  },
} as const;

/** JSON Schema (2020-12) of an extractor spec, for editors and `mmsurv schema`. */
export function slideExtractorSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mmsurv slide extractor spec',
    oneOf: [{ $ref: '#/$defs/tfjs' }, { $ref: '#/$defs/command' }],
    $defs: { tfjs: stripId(tfjsSchema), command: stripId(commandSchema) },
  };
}

function stripId(schema: { $id: string }): Record<string, unknown> {
  const { $id: _id, ...rest } = schema;
  return structuredClone(rest) as Record<string, unknown>;
}

let validators: Record<'tfjs' | 'command', ValidateFunction> | undefined;
function validatorFor(type: 'tfjs' | 'command'): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false, verbose: true });
    validators = { tfjs: ajv.compile(stripId(tfjsSchema)), command: ajv.compile(stripId(commandSchema)) };
  }
  return validators[type];
}

/** An invalid extractor spec; the message lists every problem with its JSON path. */
export class ExtractorSpecError extends Error {
  constructor(readonly problems: string[], where: string) {
    super(`${where}: invalid slide extractor spec, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
      problems.map((p) => `  ${p}`).join('\n'));
    this.name = 'ExtractorSpecError';
  }
}

/**
 * Validate a spec and fill its defaults (the input is not modified). `where` (e.g. the spec file) starts every
 * message. Throws ExtractorSpecError.
 */
export function validateExtractorSpec(spec: unknown, where = 'extractor spec'): SlideExtractorSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    const found = spec === null ? 'null' : Array.isArray(spec) ? 'array' : typeof spec;
    throw new ExtractorSpecError([`(root): expected an object { "type": "tfjs" | "command", ... }, found ${found} ${renderFound(spec) ?? ''}`.trimEnd()], where);
  }
  const type = (spec as Record<string, unknown>).type;
  if (type !== 'tfjs' && type !== 'command') {
    const hint = typeof type === 'string' && didYouMean(type, [...EXTRACTOR_TYPES])[0]
      ? `; did you mean "${didYouMean(type, [...EXTRACTOR_TYPES])[0]}"?` : '';
    const found = type === undefined ? 'no "type" key' : renderFound(type);
    throw new ExtractorSpecError([`/type: expected one of "tfjs", "command", found ${found}${hint}`], where);
  }
  const copy = structuredClone(spec) as Record<string, unknown>;
  const validate = validatorFor(type);
  if (!validate(copy)) {
    const issues = ajvIssues([...(validate.errors ?? [])], '', undefined);
    throw new ExtractorSpecError(formatIssues(issues).split('\n'), where);
  }
  return copy as unknown as SlideExtractorSpec;
}
