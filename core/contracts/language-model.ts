/**
 * LanguageModel: a locally deployable LLM, used before training (knowledge sources: refined reports, background
 * knowledge, a teacher's verbalised survival) and by text encoders (embeddings). Every LLM in mmsurv is local: a
 * GGUF file run in process by node-llama-cpp (`llama-cpp`), or a server the team runs itself that speaks the
 * OpenAI API (`openai`: llama.cpp's server, vLLM, Ollama). Challenge containers have no network.
 *
 * When it runs: `mmsurv knowledge build` (once per cohort; results cached), a text encoder's `prepare` (embeddings,
 * cached), and inside a container when a GGUF model is bundled. Never inside a training step.
 *
 * Invariants
 * - `id` names the model's weights, not its location: 'gguf:<sha256 prefix of the file>' or
 *   'openai:<model name>@<base URL>'. Caches key on it, so a changed model file recomputes everything it made.
 *   It is known after `load()` (a GGUF file is hashed once and the hash cached beside it).
 * - `generate(prompt, { jsonSchema })` returns text that the runtime constrained to the schema where it can
 *   (llama.cpp grammar; `response_format: json_schema` on a server). Callers never trust that: they parse and
 *   validate with `generateJson` (core/llm/generate-json.ts), which retries and then reports, never uses a
 *   non-conforming answer.
 * - With `temperature: 0` (the default) the answer is greedy; with `temperature > 0` the `seed` fixes the sampling,
 *   so a seeded call is repeatable on the same runtime and model.
 * - `embed(texts)` returns one vector per text, in order, each of length `embeddingDim` (known after `load()`).
 *   An empty input gives an empty array.
 * - `dispose()` frees native memory; the object is unusable afterwards.
 *
 * @example
 * const lm = await models.get('teacher');            // LanguageModels service (core/llm/language-models.ts)
 * const text = await lm.generate('Summarise: ...', { maxTokens: 64 });
 * const [v] = await lm.embed(['High-grade urothelial carcinoma.']);   // Float32Array(lm.embeddingDim)
 */

/** A JSON Schema (2020-12) object, e.g. { type: 'object', properties: {...}, required: [...] }. */
export type JsonSchemaObject = Record<string, unknown>;

export interface GenerateOptions {
  /** Constrain (and later validate) the answer to this schema. */
  jsonSchema?: JsonSchemaObject;
  /** Upper bound on generated tokens (always set one; default 256). */
  maxTokens?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  /** Fixes sampling when temperature > 0. */
  seed?: number;
  /** An optional system message. */
  system?: string;
}

export interface LanguageModel {
  /** Identity of the weights (see invariants); '' until `load()` resolved. */
  readonly id: string;
  /** Width of `embed` vectors; 0 until `load()` resolved. */
  readonly embeddingDim: number;
  /**
   * The `id` without loading weights (a GGUF file is hashed, its sidecar hash reused): what caches check before
   * deciding whether the model is needed at all.
   */
  identify(): Promise<string>;
  /** Load weights / check the server; idempotent. Every other method calls it first. */
  load(): Promise<void>;
  generate(prompt: string, opts?: GenerateOptions): Promise<string>;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}
