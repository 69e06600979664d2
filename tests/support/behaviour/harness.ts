/**
 * What the behaviour suites share: the per-id tables, building a component the way the trainer does (config
 * validated with validateConfig, schema defaults filled in, then `registries.<kind>.build(resolved, ctx)`), and
 * error messages that name the table a plugin author has to extend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { RegisteredComponent } from '../../../core/contracts/component.js';
import { formatIssues, validateConfig } from '../../../core/config/validate.js';
import type { Registries } from '../../../core/registry/registry.js';
import { conformanceCohort, writeConformanceGmt, type ConformanceCohort, type TokenShapes } from '../conformance-cohort.js';

/** Files the tables may point at, written once per test file. */
export interface Fixtures {
  /** A GMT file of four pathways over the cohort's genes GENE01..GENE40 (see writeConformanceGmt). */
  gmtFile: string;
}

export type OptionsTable = Readonly<Record<string, (f: Fixtures) => Record<string, unknown>>>;

/** Per-id exceptions to "build with the schema defaults"; each should stay small. */
export interface BehaviourTables {
  /** Modality keys (`encoders.<key>`) of encoders whose spec declares no `modalities` (the spec wins). */
  encoderModalities: Readonly<Record<string, readonly string[]>>;
  /** Options an encoder needs beyond its schema defaults (files, options without a default). */
  encoderOptions: OptionsTable;
  /** Options a fusion needs beyond its schema defaults. */
  fusionOptions: OptionsTable;
  /** Token shapes for fusions that accept only some modalities (default DEFAULT_FUSION_TOKENS). */
  fusionTokens: Readonly<Record<string, TokenShapes>>;
  /** Options a head needs beyond its schema defaults. */
  headOptions: OptionsTable;
}

export interface BehaviourEnv {
  registries: Registries;
  tables: BehaviourTables;
  /** The test file that holds the tables, named in failure messages. */
  tablesFile: string;
  fixtures: Fixtures;
  cohort: ConformanceCohort;
}

/** The environment of one test file: fixture files are written when a test first asks, and removed after the file. */
export function behaviourEnv(registries: Registries, tables: BehaviourTables, tablesFile: string): BehaviourEnv {
  let dir: string | null = null;
  let gmtFile: string | null = null;
  const fixtureDir = () => (dir ??= mkdtempSync(join(tmpdir(), 'mmsurv-behaviour-')));
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const fixtures: Fixtures = {
    get gmtFile() {
      return (gmtFile ??= writeConformanceGmt(fixtureDir()));
    },
  };
  return { registries, tables, tablesFile, fixtures, cohort: conformanceCohort() };
}

export function describeSpec(spec: RegisteredComponent): string {
  return `${spec.kind} '${spec.id}' (plugin ${spec.plugin}, ${spec.module})`;
}

/** An error that says which component failed doing what, and what its author can do about it. */
export function teach(spec: RegisteredComponent, doing: string, err: unknown, hint: string): Error {
  return new Error(`${describeSpec(spec)}: ${doing} failed: ${(err as Error).message}\n${hint}`, { cause: err });
}

/**
 * The component's config as the trainer gets it: `{ type: id, ...extra }` in its slot (`encoders.<key>`, `fusion`,
 * `head`), validated against the composed schema with every default filled in.
 */
export function resolvedConfig(
  env: BehaviourEnv,
  spec: RegisteredComponent,
  slot: 'encoders' | 'fusion' | 'head',
  key: string,
  extra: Record<string, unknown>,
  table: keyof BehaviourTables,
): Record<string, unknown> {
  const component = { type: spec.id, ...extra };
  const config = slot === 'encoders' ? { encoders: { [key]: component } } : { [slot]: component };
  const { ok, errors, resolved } = validateConfig(config, env.registries, { file: 'behaviour-config' });
  if (!ok) {
    throw new Error(
      `${describeSpec(spec)}: ${JSON.stringify(component)} does not validate:\n${formatIssues(errors)}\n` +
        `Give every option a default, or add the options it needs to tables.${table} in ${env.tablesFile}.`,
    );
  }
  const out = slot === 'encoders' ? (resolved['encoders'] as Record<string, unknown>)[key] : resolved[slot];
  return out as Record<string, unknown>;
}
