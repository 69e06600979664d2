import type { Registrar } from '../contracts/component.js';

/**
 * Components built into core: the dataset readers. Registered as plugin 'core' before registry.json's plugins.
 * (Filled in by core/data readers.)
 */
export function registerCoreComponents(r: Registrar): void {
  void r;
}
