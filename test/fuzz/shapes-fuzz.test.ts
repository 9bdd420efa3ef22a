/**
 * The seeded shapes run of `npm test`: RUNS shapes around generated functions (shapes.ts), every
 * kind about equally often, each checked for its properties (shape-properties.ts, shape-checks.ts).
 * On failure the message lists each kind of failure with the first shape that shows it and the
 * command that replays and shrinks it:
 *   npm run fuzz:shapes -- --seed SEED --replay K --shrink
 * Longer runs: npm run fuzz:shapes -- --runs 2000 --seed S. SHAPES_RUNS and SHAPES_SEED override
 * both from the environment.
 */
import { describe, expect, it } from "vitest";
import { runShapes, type ShapeRunResult } from "./shape-driver.js";
import { shapeSignature } from "./shape-properties.js";
import { SHAPE_KINDS } from "./shapes.js";

const SEED = Number(process.env.SHAPES_SEED ?? 20261202);
const RUNS = Number(process.env.SHAPES_RUNS ?? 180);

function describeFailures(r: ShapeRunResult): string {
  const lines = [`${r.failures.length} of ${r.ran} shapes fail (seed ${SEED}):`];
  for (const [sig, n] of [...r.signatures].sort((a, b) => b[1] - a[1])) {
    const first = r.failures.find((f) => f.report.failures.some((x) => shapeSignature(f.c.kind, x) === sig))!;
    const msg = first.report.failures.find((x) => shapeSignature(first.c.kind, x) === sig)!.message.split("\n").slice(0, 4).join("\n    ");
    lines.push(`\n- ${sig}: ${n} shape(s); replay and shrink the first: npm run fuzz:shapes -- --seed ${SEED} --replay ${first.index} --shrink --signature "${sig}"`);
    lines.push(`    ${first.c.what}\n    ${msg}`);
  }
  const first = r.failures[0];
  if (first) lines.push(`\nThe first failing shape (${first.index}):\n${first.c.source}`);
  return lines.join("\n");
}

describe("shapes around generated functions", () => {
  it(`${RUNS} seeded shapes: right numbers in every mode, or an accepted refusal`, async () => {
    const r = await runShapes({ seed: SEED, runs: RUNS });
    expect(r.ran).toBe(RUNS);
    // Not vacuous: every kind is drawn, few shapes are refused, and each shape that ran compared something.
    for (const k of SHAPE_KINDS) expect(r.reports.filter((x) => x.kind === k).length, `shapes of kind ${k}`).toBeGreaterThan(RUNS / 12);
    expect(r.refused / r.ran).toBeLessThan(0.25);
    const idle = r.reports.filter((x) => !x.refused && !x.failures.length && x.checks === 0).length;
    expect(idle / r.ran, "shapes that compared nothing (every point skipped)").toBeLessThan(0.1);
    expect(r.failures.length, describeFailures(r)).toBe(0);
  }, 180_000);
});
