/**
 * Prints one plain line after every run: `N passed, N failed`. CI reads this line (the last of
 * its output). Files that fail to load and errors outside tests count as failures.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    for (const m of modules) {
      let tests = 0;
      for (const t of m.children.allTests()) {
        tests++;
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
      }
      if (tests === 0 && m.state() === "failed") failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
