import type {
  BuildContext,
  ComponentKind,
  ComponentKinds,
  ComponentSpec,
  Registrar,
  RegisteredComponent,
} from '../contracts/component.js';
import { COMPONENT_KINDS } from '../contracts/component.js';
import { DuplicateComponentError, UnknownComponentError } from './errors.js';

/** One registry per extension point: id -> component spec. */
export class Registry<K extends ComponentKind> {
  private readonly specs = new Map<string, RegisteredComponent<K>>();

  constructor(readonly kind: K) {}

  add(spec: ComponentSpec<K>, plugin: string, module: string): void {
    if (typeof spec.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(spec.id)) {
      throw new Error(`${module}: ${this.kind} id must be a non-empty string of letters, digits, '.', '_' or '-'; found ${JSON.stringify(spec.id)}`);
    }
    if (typeof spec.description !== 'string' || spec.description.trim() === '') {
      throw new Error(`${module}: ${this.kind} '${spec.id}' needs a one-line description`);
    }
    if (typeof spec.optionsSchema !== 'object' || spec.optionsSchema === null) {
      throw new Error(`${module}: ${this.kind} '${spec.id}' needs an optionsSchema (a JSON Schema object)`);
    }
    if (typeof spec.create !== 'function') {
      throw new Error(`${module}: ${this.kind} '${spec.id}' needs a create(options, ctx) factory`);
    }
    const existing = this.specs.get(spec.id);
    if (existing) throw new DuplicateComponentError(this.kind, spec.id, existing.module, module);
    this.specs.set(spec.id, { ...spec, kind: this.kind, plugin, module });
  }

  has(id: string): boolean {
    return this.specs.has(id);
  }

  /** The spec for `id`, or an UnknownComponentError with the valid ids and a did-you-mean. */
  get(id: string, where?: string): RegisteredComponent<K> {
    const spec = this.specs.get(id);
    if (!spec) throw new UnknownComponentError(this.kind, id, this.ids(), where);
    return spec;
  }

  ids(): string[] {
    return [...this.specs.keys()].sort();
  }

  entries(): RegisteredComponent<K>[] {
    return this.ids().map((id) => this.specs.get(id)!);
  }

  /**
   * Build from `{ type: id, ...options }` (or `{ format: id, ... }` for dataset readers). Options must already be
   * validated (core/config); `create` receives them without the discriminator key.
   */
  build(config: Record<string, unknown>, ctx: BuildContext, discriminator = 'type'): ComponentKinds[K] {
    const id = config[discriminator];
    if (typeof id !== 'string') {
      throw new Error(`${ctx.path}: expected a '${discriminator}' naming a ${this.kind}, found ${JSON.stringify(id)}`);
    }
    const spec = this.get(id, ctx.path);
    const { [discriminator]: _omit, ...options } = config;
    return spec.create(options, ctx);
  }
}

/** The registries of all extension points. */
export class Registries {
  readonly encoder = new Registry('encoder');
  readonly fusion = new Registry('fusion');
  readonly head = new Registry('head');
  readonly knowledge = new Registry('knowledge');
  readonly challenge = new Registry('challenge');
  readonly dataset = new Registry('dataset');

  of<K extends ComponentKind>(kind: K): Registry<K> {
    return this[kind] as unknown as Registry<K>;
  }

  /** Everything registered, grouped by kind in COMPONENT_KINDS order. */
  all(): RegisteredComponent[] {
    return COMPONENT_KINDS.flatMap((k) => this.of(k).entries() as RegisteredComponent[]);
  }

  /** A Registrar that records `plugin` and `module` on everything registered through it. */
  registrar(plugin: string, module: string): Registrar {
    const add = <K extends ComponentKind>(kind: K) => (spec: ComponentSpec<K>) => this.of(kind).add(spec, plugin, module);
    return {
      encoder: add('encoder'),
      fusion: add('fusion'),
      head: add('head'),
      knowledge: add('knowledge'),
      challenge: add('challenge'),
      dataset: add('dataset'),
    };
  }
}
