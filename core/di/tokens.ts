/**
 * Injection tokens. Services are always resolved by these explicit tokens (never by constructor type metadata,
 * which esbuild-based tools do not emit).
 */
export const TOKENS = {
  Logger: Symbol.for('mmsurv.Logger'),
  Progress: Symbol.for('mmsurv.Progress'),
  Backend: Symbol.for('mmsurv.Backend'),
  Random: Symbol.for('mmsurv.Random'),
  RunStore: Symbol.for('mmsurv.RunStore'),
  Registries: Symbol.for('mmsurv.Registries'),
  /** The run's local language models (core/llm/language-models.ts), when the config has an `llm` section. */
  LanguageModels: Symbol.for('mmsurv.LanguageModels'),
  /** Folder of the knowledge cache (core/llm/knowledge-cache.ts) for this run, when there is one. */
  KnowledgeCacheDir: Symbol.for('mmsurv.KnowledgeCacheDir'),
} as const;
