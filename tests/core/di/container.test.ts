import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../../../core/contracts/random-source.js';
import type { RunStore } from '../../../core/contracts/run-store.js';
import { buildContext, createRootContainer, createRunContainer } from '../../../core/di/container.js';
import { TOKENS } from '../../../core/di/tokens.js';
import { MemoryLogger } from '../../../core/services/logger.js';

describe('DI containers', () => {
  it('root services resolve by explicit tokens; runs get their own random source and store', () => {
    const logger = new MemoryLogger();
    const root = createRootContainer({ logger });
    expect(root.resolve(TOKENS.Logger)).toBe(logger);
    const runA = createRunContainer(root, { seed: 1, runDir: '/tmp/run-a' });
    const runB = createRunContainer(root, { seed: 1, runDir: '/tmp/run-b' });
    const rA = runA.resolve<RandomSource>(TOKENS.Random);
    const rB = runB.resolve<RandomSource>(TOKENS.Random);
    expect(rA).not.toBe(rB);
    // same seed -> same sequence, but separate state: drawing from A does not advance B
    const a1 = rA.uniform();
    rA.uniform();
    expect(rB.uniform()).toBe(a1);
    expect(runA.resolve<RunStore>(TOKENS.RunStore).dir).toBe('/tmp/run-a');
    expect(runB.resolve<RunStore>(TOKENS.RunStore).dir).toBe('/tmp/run-b');
    // children inherit the root logger; the root does not see run services
    expect(runA.resolve(TOKENS.Logger)).toBe(logger);
    expect(root.isRegistered(TOKENS.Random, true)).toBe(false);
  });

  it('two root containers share nothing', () => {
    const l1 = new MemoryLogger();
    const l2 = new MemoryLogger();
    const r1 = createRootContainer({ logger: l1 });
    const r2 = createRootContainer({ logger: l2 });
    expect(r1.resolve(TOKENS.Logger)).toBe(l1);
    expect(r2.resolve(TOKENS.Logger)).toBe(l2);
  });

  it('buildContext forks the random stream by config path', () => {
    const run = createRunContainer(createRootContainer({ logger: new MemoryLogger() }), { seed: 5 });
    const wsi1 = buildContext(run, 'encoders.wsi').random.uniform();
    const wsi2 = buildContext(run, 'encoders.wsi').random.uniform();
    const rna = buildContext(run, 'encoders.rna').random.uniform();
    expect(wsi1).toBe(wsi2);
    expect(rna).not.toBe(wsi1);
    expect(buildContext(run, 'encoders.wsi').path).toBe('encoders.wsi');
  });
});
