/**
 * A vitest reporter that ends the run with one plain line, `N passed, N failed, N skipped`, which CI reads.
 * Skipped tests with a reason (missing Docker, R, ...) are listed above it so nothing is silently skipped.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const reasons: string[] = [];
    for (const mod of testModules) {
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++; // a file that failed to load
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') failed++;
        else {
          skipped++;
          const note = result.state === 'skipped' ? result.note : undefined;
          if (note) reasons.push(`skipped: ${test.fullName} (${note})`);
        }
      }
    }
    failed += unhandledErrors.length;
    const out = process.stdout;
    for (const r of reasons) out.write(r + '\n');
    out.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
