/**
 * Where the ADBench data lives. One constant, so benchmarks and tests agree on it.
 *
 * The subset the benchmarks and tests read (1.7 MB, MIT-licensed, with its licence and source in
 * `bench/data/adbench/README.md`) is kept in the repository, so a clone anywhere runs them;
 * `$ADBENCH_DATA` points elsewhere. The folder holds `data/` (ADBench's inputs, same paths as in the ADBench repo)
 * and `reference/` (expected values from ADBench's test suite), as described in its README.md.
 */
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Root of the ADBench data set: `$ADBENCH_DATA` if set, else `bench/data/adbench` in this checkout. */
export const ADBENCH_DIR: string = process.env.ADBENCH_DATA ?? resolve(here, "..", "data", "adbench");

/** Absolute path of an input file, given its path under `data/` (e.g. `gmm/1k/gmm_d2_K5.txt`). */
export function dataPath(rel: string): string {
  return resolve(ADBENCH_DIR, "data", rel);
}

/** Absolute path of a reference file under `reference/` (e.g. `gmm_test.expected.json`). */
export function referencePath(name: string): string {
  return resolve(ADBENCH_DIR, "reference", name);
}
