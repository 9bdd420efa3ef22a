/**
 * Inlining's limits as a user meets them (ir/inline.ts): a helper called many times is inlined
 * until the caller has grown by the budget, and the calls after that stay calls of the helper's
 * generated derivatives; the gradient is the same either way (finite differences).
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const step = Array.from({ length: 30 }, (_, k) => `  y = y * 0.9 + Math.sin(x + ${k}) * 0.01;`).join("\n");
const source = `
import { grad } from "adc";
/** About 60 statements once in A-normal form: at the size limit. */
function helper(y: number, x: number): number {
${step}
  return y;
}
export function many(x: number): number {
  let y = x;
${Array.from({ length: 40 }, () => "  y = helper(y, x);").join("\n")}
  return y;
}
export const dMany = grad(many);
`;

describe("inlining", () => {
  it("stops at the growth budget: later calls stay calls, and the gradient is right", async () => {
    const r = compile(source, { fileName: "inline-budget.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const body = r.code.slice(r.code.indexOf("export function many_grad"));
    // Some calls inlined (the helper's statements appear in the gradient), some kept.
    expect(body).toMatch(/Math\.sin\(/);
    expect(body).toMatch(/helper_fwd\w*\(/);
    const m = await load(r.code, "inline-budget.ts");
    const h = 1e-6;
    for (const x of [0.3, -1.2]) {
      const fd = (m.many(x + h) - m.many(x - h)) / (2 * h);
      expect(Math.abs(m.dMany(x) - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });
});
