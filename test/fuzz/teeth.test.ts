/**
 * The harness has teeth: with a wrong derivative rule planted in the compiler (the sign of
 * Math.sin's partial flipped, by swapping the rule's `partial` in the registry of
 * compiler/rules/scalar.ts and restoring it in `finally`), the fuzzer finds a program whose
 * derivatives fail the numeric properties, and fast-check shrinks it to a few lines.
 *
 * A program counts only if it fails with the planted rule and passes without it, both when it is
 * found and at every shrinking step, so the compiler's own open bugs cannot stand in for the
 * planted one. Expected result: one function of about three lines that calls Math.sin.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scalarRule, type ScalarRule } from "../../compiler/rules/scalar.js";
import { neg } from "../../compiler/ir/make.js";
import { programs } from "./driver.js";
import { codeSize, programArb, render, type GenOptions, type Program } from "./generator.js";
import { ProgramChecker, type CheckOptions } from "./properties.js";
import { reduce } from "./reduce.js";

const SEED = 7;
const GEN: GenOptions = { maxFunctions: 2, maxStatements: 3 };
const NUMERIC: CheckOptions = { determinism: false, typecheck: false, numeric: true };

/** Runs `f` with Math.sin's partial negated (d/dx sin x = -cos x), then puts the rule back. */
async function withWrongSin<T>(f: () => Promise<T>): Promise<T> {
  const rule = scalarRule("Math.sin") as { partial: ScalarRule["partial"] } | undefined;
  if (!rule) throw new Error("no rule for Math.sin");
  const right = rule.partial;
  rule.partial = (i, o) => {
    const p = right(i, o);
    return p === null ? null : neg(p);
  };
  try {
    return await f();
  } finally {
    rule.partial = right;
  }
}

/** Evaluations fast-check's shrinking and the cleanup pass may spend (each compiles and checks a program, about 0.6 s): the seeded failure shrinks to 3 lines within them. */
const SHRINK_EVALS = 40;
const REDUCE_EVALS = 20;

describe("the fuzzer", () => {
  it("finds a planted wrong rule and shrinks the failure to a small program", async () => {
    const checker = new ProgramChecker();
    try {
      const numericFails = async (sources: string[]): Promise<boolean[]> =>
        (await checker.check(sources, NUMERIC)).map((r) => r.failures.some((f) => f.kind === "numeric"));
      const failsOnlyPlanted = async (source: string): Promise<boolean> => {
        const [planted] = await withWrongSin(() => numericFails([source]));
        if (!planted) return false;
        const [right] = await checker.check([source], NUMERIC);
        return right.failures.length === 0;
      };

      // Find: the first program of the seeded run that the planted rule breaks, and only it.
      const sources = programs(SEED, 60, GEN).map(render);
      const planted = await withWrongSin(() => numericFails(sources));
      const candidates = sources.map((_, k) => k).filter((k) => planted[k]);
      expect(candidates.length, "the planted rule breaks some of 60 programs").toBeGreaterThan(0);
      const right = await checker.check(candidates.map((k) => sources[k]), NUMERIC);
      const found = candidates.find((_, n) => right[n].failures.length === 0);
      expect(found, "a program that fails only because of the planted rule").toBeDefined();

      // Shrink it: fast-check replays program `found` of the run and minimizes it. The budgets
      // count evaluations, not seconds, so the result does not depend on the machine's load.
      let shrinkEvals = 0;
      const details = await fc.check(
        fc.asyncProperty(programArb(GEN), async (p: Program) => ++shrinkEvals > SHRINK_EVALS || !(await failsOnlyPlanted(render(p)))),
        { seed: SEED, path: String(found), numRuns: 1, endOnFailure: false } as fc.Parameters<[Program]>,
      );
      expect(details.failed).toBe(true);
      // Then the cleanup pass (reduce.ts): functions, statements and wrappers fast-check kept.
      let reduceEvals = 0;
      const reduced = await reduce(details.counterexample![0], async (p) => ++reduceEvals <= REDUCE_EVALS && failsOnlyPlanted(render(p)), 10 * 60_000);
      console.log(`teeth: ${shrinkEvals} shrinking and ${reduceEvals} cleanup evaluations`);
      const shrunk = render(reduced.program);
      console.log(`teeth: program ${found} of seed ${SEED} (${codeSize(sources[found!])} lines) shrunk in ${details.numShrinks} steps and ${reduced.steps} cleanup edits to ${codeSize(shrunk)} lines:\n${shrunk}`);
      expect(shrunk).toContain("Math.sin");
      expect(codeSize(shrunk)).toBeLessThanOrEqual(5);
      expect(codeSize(shrunk)).toBeLessThan(codeSize(sources[found!]));
      expect(await failsOnlyPlanted(shrunk)).toBe(true);
    } finally {
      checker.dispose();
    }
    // The rule is back: the compiler differentiates sin correctly again.
    const ok = new ProgramChecker();
    try {
      const [r] = await ok.check(['/** @domain 0.5 2 */\nexport function f(x: number): number {\n  return Math.sin(x);\n}\n'], NUMERIC);
      expect(r.failures).toEqual([]);
    } finally {
      ok.dispose();
    }
  }, 300_000);
});
