/**
 * Schema-checked generation: ask a LanguageModel for JSON, parse it, validate it against the schema, retry a
 * non-conforming answer, and report (never use) one that still does not conform.
 *
 * The runtimes constrain decoding to the schema where they can (a llama.cpp grammar, a server's
 * `response_format`), but a truncated answer (maxTokens), a server that ignores `response_format`, or a schema
 * keyword the grammar does not enforce (e.g. `minimum`) still yields invalid JSON. Retries use seeds seed+1,
 * seed+2, ... at temperature max(t, 0.7), so a greedy model that failed once can answer differently.
 *
 * @example
 * const { value } = await generateJson<{ summary: string }>(lm, prompt, schema, { maxTokens: 128, seed: 1 }, 'case 3A_001');
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { GenerateOptions, JsonSchemaObject, LanguageModel } from '../contracts/language-model.js';

export interface GenerateJsonOptions extends Omit<GenerateOptions, 'jsonSchema'> {
  /** Extra attempts after a non-conforming answer (default 2). */
  retries?: number;
}

export interface GenerateJsonResult<T> {
  value: T;
  /** The raw text of the accepted answer. */
  text: string;
  /** Calls made (1 = the first answer conformed). */
  attempts: number;
}

export class NonConformingAnswerError extends Error {
  constructor(message: string, readonly answers: readonly string[]) {
    super(message);
    this.name = 'NonConformingAnswerError';
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();

function validatorFor(schema: JsonSchemaObject): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(key, v);
  }
  return v;
}

/** Why `text` is not a value of `schema` ('' when it is). */
export function schemaProblem(text: string, schema: JsonSchemaObject): { value?: unknown; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  const validate = validatorFor(schema);
  if (validate(value)) return { value, problem: '' };
  const errors = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
  return { value, problem: errors.join('; ') };
}

const clip = (s: string, n = 160): string => (s.length > n ? `${s.slice(0, n)}...` : s);

export async function generateJson<T>(
  lm: LanguageModel,
  prompt: string,
  schema: JsonSchemaObject,
  opts: GenerateJsonOptions = {},
  where = 'generateJson',
): Promise<GenerateJsonResult<T>> {
  const { retries = 2, ...gen } = opts;
  const answers: string[] = [];
  const problems: string[] = [];
  for (let attempt = 0; attempt <= retries; attempt++) {
    const retry = attempt > 0;
    const text = await lm.generate(prompt, {
      ...gen,
      jsonSchema: schema,
      ...(retry ? { temperature: Math.max(gen.temperature ?? 0, 0.7), seed: (gen.seed ?? 0) + attempt } : {}),
    });
    answers.push(text);
    const { value, problem } = schemaProblem(text, schema);
    if (!problem) return { value: value as T, text, attempts: attempt + 1 };
    problems.push(`attempt ${attempt + 1}: ${problem}: ${JSON.stringify(clip(text))}`);
  }
  throw new NonConformingAnswerError(
    `${where}: the language model '${lm.id}' gave no answer that conforms to the JSON schema in ${retries + 1} attempts (${problems.join(' | ')}); raise maxTokens, simplify the schema or use a stronger model`,
    answers,
  );
}
