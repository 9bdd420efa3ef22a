/**
 * The esbuild plugin: bundles an example with it and runs the bundle; reports diagnostics as
 * esbuild errors with locations; maps bundle positions back to the user's source.
 */
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { build, context } from "esbuild";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { adc } from "../esbuild/plugin.js";
import { ALIASES } from "./helpers/load.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, ".vitest-tmp"), { recursive: true });
const tmp = mkdtempSync(join(root, ".vitest-tmp", "esb-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function bundleWith(entry: string) {
  return build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    outfile: join(tmp, "out.js"),
    sourcemap: "external",
    alias: ALIASES,
    logLevel: "silent",
    plugins: [adc()],
  });
}

describe("adc/esbuild", () => {
  it("bundles an example; the bundle runs and prints the gradients", async () => {
    const res = await bundleWith(join(root, "examples/scalar.ts"));
    const js = res.outputFiles!.find((f) => f.path.endsWith(".js"))!.text;
    const logs: unknown[][] = [];
    const orig = console.log;
    console.log = (...a: unknown[]) => void logs.push(a);
    try {
      await import("data:text/javascript;base64," + Buffer.from(js).toString("base64"));
    } finally {
      console.log = orig;
    }
    expect(logs[1][1]).toBeCloseTo(4.009849108754793, 8);
  });

  it("bundles derivatives of derivatives across two modules: grad of grad, hessian, jacrev, and grad inside a differentiated function", async () => {
    const dir = join(tmp, "higher");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "lib.ts"), `export function g(x: number, y: number): number { return Math.sin(x) * y * y + x * x * x; }\n`);
    writeFileSync(
      join(dir, "main.ts"),
      `import { grad, hessian, jacrev } from "adc";
       import { g } from "./lib.ts";
       export function pen(x: number, y: number): number { return grad(g)(x, y) ** 2; }
       const curve = (t: number): number[] => [g(t, 1), g(1, t)];
       (globalThis as any).__higher = [grad(grad(g))(0.7, 1.3), hessian(g, 1)(0.7, 1.3), jacrev(curve)(0.4), grad(pen)(0.7, 1.3)];\n`,
    );
    const res = await bundleWith(join(dir, "main.ts"));
    const js = res.outputFiles!.find((f) => f.path.endsWith(".js"))!.text;
    await import("data:text/javascript;base64," + Buffer.from(js).toString("base64"));
    const [gxx, gyy, jac, dpen] = (globalThis as { __higher?: [number, number, number[], number] }).__higher!;
    const x = 0.7, y = 1.3;
    expect(gxx).toBeCloseTo(-Math.sin(x) * y * y + 6 * x, 12);
    expect(gyy).toBeCloseTo(2 * Math.sin(x), 12);
    expect(jac[0]).toBeCloseTo(Math.cos(0.4) + 3 * 0.4 * 0.4, 12);
    expect(jac[1]).toBeCloseTo(2 * Math.sin(1) * 0.4, 12);
    // d/dx (g_x)^2 = 2 g_x g_xx
    const gx = Math.cos(x) * y * y + 3 * x * x;
    expect(dpen).toBeCloseTo(2 * gx * (-Math.sin(x) * y * y + 6 * x), 10);
  });

  it("maps generated positions back to the user's file", async () => {
    const res = await bundleWith(join(root, "examples/scalar.ts"));
    const js = res.outputFiles!.find((f) => f.path.endsWith(".js"))!.text;
    const map = new TraceMap(res.outputFiles!.find((f) => f.path.endsWith(".map"))!.text);
    const lines = js.split("\n");
    const line = lines.findIndex((l) => l.includes("Math.log(1 + Math.exp(x))"));
    expect(line).toBeGreaterThanOrEqual(0);
    const pos = originalPositionFor(map, { line: line + 1, column: lines[line].indexOf("Math.log") });
    expect(pos.source).toMatch(/examples\/scalar\.ts$/);
    expect(pos.line).toBe(5);
  });

  it("reports adc diagnostics as esbuild errors with locations", async () => {
    const file = join(tmp, "bad.ts");
    writeFileSync(file, 'import { grad } from "adc";\nexport function f(x: number): number {\n  return Number(String(x)) * x;\n}\nexport const g = grad(f);\n');
    const err = await bundleWith(file).catch((e: { errors: { text: string; location: { line: number; column: number; file: string } }[] }) => e);
    expect("errors" in err).toBe(true);
    const first = (err as { errors: { text: string; location: { line: number; column: number; file: string } }[] }).errors[0];
    expect(first.text).toMatch(/^ADC1004: /);
    expect(first.location.line).toBe(3);
    expect(first.location.column).toBe(16);
  });

  it("sees a change to an imported file between two rebuilds of one context: the new derivative, then a new refusal", async () => {
    const dir = mkdtempSync(join(tmp, "rebuild-"));
    const lib = join(dir, "lib.ts");
    const main = join(dir, "main.ts");
    writeFileSync(lib, "export function sq(x: number): number { return x * x; }\n");
    writeFileSync(main, 'import { grad } from "adc";\nimport { sq } from "./lib";\nexport const d = grad((x: number) => sq(x));\n');
    const ctx = await context({ entryPoints: [main], bundle: true, format: "esm", platform: "node", write: false, alias: ALIASES, logLevel: "silent", plugins: [adc()] });
    try {
      const run = async (): Promise<number> => {
        const res = await ctx.rebuild();
        const js = res.outputFiles![0].text;
        const m = await import("data:text/javascript;base64," + Buffer.from(js).toString("base64"));
        return m.d(3);
      };
      expect(await run()).toBe(6);
      writeFileSync(lib, "export function sq(x: number): number { return x * x * x; }\n");
      expect(await run()).toBe(27);
      writeFileSync(lib, "export function sq(x: number): number { return x * Math.random(); }\n");
      const err = await ctx.rebuild().catch((e: { errors: { text: string }[] }) => e);
      expect("errors" in err && (err as { errors: { text: string }[] }).errors[0].text).toMatch(/^ADC1003: Math.random/);
    } finally {
      await ctx.dispose();
    }
  });

  it("resolves imports through the tsconfig's paths, as esbuild does: the derivative goes through the mapped module", async () => {
    const dir = mkdtempSync(join(tmp, "paths-"));
    mkdirSync(join(dir, "src", "lib"), { recursive: true });
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, paths: { "@lib/*": ["./src/lib/*"] } }, include: ["src"] }));
    writeFileSync(join(dir, "src", "lib", "sq.ts"), "export function sq(x: number): number { return x * x; }\n");
    const main = join(dir, "src", "main.ts");
    writeFileSync(main, 'import { grad } from "adc";\nimport { sq } from "@lib/sq";\nexport const d = grad((x: number) => Math.sin(sq(x)));\n');
    const res = await build({ entryPoints: [main], absWorkingDir: dir, bundle: true, format: "esm", platform: "node", write: false, alias: ALIASES, logLevel: "silent", plugins: [adc()] });
    const m = await import("data:text/javascript;base64," + Buffer.from(res.outputFiles![0].text).toString("base64"));
    expect(m.d(0.5)).toBeCloseTo(2 * 0.5 * Math.cos(0.25), 14);
  });

  it("refuses a JavaScript module of the program that calls grad (it would be bundled uncompiled)", async () => {
    const dir = mkdtempSync(join(tmp, "js-"));
    writeFileSync(join(dir, "plain.js"), 'import { grad } from "adc";\nexport const d = grad((x) => x * x);\n');
    const main = join(dir, "main.ts");
    writeFileSync(main, 'import { d } from "./plain.js";\nexport const v = d(1);\n');
    const err = await bundleWith(main).catch((e: { errors: { text: string; location: { line: number; column: number } }[] }) => e);
    expect("errors" in err).toBe(true);
    const first = (err as { errors: { text: string; location: { line: number; column: number } }[] }).errors[0];
    expect(first.text).toMatch(/^ADC1008: this JavaScript file imports grad/);
    expect([first.location.line, first.location.column]).toEqual([1, 9]);
  });
});
