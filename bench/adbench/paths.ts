/**
 * Where the ADBench data lives. One constant, so benchmarks and tests agree on it.
 *
 * The data is not copied into the repository (it is large and carries its own license); it is
 * read at run time from the shared data folder next to this checkout, or from `$ADBENCH_DATA`.
 * The folder is expected to hold `data/` (ADBench's inputs, same paths as in the ADBench repo)
 * and `reference/` (expected values from ADBench's test suite), as described in its README.md.
 */
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Root of the ADBench data set: `$ADBENCH_DATA` if set, else `<checkout>/../shared/bench-data/adbench`. */
export const ADBENCH_DIR: string = process.env.ADBENCH_DATA ?? resolve(here, "..", "..", "..", "shared", "bench-data", "adbench");

/** Absolute path of an input file, given its path under `data/` (e.g. `gmm/1k/gmm_d2_K5.txt`). */
export function dataPath(rel: string): string {
  return resolve(ADBENCH_DIR, "data", rel);
}

/** Absolute path of a reference file under `reference/` (e.g. `gmm_test.expected.json`). */
export function referencePath(name: string): string {
  return resolve(ADBENCH_DIR, "reference", name);
}
