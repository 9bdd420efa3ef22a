/**
 * Source maps cover generated code: a throw inside a derivative, run with
 * `node --enable-source-maps`, names the user's file, line and column of the statement being
 * differentiated, through the CLI (`--sourcemap`) and through the esbuild plugin. The throw is
 * forced by the program itself: it replaces `Math.cos`, which only the reverse sweep calls (in
 * the adjoint of `Math.sin`), after the gradient's first call.
 */
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/index.js";
import { adc } from "../esbuild/plugin.js";
import { ALIASES } from "./helpers/load.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, ".vitest-tmp"), { recursive: true });
const tmp = mkdtempSync(join(root, ".vitest-tmp", "maps-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Line 6 is the statement whose adjoint restores x (x is overwritten in the loop).
const PROGRAM = `import { grad } from "adc";

export function f(x: number): number {
  let s = 0;
  for (let i = 0; i < 3; i++) {
    x = Math.sin(x) * 1.5;
    s += x;
  }
  return s;
}

const df = grad(f);
df(0.3);
Math.cos = () => {
  throw new Error("boom in the reverse sweep");
};
df(0.3);
`;

/** The first stack frame in the user's file, as "file:line:column". */
function userFrame(stderr: string, file: string): string | undefined {
  return stderr.split("\n").find((l) => l.includes(file) && /at f_grad|f_grad/.test(l)) ?? stderr.split("\n").find((l) => l.includes(`${file}:6:`));
}

describe("source maps of generated code", () => {
  it("map every generated line to the user statement it comes from", () => {
    const r = compile(PROGRAM, { fileName: "maps.ts" });
    const map = new TraceMap(r.map!.toString());
    const lines = r.code.split("\n");
    const gradStart = lines.findIndex((l) => l.startsWith("export function f_grad"));
    const gradEnd = lines.findIndex((l, k) => k > gradStart && l === "}");
    for (let k = gradStart; k <= gradEnd; k++) {
      if (lines[k].trim() === "") continue;
      const col = lines[k].length - lines[k].trimStart().length;
      const pos = originalPositionFor(map, { line: k + 1, column: col });
      expect(pos.source, `generated line ${k + 1}: ${lines[k]}`).toMatch(/maps\.ts$/);
      expect(pos.line).toBeGreaterThanOrEqual(3);
      expect(pos.line).toBeLessThanOrEqual(10);
    }
    // The restore of x (from the tape's float lane, kept in locals), and the adjoint it belongs
    // to, come from line 6.
    const restore = lines.findIndex((l) => /^\s*x = _tapeF\[_topF\];/.test(l));
    expect(restore).toBeGreaterThan(gradStart);
    expect(originalPositionFor(map, { line: restore + 1, column: lines[restore].indexOf("x") }).line).toBe(6);
    const cos = lines.findIndex((l) => l.includes("Math.cos(x)"));
    expect(originalPositionFor(map, { line: cos + 1, column: lines[cos].indexOf("x") }).line).toBe(6);
  });

  it("a throw in a derivative names the user's statement: the CLI with --sourcemap", () => {
    const dir = join(tmp, "cli");
    mkdirSync(dir, { recursive: true });
    const input = join(dir, "maps.ts");
    writeFileSync(input, PROGRAM);
    const out = join(dir, "out");
    const b = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), "build", input, "--outdir", out, "--sourcemap"], { cwd: root, encoding: "utf8" });
    expect(b.stderr).toBe("");
    const run = spawnSync(process.execPath, ["--enable-source-maps", join(out, "maps.js")], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toContain("boom in the reverse sweep");
    expect(run.stderr).toMatch(/maps\.ts:6:\d+/);
    expect(userFrame(run.stderr, "maps.ts")).toBeDefined();
  });

  it("a throw in a derivative names the user's statement: the esbuild plugin", async () => {
    const dir = join(tmp, "esbuild");
    mkdirSync(dir, { recursive: true });
    const input = join(dir, "maps.ts");
    writeFileSync(input, PROGRAM);
    const outfile = join(dir, "bundle.mjs");
    await build({ entryPoints: [input], bundle: true, format: "esm", platform: "node", outfile, sourcemap: "linked", alias: ALIASES, logLevel: "silent", plugins: [adc()] });
    expect(readFileSync(outfile, "utf8")).toContain("f_grad");
    const run = spawnSync(process.execPath, ["--enable-source-maps", outfile], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toContain("boom in the reverse sweep");
    expect(run.stderr).toMatch(/maps\.ts:6:\d+/);
  });
});

describe("source maps of code inlined from another module", () => {
  const LIB = "export type P = { w: number[]; b: number };\n\nexport function model(p: P, x: number): number {\n  const a = p.b * x;\n  const z = a + p.w[0] * x;\n  return Math.tanh(z);\n}\n";
  const APP = 'import { grad } from "adc";\nimport { model, type P } from "./lib";\n\nfunction loss(p: P, x: number): number {\n  let acc = 0;\n  for (let i = 0; i < 3; i++) acc += model(p, x + i) ** 2;\n  return acc;\n}\n\nconst d = grad(loss);\nd({ b: 0.1 } as unknown as P, 1);\n';

  it("a throw inside the inlined helper names the helper's file and statement (the CLI and the esbuild plugin)", async () => {
    const dir = join(tmp, "inlined");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "lib.ts"), LIB);
    writeFileSync(join(dir, "app.ts"), APP);
    const out = join(dir, "out");
    const b = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), "build", join(dir, "app.ts"), "--outdir", out, "--sourcemap"], { cwd: root, encoding: "utf8" });
    expect(b.stderr).toBe("");
    // The helper is inlined: app's gradient holds its statements, lib.ts's output has no derivative.
    expect(readFileSync(join(out, "app.js"), "utf8")).toMatch(/z_model = /);
    const run = spawnSync(process.execPath, ["--enable-source-maps", join(out, "app.js")], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toContain("Cannot read properties of undefined");
    expect(run.stderr).toMatch(/at loss_grad\w* \(.*lib\.ts:5:\d+\)/);
    const outfile = join(dir, "bundle.mjs");
    await build({ entryPoints: [join(dir, "app.ts")], bundle: true, format: "esm", platform: "node", outfile, sourcemap: "linked", alias: ALIASES, logLevel: "silent", plugins: [adc()] });
    const run2 = spawnSync(process.execPath, ["--enable-source-maps", outfile], { cwd: root, encoding: "utf8" });
    expect(run2.stderr).toMatch(/at loss_grad\w* \(.*lib\.ts:5:\d+\)/);
  });
});
