/**
 * Components and plugins: how a published method enters mmsurv.
 *
 * A plugin is a module listed in registry.json that exports `register(registrar)`. It registers components; each
 * component has an id, a one-line description, a JSON Schema (2020-12) of its options and a `create` factory.
 * Configs select a component with `{ "type": id, ...options }` (dataset readers: `{ "format": id, ... }`).
 *
 * When things run
 * - `register` runs once per process, when the loader imports registry.json (before any config is validated).
 * - `create(options, ctx)` runs once per run (per fold), after the options were validated against
 *   `optionsSchema` with defaults applied; it must not do slow work (no file reading, no training).
 *
 * Invariants
 * - Ids are unique per kind across all plugins; a duplicate is an error that names both modules.
 * - `optionsSchema` describes an object; `type` (or `format`) is added by the composer and must not be declared.
 * - Plugins import `core` only, never another plugin, and get services from `ctx`, never from globals.
 *
 * @example
 * export function register(r: Registrar): void {
 *   r.encoder({
 *     id: 'linear',
 *     description: 'Linear token projection: each token x -> W x + b',
 *     optionsSchema: { type: 'object', properties: { outDim: { type: 'integer', minimum: 1, default: 256 } },
 *                      additionalProperties: false },
 *     create: (o, ctx) => new LinearEncoder(o as LinearOptions, ctx),
 *   });
 * }
 */
import type { DependencyContainer } from 'tsyringe';
import type { ChallengeAdapter } from './challenge-adapter.js';
import type { DatasetReader } from './dataset-reader.js';
import type { Encoder } from './encoder.js';
import type { Fusion } from './fusion.js';
import type { Head } from './head.js';
import type { KnowledgeSource } from './knowledge-source.js';
import type { Logger } from './logger.js';
import type { RandomSource } from './random-source.js';

/** A JSON Schema (2020-12) object. */
export type JsonSchema = Record<string, unknown>;

/** The extension points, and what a component of each kind builds. */
export interface ComponentKinds {
  encoder: Encoder;
  fusion: Fusion;
  head: Head;
  knowledge: KnowledgeSource;
  challenge: ChallengeAdapter;
  dataset: DatasetReader;
}
export type ComponentKind = keyof ComponentKinds;
export const COMPONENT_KINDS: readonly ComponentKind[] = ['encoder', 'fusion', 'head', 'knowledge', 'challenge', 'dataset'];

/** What a factory receives besides its options. */
export interface BuildContext {
  /** The run's child container: resolve other services by their TOKENS. */
  readonly container: DependencyContainer;
  readonly logger: Logger;
  /** A random stream forked for this component (by its config path), so components never share draws. */
  readonly random: RandomSource;
  /** Config path of the component, e.g. 'encoders.wsi'; for encoders the last segment is the modality. */
  readonly path: string;
}

export interface ComponentSpec<K extends ComponentKind = ComponentKind, O = any> {
  id: string;
  description: string;
  optionsSchema: JsonSchema;
  /**
   * Encoders only: the Case modalities it can read (config key under `encoders`, e.g. ['wsi'] or ['rna']; a text
   * encoder lists the keys it is usually configured under). The conformance suite builds each encoder under each
   * of these keys; `mmsurv plugins` shows them.
   */
  modalities?: readonly string[];
  create(options: O, ctx: BuildContext): ComponentKinds[K];
}

/** A spec as stored in a registry: with its kind and the plugin that registered it. */
export interface RegisteredComponent<K extends ComponentKind = ComponentKind> extends ComponentSpec<K> {
  kind: K;
  /** Plugin name from registry.json ('core' for built-ins). */
  plugin: string;
  /** Module that registered it (file path), for duplicate-id errors. */
  module: string;
}

/** What a plugin's `register()` receives. */
export interface Registrar {
  encoder<O>(spec: ComponentSpec<'encoder', O>): void;
  fusion<O>(spec: ComponentSpec<'fusion', O>): void;
  head<O>(spec: ComponentSpec<'head', O>): void;
  knowledge<O>(spec: ComponentSpec<'knowledge', O>): void;
  challenge<O>(spec: ComponentSpec<'challenge', O>): void;
  dataset<O>(spec: ComponentSpec<'dataset', O>): void;
}

/** The shape of a plugin module. */
export interface PluginModule {
  register(registrar: Registrar): void | Promise<void>;
}
