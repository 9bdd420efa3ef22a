/**
 * Inlining's limits as a user meets them (ir/inline.ts): a helper called many times is inlined
 * until the caller has grown by the budget, and the calls after that stay calls of the helper's
 * generated derivatives; the gradient is the same either way (finite differences).
 */
import { describe, expect, it, vi } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, compileFiles, formatDiagnostic } from "../compiler/index.js";
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

describe("inlining and default parameters", () => {
  it("an argument that is undefined takes the helper's default, as the call would", async () => {
    const r = compile(`
      import { grad, jvp, valueAndGrad } from "adc";
      function drag(v: number, c = 0.1): number { return c * v * v; }
      export const loss = (v: number, c?: number) => drag(v, c);
      export function loss2(v: number, c: number | undefined): number { return drag(v, c) + v; }
      export const g = grad(loss), g2 = grad(loss2), vg = valueAndGrad(loss);
      export const t = (v: number) => jvp(loss, [v], [1])[1];
    `, { fileName: "inline-default.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "inline-default.ts");
    expect(m.g(2)).toBeCloseTo(0.4, 14);
    expect(m.g(2, 0.5)).toBeCloseTo(2, 14);
    expect(m.g2(2, undefined)).toBeCloseTo(1.4, 14);
    expect(m.vg(2)).toEqual([m.loss(2), m.g(2)]);
    expect(m.t(2)).toBeCloseTo(0.4, 14);
  });

  it("the same for a local function", async () => {
    const r = compile(`
      import { grad } from "adc";
      export function f(x: number, c?: number): number {
        const sq = (v: number, k = 2) => k * v * v;
        return sq(x, c) + sq(x);
      }
      export const g = grad(f);
    `, { fileName: "local-default.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "local-default.ts");
    expect(m.g(1.5)).toBeCloseTo(12, 14);
    expect(m.g(1.5, 3)).toBeCloseTo(15, 14);
  });
});

describe("inlining and the names a helper reads from its module", () => {
  it("a caller's parameter or local of the same name does not capture them", async () => {
    const r = compile(`
      import { grad, jvp } from "adc";
      const k = 2;
      function helper(x: number): number { return x * x * k + Math.PI * x; }
      export function f(x: number, k: number): number { return helper(x) + k * x; }
      export function g(x: number): number { const k = 7; return helper(x) * k; }
      export function h(x: number): number { return helper(x) * k; }
      export const df = grad(f);
      export const tf = (x: number, k: number) => jvp(f, [x, k], [1, 0]);
      export const dg = grad(g);
      export const dh = grad(h);
    `, { fileName: "inline-shadow.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    // Where nothing shadows k, the helper is still inlined.
    expect(r.code.slice(r.code.indexOf("export function h_grad"))).not.toMatch(/helper_fwd/);
    const m = await load(r.code, "inline-shadow.ts");
    expect(m.df(3, 10)).toBeCloseTo(2 * 3 * 2 + Math.PI + 10, 12);
    expect(m.tf(3, 10)[1]).toBeCloseTo(2 * 3 * 2 + Math.PI + 10, 12);
    expect(m.dg(3)).toBeCloseTo(7 * (2 * 3 * 2 + Math.PI), 12);
    expect(m.dh(3)).toBeCloseTo(2 * (2 * 3 * 2 + Math.PI), 12);
  });

  it("a helper whose body keeps source text naming its own variables (a template literal) stays a call", async () => {
    const r = compile(`
      import { grad } from "adc";
      function sq(v: number, tag: string): number { console.log(\`sq(\${v}) [\${tag}]\`); return v * v; }
      export function f(x: number): number { return sq(x, "first") * 2; }
      export const df = grad(f);
    `, { fileName: "inline-template.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "inline-template.ts");
    const lines: unknown[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(...a));
    try {
      expect(m.df(1.5)).toBe(6);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(["sq(1.5) [first]"]);
  });

  it("a helper of another module that reads that module's names is not inlined into this one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-inline-"));
    try {
      writeFileSync(join(dir, "helper.ts"), "const scale = 1.5;\nexport function scaled(x: number): number { return x * x * scale; }\nexport function plain(x: number): number { return x * x * Math.PI; }\n");
      writeFileSync(join(dir, "main.ts"), `
        import { grad } from "adc";
        import { scaled, plain } from "./helper";
        const scale = 100;
        export const f = (x: number) => scaled(x) + x * scale + plain(x);
        export const df = grad(f);
      `);
      const r = compileFiles([join(dir, "main.ts")]);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      const main = r.outputs.get(join(dir, "main.ts"))!.code;
      expect(main).toMatch(/scaled_fwd\w*\(/);
      expect(main).not.toMatch(/plain_fwd/);
      const helper = r.outputs.get(join(dir, "helper.ts"))!.code;
      const m = await load(main, join(dir, "main.ts"), new Map([[join(dir, "helper.ts"), helper]]));
      expect(m.df(2)).toBeCloseTo(2 * 2 * 1.5 + 100 + 2 * 2 * Math.PI, 12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
