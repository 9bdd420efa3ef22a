/**
 * The seeded fuzz run of `npm test`: RUNS random programs in adc's language (generator.ts), each
 * checked for every property in properties.ts (no crash, no diagnostic, byte-identical output
 * when compiled twice, generated code that type-checks under strict, derivatives that agree
 * with finite differences and with each other, a balanced tape).
 *
 * The run is deterministic (fixed SEED). On failure the message lists each kind of failure with
 * the first program that shows it and the command that replays and shrinks it:
 *   npm run fuzz -- --seed SEED --replay K --shrink
 * Longer runs: npm run fuzz -- --runs 10000 --seed S.
 *
 * RUNS is tuned so this file takes about a minute on a 2-core machine; FUZZ_RUNS and FUZZ_SEED
 * override both from the environment.
 *
 * A second, shorter run checks derivatives of derivatives (order 2: hessian, grad of grad,
 * jvp and vjp of grad against finite differences of grad, jacfwd against jacrev;
 * test/helpers/check2.ts); replay its programs with `--order 2`.
 */
import { describe, expect, it } from "vitest";
import { run, signatures, type RunResult } from "./driver.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const SEED2 = SEED + 2;
const RUNS2 = Number(process.env.FUZZ_RUNS2 ?? 60);

function describeFailures(r: RunResult, seed = SEED, order = 1): string {
  const flag = order > 1 ? ` --order ${order}` : "";
  const lines = [`${r.failures.length} of ${r.ran} programs fail (seed ${seed}${flag}):`];
  for (const [sig, n] of [...r.signatures].sort((a, b) => b[1] - a[1])) {
    const first = r.failures.find((f) => f.failures.some((x) => signatures(x).includes(sig)))!;
    const msg = first.failures.find((x) => signatures(x).includes(sig))!.message.split("\n").slice(0, 4).join("\n    ");
    lines.push(`\n- ${sig}: ${n} program(s); replay and shrink the first: npm run fuzz -- --seed ${seed}${flag} --replay ${first.index} --shrink --signature "${sig}"`);
    lines.push(`    ${msg}`);
  }
  const first = r.failures[0];
  if (first) lines.push(`\nThe first failing program (${first.index}):\n${first.source}`);
  return lines.join("\n");
}

describe("random programs", () => {
  it(`${RUNS} seeded programs compile deterministically to type-correct code with correct derivatives`, async () => {
    const r = await run({ seed: SEED, runs: RUNS, batch: 25 });
    expect(r.ran).toBe(RUNS);
    // The generator must produce valid programs that mostly evaluate to finite numbers, or the
    // properties hold vacuously.
    expect(r.failures.filter((f) => f.failures.some((x) => x.kind === "generator")).map((f) => f.source)).toEqual([]);
    expect(r.finite / r.ran).toBeGreaterThan(0.9);
    expect(r.failures.length, describeFailures(r)).toBe(0);
  }, 360_000); // (about 90 s alone; a run sharing the cores with the rest of the suite takes up to twice that)

  it(`${RUNS2} seeded programs to second order: hessian, grad of grad, jvp and vjp of grad, jacfwd and jacrev`, async () => {
    const r = await run({ seed: SEED2, runs: RUNS2, batch: 20, order: 2 });
    expect(r.ran).toBe(RUNS2);
    // Programs whose second derivatives are refused are still checked to first order; few are
    // refused outright, or the property would hold vacuously.
    expect(r.refused / r.ran).toBeLessThan(0.1);
    expect(r.failures.length, describeFailures(r, SEED2, 2)).toBe(0);
  }, 360_000); // (about 90 s alone; a run sharing the cores with the rest of the suite takes up to twice that)
});
