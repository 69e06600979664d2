/**
 * `/input/inputs.json`: the list of socket values grand-challenge gives an algorithm job.
 *
 * Each entry names its socket (`interface.slug`, `interface.relative_path`, `interface.kind`,
 * `interface.super_kind`) and carries the value inline (`value`) or as a file under /input at the relative path
 * (images: a folder holding exactly one .tif/.tiff/.mha file). Only the keys mmsurv uses are checked; others pass.
 *
 * @example
 * const sockets = await readInputsJson('/input');   // [{ slug, relativePath, kind, superKind, value, imageName }]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

export interface SocketValue {
  slug: string;
  relativePath: string;
  kind: string;
  superKind: string;
  /** Inline value (JSON sockets), or undefined. */
  value: unknown;
  /** `image.name`, for image sockets. */
  imageName?: string;
}

export const INPUTS_JSON_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['interface'],
    properties: {
      interface: {
        type: 'object',
        required: ['slug', 'relative_path'],
        properties: {
          slug: { type: 'string', minLength: 1 },
          relative_path: { type: 'string', minLength: 1 },
          kind: { type: 'string' },
          super_kind: { type: 'string' },
        },
      },
      image: { type: ['object', 'null'], properties: { name: { type: 'string' } } },
    },
  },
} as const;

const validate = new Ajv2020({ allErrors: true, strict: false, verbose: true }).compile(INPUTS_JSON_SCHEMA);

/** Parse and check inputs.json; errors name the file, the JSON path, what was expected and what was found. */
export function parseInputsJson(raw: unknown, file: string): SocketValue[] {
  if (!validate(raw)) {
    const e = validate.errors![0]!;
    const found = JSON.stringify(e.data)?.slice(0, 80);
    const expected = e.keyword === 'type' ? `a value of type ${String((e.params as { type: string }).type)}`
      : e.keyword === 'required' ? `a key ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}` : (e.message ?? 'a valid value');
    throw new Error(`${file}: ${e.instancePath || '/'}: expected ${expected}, found ${found}` +
      ' (inputs.json is a list of { "interface": { "slug", "relative_path", "kind" }, "value" })');
  }
  const list = raw as { interface: Record<string, string>; value?: unknown; image?: { name?: string } | null }[];
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const slug = entry.interface['slug']!;
    if (seen.has(slug)) throw new Error(`${file}: /${i}/interface/slug: socket ${JSON.stringify(slug)} appears twice`);
    seen.add(slug);
    const relativePath = entry.interface['relative_path']!;
    if (relativePath.startsWith('/') || relativePath.split('/').includes('..')) {
      throw new Error(`${file}: /${i}/interface/relative_path: expected a path inside /input, found ${JSON.stringify(relativePath)}`);
    }
    return {
      slug,
      relativePath,
      kind: entry.interface['kind'] ?? '',
      superKind: entry.interface['super_kind'] ?? '',
      value: entry.value,
      ...(entry.image?.name ? { imageName: entry.image.name } : {}),
    };
  });
}

export async function readInputsJson(inputDir: string): Promise<SocketValue[]> {
  const file = join(inputDir, 'inputs.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the platform's socket list (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
      'a grand-challenge job always has one; for a local test, write it as `mmsurv synth --layout chimera-task3-input` does');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: expected a JSON list of socket values, found invalid JSON: ${(err as Error).message}`);
  }
  return parseInputsJson(raw, file);
}
