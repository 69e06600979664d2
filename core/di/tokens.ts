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
} as const;
