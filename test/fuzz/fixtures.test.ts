/**
 * The fuzzer's properties on the checked-in fixtures:
 * - every fixtures/fuzz/<name>/input.ts (the reduced failures the fuzzer found, and constructs
 *   found to be supported) passes all of them: compiles, deterministically, to code that
 *   type-checks under strict, with derivatives that agree with finite differences and with each
 *   other, and a balanced tape. test/fixtures.test.ts checks the same fixtures' expected output
 *   and numbers, but not that the generated code type-checks, so a fuzz fixture for a type error
 *   fails here;
 * - the generated code of every other single-module fixture (outside fixtures/errors)
 *   type-checks under strict.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ProgramChecker } from "./properties.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "fixtures");

function inputs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(join(p, "input.ts"))) out.push(join(p, "input.ts"));
    else out.push(...inputs(p));
  }
  return out;
}

const fuzz = inputs(join(fixtures, "fuzz"));
/** Single-module fixtures: the checker compiles each program alone, away from its folder. */
const others = inputs(fixtures).filter((f) => !f.startsWith(join(fixtures, "fuzz")) && !f.startsWith(join(fixtures, "errors")) && !/from\s+["']\.\.?\//.test(readFileSync(f, "utf8")));

const checker = new ProgramChecker();
afterAll(() => checker.dispose());

describe.each(fuzz.map((f) => [relative(fixtures, dirname(f)), f]))("%s", (_name, file) => {
  it("has every property the fuzzer checks", async () => {
    const [r] = await checker.check([readFileSync(file, "utf8")]);
    expect(r.failures.map((f) => `[${f.kind}] ${f.message}`)).toEqual([]);
  });
});

describe("fixtures", () => {
  it(`generate code that type-checks under strict (${others.length} single-module fixtures)`, async () => {
    const reports = await checker.check(others.map((f) => readFileSync(f, "utf8")), { determinism: false, numeric: false });
    const bad = reports.flatMap((r, i) => r.failures.map((f) => `${relative(root, others[i])}: [${f.kind}] ${f.message}`));
    expect(bad).toEqual([]);
  }, 120_000);
});
