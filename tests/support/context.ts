/** A run container and build contexts for component tests (seeded, logging to memory). */
import type { BuildContext } from '../../core/contracts/component.js';
import { buildContext, createRootContainer, createRunContainer } from '../../core/di/container.js';
import { MemoryLogger } from '../../core/services/logger.js';

export function testContext(path: string, seed = 1): BuildContext & { memory: MemoryLogger } {
  const memory = new MemoryLogger();
  const run = createRunContainer(createRootContainer({ logger: memory }), { seed });
  return { ...buildContext(run, path), memory };
}
