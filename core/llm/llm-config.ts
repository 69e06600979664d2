/**
 * The `llm` section of an experiment config: name -> a local language model.
 *
 * @example
 * "llm": {
 *   "teacher": { "type": "llama-cpp", "model": "models/qwen2.5-7b-instruct-q4_k_m.gguf", "contextSize": 4096 },
 *   "student": { "type": "openai", "baseUrl": "http://127.0.0.1:8080/v1", "model": "qwen2.5-1.5b" }
 * }
 * Knowledge sources and text encoders name a model by its key ("llm": "teacher").
 */
import type { JsonSchema } from '../contracts/component.js';

export interface LlamaCppOptions {
  type: 'llama-cpp';
  /** GGUF file; a relative path resolves against the config file's folder (absolute once resolved). */
  model: string;
  /** Context window in tokens (prompt + answer). */
  contextSize: number;
  /** CPU threads for generation; 0 = node-llama-cpp's default. On 2-core machines 1 is much faster than 4. */
  threads: number;
  /** 'auto': CUDA/Vulkan/Metal when the prebuilt binary finds one, else CPU; false: CPU only. */
  gpu: 'auto' | false;
}

export interface OpenAiOptions {
  type: 'openai';
  /** Base URL of an OpenAI-compatible API, including /v1. Default loopback: the team's own server. */
  baseUrl: string;
  /** Model name sent with every request. */
  model: string;
  /** Model name for /embeddings when it differs from `model`. */
  embeddingModel?: string;
  /** Name of an environment variable holding an API key (sent as a Bearer token); none by default. */
  apiKeyEnv?: string;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Retries after a network error, a timeout, 429 or 5xx (exponential back-off from `retryDelayMs`). */
  retries: number;
  retryDelayMs: number;
}

export type LanguageModelOptions = LlamaCppOptions | OpenAiOptions;

export const LLM_TYPES = ['llama-cpp', 'openai'] as const;

export const llmSectionSchema: JsonSchema = {
  type: 'object',
  description: 'Local language models by name, used by knowledge sources ("llm": name) and text encoders (embedder { "type": "llm", "llm": name }). A GGUF file run in process, or your own OpenAI-compatible server (llama.cpp server, vLLM, Ollama).',
  additionalProperties: {
    oneOf: [
      {
        type: 'object',
        description: 'A GGUF model run in process by node-llama-cpp.',
        properties: {
          type: { const: 'llama-cpp' },
          model: { type: 'string', minLength: 1, description: 'GGUF file; relative to the config file.' },
          contextSize: { type: 'integer', minimum: 64, description: 'Context window in tokens (prompt + answer); default 2048.' },
          threads: { type: 'integer', minimum: 0, description: 'CPU threads (0: the runtime default); default 1, the fastest on 2-core machines.' },
          gpu: { enum: ['auto', false], description: "'auto' (default): use a GPU when the prebuilt binary finds one; false: CPU only." },
        },
        required: ['type', 'model'],
        additionalProperties: false,
      },
      {
        type: 'object',
        description: 'An OpenAI-compatible server the team runs itself (chat completions with a JSON schema, embeddings).',
        properties: {
          type: { const: 'openai' },
          baseUrl: { type: 'string', description: 'Base URL including /v1; default http://127.0.0.1:8080/v1 (loopback).' },
          model: { type: 'string', minLength: 1, description: 'Model name sent with each request.' },
          embeddingModel: { type: 'string', minLength: 1, description: 'Model name for /embeddings, when it differs.' },
          apiKeyEnv: { type: 'string', minLength: 1, description: 'Environment variable holding an API key (Bearer); none by default.' },
          timeoutMs: { type: 'integer', minimum: 1, description: 'Per-request timeout in ms; default 120000.' },
          retries: { type: 'integer', minimum: 0, description: 'Retries after a network error, timeout, 429 or 5xx; default 2.' },
          retryDelayMs: { type: 'integer', minimum: 0, description: 'First back-off delay in ms (doubles per retry); default 500.' },
        },
        required: ['type', 'model'],
        additionalProperties: false,
      },
    ],
  },
  default: {},
};

/** The `llm` section with every default filled (ajv does not apply defaults inside oneOf). */
export function llmSectionWithDefaults(section: unknown): Record<string, LanguageModelOptions> {
  const out: Record<string, LanguageModelOptions> = {};
  for (const [name, raw] of Object.entries((section ?? {}) as Record<string, Record<string, unknown>>)) {
    if (raw['type'] === 'llama-cpp') {
      out[name] = { contextSize: 2048, threads: 1, gpu: 'auto', ...raw } as LlamaCppOptions;
    } else if (raw['type'] === 'openai') {
      out[name] = { baseUrl: 'http://127.0.0.1:8080/v1', timeoutMs: 120000, retries: 2, retryDelayMs: 500, ...raw } as OpenAiOptions;
    } else {
      throw new Error(`/llm/${name}/type: expected 'llama-cpp' or 'openai', found ${JSON.stringify(raw['type'])}`);
    }
  }
  return out;
}
