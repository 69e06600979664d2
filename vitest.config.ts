import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    reporters: ['default', './tests/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // tfjs and h5wasm keep process-wide state: one fork per file keeps test files independent.
    pool: 'forks',
  },
});
