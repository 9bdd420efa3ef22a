import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // Vitest's default is one worker fewer than the cores, which is one worker on a 2-core CI
    // machine: the suite then ran file after file (568 s). The files are CPU-bound and
    // independent, so one worker per core.
    maxWorkers: Math.max(2, availableParallelism()),
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
