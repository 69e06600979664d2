import type { ComponentKind } from '../contracts/component.js';
import { didYouMean } from './did-you-mean.js';

/** A config or code asked for an id that no plugin registered. */
export class UnknownComponentError extends Error {
  readonly suggestions: string[];
  constructor(readonly kind: ComponentKind, readonly id: string, readonly validIds: readonly string[], readonly where?: string) {
    const suggestions = didYouMean(id, validIds);
    const at = where ? `${where}: ` : '';
    const hint = suggestions.length ? ` Did you mean '${suggestions[0]}'?` : '';
    const valid = validIds.length
      ? `Valid ${kind} ids: ${[...validIds].sort().join(', ')}.`
      : `No ${kind} is registered: add a plugin that registers one to registry.json.`;
    super(`${at}unknown ${kind} '${id}'.${hint} ${valid}`);
    this.name = 'UnknownComponentError';
    this.suggestions = suggestions;
  }
}

/** Two modules registered the same id for the same kind. */
export class DuplicateComponentError extends Error {
  constructor(readonly kind: ComponentKind, readonly id: string, readonly firstModule: string, readonly secondModule: string) {
    super(
      `duplicate ${kind} id '${id}': registered by ${firstModule} and again by ${secondModule}. ` +
        `Ids must be unique per kind; rename one (plugins usually prefix their ids, e.g. 'myplugin.${id}').`,
    );
    this.name = 'DuplicateComponentError';
  }
}

/** registry.json or a plugin module is broken. */
export class PluginLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginLoadError';
  }
}
