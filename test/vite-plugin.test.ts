/**
 * The Vite (and Rollup) plugin, used as a user uses it: a real `vite build` of a small app whose
 * HTML entry loads a module that differentiates through a function of another module; the
 * bundle runs and prints the derivatives; its source map leads back to the user's files; adc's
 * diagnostics fail the build with a location.
 */
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rolldown } from "rolldown";
import { rollup } from "rollup";
import esbuild from "rollup-plugin-esbuild";
import { build, createServer } from "vite";
import { afterAll, describe, expect, it } from "vitest";
import { adc } from "../vite/plugin.js";
import { ALIASES } from "./helpers/load.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, ".vitest-tmp"), { recursive: true });
const tmp = mkdtempSync(join(root, ".vitest-tmp", "vite-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function app(name: string, main: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "index.html"), '<!doctype html>\n<html><body><script type="module" src="/src/main.ts"></script></body></html>\n');
  writeFileSync(join(dir, "src", "lib.ts"), "export function softplus(x: number): number {\n  return Math.log(1 + Math.exp(x));\n}\n");
  writeFileSync(join(dir, "src", "main.ts"), main);
  return dir;
}

// Exact names: Vite's object form of alias matches prefixes ("adc" would take "adc/runtime").
const alias = Object.entries(ALIASES).map(([name, path]) => ({ find: new RegExp(`^${name}$`), replacement: path }));

async function viteBuild(dir: string) {
  return build({ root: dir, logLevel: "silent", configFile: false, resolve: { alias }, plugins: [adc()], build: { outDir: join(dir, "dist"), sourcemap: true, minify: false, modulePreload: false } });
}

describe("adc/vite", () => {
  it("builds an app whose HTML entry differentiates through another module; the bundle runs; the map leads back", async () => {
    const main = [
      'import { grad, hessian } from "adc";',
      'import { softplus } from "./lib";',
      "const f = (x: number, y: number): number => softplus(x * y) + Math.sin(x);",
      "const df = grad(f, [0, 1]);",
      "(globalThis as any).adcViteResult = [df(0.5, 2), hessian(softplus)(0.3)];",
    ].join("\n");
    const dir = app("ok", main + "\n");
    await viteBuild(dir);
    const assets = join(dir, "dist", "assets");
    const js = readdirSync(assets).find((f) => f.endsWith(".js"))!;
    await import(pathToFileURL(join(assets, js)).href);
    const [[gx, gy], h] = (globalThis as any).adcViteResult;
    const s = (z: number) => 1 / (1 + Math.exp(-z));
    expect(gx).toBeCloseTo(2 * s(1) + Math.cos(0.5), 12);
    expect(gy).toBeCloseTo(0.5 * s(1), 12);
    expect(h).toBeCloseTo(s(0.3) * (1 - s(0.3)), 12);
    // The derivatives of softplus that hessian asks for live in lib.ts's output (grad inlines
    // softplus into f's gradient instead); their lines map to lib.ts.
    const code = readFileSync(join(assets, js), "utf8");
    const map = new TraceMap(readFileSync(join(assets, js + ".map"), "utf8"));
    const lines = code.split("\n");
    const fwd = lines.findIndex((l) => /function softplus_\w+\(/.test(l));
    const line = lines.findIndex((l, k) => k > fwd && l.includes("Math.exp("));
    expect(fwd).toBeGreaterThanOrEqual(0);
    expect(line).toBeGreaterThanOrEqual(0);
    const pos = originalPositionFor(map, { line: line + 1, column: lines[line].indexOf("Math.exp") });
    expect(pos.source).toMatch(/src\/lib\.ts$/);
    expect(pos.line).toBe(2);
  });

  it("dev server: editing a helper that is inlined into another module's derivative recompiles that module", async () => {
    const main = 'import { grad } from "adc";\nimport { softplus } from "./lib";\nexport const df = grad((x: number) => softplus(x) * 2);\n';
    const dir = app("dev", main);
    const server = await createServer({ root: dir, logLevel: "silent", configFile: false, resolve: { alias }, plugins: [adc()], server: { port: 0, ws: false } });
    try {
      await server.pluginContainer.buildStart({});
      const s = (z: number) => 1 / (1 + Math.exp(-z));
      expect((await server.ssrLoadModule("/src/main.ts")).df(0.5)).toBeCloseTo(2 * s(0.5), 12);
      const lib = join(dir, "src", "lib.ts");
      writeFileSync(lib, "export function softplus(x: number): number {\n  return x * x * x;\n}\n");
      server.watcher.emit("change", lib);
      // The recompile runs in the hot-update hook; wait for the new derivative (3 x^2 * 2).
      let got = NaN;
      for (let k = 0; k < 100 && !(Math.abs(got - 1.5) < 1e-12); k++) {
        await new Promise((r) => setTimeout(r, 50));
        got = (await server.ssrLoadModule("/src/main.ts")).df(0.5);
      }
      expect(got).toBeCloseTo(1.5, 12);
    } finally {
      await server.close();
    }
  });

  it("fails the build with adc's diagnostic and its location", async () => {
    const dir = app("bad", 'import { grad } from "adc";\nconst f = (x: number) => Math.random() * x;\nexport const g = grad(f);\n');
    const err = await viteBuild(dir).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/main\.ts\(2,26\): error ADC1003: Math\.random\(\)/);
  });

  it("the same plugin in Rolldown (Rollup's plugin API): a TypeScript entry bundles and runs", async () => {
    const dir = app("rolldown", 'import { grad } from "adc";\nimport { softplus } from "./lib";\nexport const d = grad((x: number) => softplus(2 * x));\n');
    const bundle = await rolldown({ input: join(dir, "src", "main.ts"), plugins: [adc()], resolve: { alias: ALIASES }, logLevel: "silent" });
    const out = join(dir, "rolldown-out.mjs");
    await bundle.write({ file: out, format: "es" });
    const m = await import(pathToFileURL(out).href);
    expect(m.d(0.25)).toBeCloseTo(2 / (1 + Math.exp(-0.5)), 14);
  });

  it("in Rollup, followed by a plugin that strips the types: the bundle runs", async () => {
    const dir = app("rollup", 'import { grad } from "adc";\nimport { softplus } from "./lib";\nexport const d = grad((x: number) => softplus(x * x));\n');
    const resolveAdc = { name: "adc-alias", resolveId: (id: string) => (id in ALIASES ? ALIASES[id as keyof typeof ALIASES] : null) };
    const bundle = await rollup({ input: join(dir, "src", "main.ts"), plugins: [resolveAdc, adc(), esbuild({ target: "es2022" })], logLevel: "silent" });
    const out = join(dir, "rollup-out.mjs");
    await bundle.write({ file: out, format: "es" });
    const m = await import(pathToFileURL(out).href);
    expect(m.d(0.5)).toBeCloseTo((2 * 0.5) / (1 + Math.exp(-0.25)), 14);
  });
});
