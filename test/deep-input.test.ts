/**
 * Input shaped unlike hand-written code: a sum of thousands of terms (tsc reads any length, so
 * adc must too) and nesting deeper than TypeScript's parser can read (a located ADC1027, not an
 * internal error). Every walk over user syntax is iterative (compiler/ast-walk.ts) and long
 * chains are cut while lowering (longChain in compiler/ir/lower/expressions.ts).
 */
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const terms = (n: number, term: (i: number) => string): string => Array.from({ length: n }, (_, i) => term(i)).join(" + ");

describe("deep and long input", () => {
  it("a 1,500-term sum, in a return and in a const, differentiates to the analytic gradient", async () => {
    const c = (i: number): number => (i % 7) + 1;
    const src = [
      'import { grad } from "adc";',
      `export function f(x: number): number { return ${terms(1500, (i) => `Math.sin(x * ${c(i)})`)}; }`,
      `export function h(x: number, y: number): number { const s = ${terms(1000, (i) => `x * y * ${c(i)}`)}; return s * s; }`,
      "export const df = grad(f);",
      "export const dh = grad(h, [0, 1]);",
    ].join("\n");
    const m = await load(compile(src, { fileName: "long-sum.ts" }).code || src, "long-sum.ts");
    let expected = 0;
    for (let i = 0; i < 1500; i++) expected += c(i) * Math.cos(0.3 * c(i));
    expect(m.df(0.3)).toBeCloseTo(expected, 9);
    let k = 0;
    for (let i = 0; i < 1000; i++) k += c(i);
    // h = (k x y)^2: dh/dx = 2 k^2 x y^2, dh/dy = 2 k^2 x^2 y
    const [gx, gy] = m.dh(0.5, 2);
    expect(gx / (2 * k * k * 0.5 * 4)).toBeCloseTo(1, 12);
    expect(gy / (2 * k * k * 0.25 * 2)).toBeCloseTo(1, 12);
  });

  it("3,000 nested ifs and a 10,000-deep parenthesis are ADC1027 at the deepest point, not internal errors", () => {
    const ifs = ["export function f(x: number): number {", "  let y = x;", ..."if (y > -1e9) {".repeat(3000).split("{").slice(0, -1).map((s) => s + "{"), "y = y * 2;", "}".repeat(3000), "return y;", "}"].join("\n");
    const r1 = compile(`import { grad } from "adc";\n${ifs}\nexport const g = grad(f);\n`, { fileName: "ifs.ts" });
    const parens = `import { grad } from "adc";\nexport function f(x: number): number { return ${"(".repeat(10000)}x${")".repeat(10000)}; }\nexport const g = grad(f);\n`;
    const r2 = compile(parens, { fileName: "parens.ts" });
    for (const r of [r1, r2]) {
      expect(r.code).toBe("");
      expect(r.diagnostics.map((d) => d.code)).toEqual(["ADC1027"]);
    }
    // The last of the 10,000 parentheses: "return " ends at column 46.
    expect(r2.diagnostics[0]).toMatchObject({ line: 2, column: 46 + 10000 });
    expect(r2.diagnostics[0].message).toMatch(/nested 10001 levels deep/);
  });
});
