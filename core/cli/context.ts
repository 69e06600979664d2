/**
 * What every command shares: a root container with the logger, progress reporter and the loaded registries.
 * The backend is selected only by commands that compute with tensors (`useBackend`).
 */
import type { DependencyContainer } from 'tsyringe';
import type { Backend, BackendName } from '../contracts/backend.js';
import type { Logger } from '../contracts/logger.js';
import type { ProgressReporter } from '../contracts/progress.js';
import { createRootContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import type { Registries } from '../registry/registry.js';
import { ConsoleLogger } from '../services/logger.js';
import { StreamProgress } from '../services/progress.js';

export interface GlobalArgs {
  quiet?: boolean;
  verbose?: boolean;
  /** Progress as JSON lines on stderr (a command's own `--json` also prints its result as JSON on stdout). */
  json?: boolean;
  backend?: string;
  plugins?: string[];
}

export interface CliContext {
  container: DependencyContainer;
  registries: Registries;
  logger: Logger;
  progress: ProgressReporter;
  /** Select the tfjs backend (once), register it in the container and return it. */
  useBackend(): Promise<Backend>;
}

export async function createCliContext(args: GlobalArgs): Promise<CliContext> {
  const progress = new StreamProgress({ quiet: args.quiet ?? false, json: args.json ?? false });
  // log lines go through the progress stream, so a message never lands in the middle of a TTY bar
  const logger = new ConsoleLogger(args.quiet ? 'quiet' : args.verbose ? 'verbose' : 'normal', (line) => progress.writeLine(line));
  // Imported here, not at the top: `mmsurv --help` must not load tfjs and every plugin.
  const [{ loadRegistries }, { registerCoreComponents }] = await Promise.all([
    import('../registry/loader.js'),
    import('../data/register.js'),
  ]);
  const registries = await loadRegistries({ builtins: registerCoreComponents, extraRegistryFiles: args.plugins ?? [] });
  const container = createRootContainer({ logger, progress, registries });
  let backend: Backend | undefined;
  return {
    container,
    registries,
    logger,
    progress,
    async useBackend() {
      if (!backend) {
        const { selectBackend } = await import('../backend/select.js');
        backend = await selectBackend({ prefer: (args.backend ?? 'auto') as BackendName | 'auto', logger });
        container.register(TOKENS.Backend, { useValue: backend });
      }
      return backend;
    },
  };
}
