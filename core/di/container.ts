/**
 * The tsyringe containers. The root container holds process-wide services (logger, progress, registries,
 * backend); every run, fold and test gets a child container with its own random source and run store, so two runs
 * in one process share nothing mutable.
 */
import 'reflect-metadata';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import type { Backend } from '../contracts/backend.js';
import type { BuildContext } from '../contracts/component.js';
import type { Logger } from '../contracts/logger.js';
import type { ProgressReporter } from '../contracts/progress.js';
import type { RandomSource } from '../contracts/random-source.js';
import type { Registries } from '../registry/registry.js';
import { ConsoleLogger } from '../services/logger.js';
import { StreamProgress } from '../services/progress.js';
import { SeededRandom } from '../services/random.js';
import { DirectoryRunStore } from '../services/run-store.js';
import { TOKENS } from './tokens.js';

export interface RootServices {
  logger?: Logger;
  progress?: ProgressReporter;
  registries?: Registries;
  backend?: Backend;
}

/** A fresh root container (a child of tsyringe's global one, which mmsurv never writes to). */
export function createRootContainer(services: RootServices = {}): DependencyContainer {
  const root = globalContainer.createChildContainer();
  root.register(TOKENS.Logger, { useValue: services.logger ?? new ConsoleLogger() });
  root.register(TOKENS.Progress, { useValue: services.progress ?? new StreamProgress() });
  if (services.registries) root.register(TOKENS.Registries, { useValue: services.registries });
  if (services.backend) root.register(TOKENS.Backend, { useValue: services.backend });
  return root;
}

export interface RunServices {
  seed: number;
  /** Run directory; when set, a RunStore is registered. */
  runDir?: string;
}

/** A child container for one run (or fold, or test): its own seeded random source and run store. */
export function createRunContainer(parent: DependencyContainer, run: RunServices): DependencyContainer {
  const child = parent.createChildContainer();
  child.register(TOKENS.Random, { useValue: new SeededRandom(run.seed) });
  if (run.runDir !== undefined) child.register(TOKENS.RunStore, { useValue: new DirectoryRunStore(run.runDir) });
  return child;
}

/** The factory context for the component configured at `path` (e.g. 'encoders.wsi'). */
export function buildContext(container: DependencyContainer, path: string): BuildContext {
  const random = container.resolve<RandomSource>(TOKENS.Random).fork(path);
  return { container, logger: container.resolve<Logger>(TOKENS.Logger), random, path };
}
