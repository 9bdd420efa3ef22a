/**
 * The command line, run as a user runs it: `node dist/cli/main.js` (built by `npm test`'s
 * pretest step). Exit codes, help, diagnostics, that nothing is written on error, that inputs
 * are never overwritten, and that the output runs.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/main.js");
// Outputs go inside the package, so `import "adc/runtime"` resolves by self-reference.
const work = join(root, ".vitest-tmp");
mkdirSync(work, { recursive: true });
const tmp = mkdtempSync(join(work, "cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function adc(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * `adc` run as a watcher in `cwd`: its output so far, and `until`, which waits for what a step
 * expects (a watcher may report one write as two changes), failing after 20 s with the output.
 */
function watching(args: readonly string[], cwd: string) {
  const child = spawn(process.execPath, [cli, ...args], { cwd });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const log = (): string => out;
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let waited = 0; !ok(); waited += 100) {
      if (waited > 20000) throw new Error(`${what}: not seen after 20 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, until, log };
}

describe("adc command line", () => {
  it("prints help and version, exit 0", () => {
    const h = adc(["--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toContain("Usage: adc build");
    const v = adc(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
  });

  it("exits 2 on usage errors", () => {
    expect(adc([]).code).toBe(2);
    expect(adc(["frobnicate"]).code).toBe(2);
    expect(adc(["build", "examples/scalar.ts"]).code).toBe(2); // no --outdir
    expect(adc(["build", "--outdir", tmp]).code).toBe(2); // no inputs
    expect(adc(["build", "examples/scalar.ts", "--outdir", tmp, "--emit", "wasm"]).code).toBe(2);
    expect(adc(["build", "examples/scalar.ts", "--outdir", tmp, "--nope"]).code).toBe(2);
    expect(adc(["build", "no/such/file.ts", "--outdir", tmp]).code).toBe(2);
  });

  it("builds an example whose output runs and prints the gradients", () => {
    const out = join(tmp, "js");
    const r = adc(["build", "examples/scalar.ts", "--outdir", out]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const js = join(out, "scalar.js");
    expect(existsSync(js)).toBe(true);
    const printed = execFileSync(process.execPath, [js], { encoding: "utf8" });
    // df/dx and df/dy of the example at (1.5, 2), checked against finite differences in test/api.test.ts.
    expect(printed).toMatch(/df\/dx, df\/dy {10}= 4\.0098491\d* 3\.38692562\d*\n/);
  });

  it("--emit ts writes the transformed TypeScript; --sourcemap writes maps", () => {
    const out = join(tmp, "ts");
    expect(adc(["build", "examples/scalar.ts", "--outdir", out, "--emit", "ts", "--sourcemap"]).code).toBe(0);
    const ts = readFileSync(join(out, "scalar.ts"), "utf8");
    expect(ts).toContain("export function f_grad_x(x: number, y: number): number");
    expect(existsSync(join(out, "scalar.ts.map"))).toBe(true);
  });

  it("writes a barrel module whose exports the output no longer uses (--emit ts keeps its import)", () => {
    const src = join(tmp, "barrel-src");
    mkdirSync(join(src, "lib"), { recursive: true });
    writeFileSync(join(src, "lib", "core.ts"), "export function sq(x: number): number { return x * x; }\n");
    writeFileSync(join(src, "lib", "index.ts"), 'export * from "./core.js";\n');
    writeFileSync(join(src, "main.ts"), 'import { grad } from "adc";\nimport * as lib from "./lib/index.js";\nexport const d = grad(lib.sq)(3);\n');
    const out = join(tmp, "barrel-out");
    expect(adc(["build", join(src, "main.ts"), "--outdir", out, "--emit", "ts"]).code).toBe(0);
    expect(readFileSync(join(out, "main.ts"), "utf8")).toContain('import * as lib from "./lib/index.js";');
    expect(existsSync(join(out, "lib", "index.ts"))).toBe(true);
    expect(existsSync(join(out, "lib", "core.ts"))).toBe(true);
  });

  it("--bundle writes one file that runs from any folder", () => {
    const out = join(tmp, "bundle");
    expect(adc(["build", "examples/scalar.ts", "--outdir", out, "--bundle"]).code).toBe(0);
    const elsewhere = mkdtempSync(join(tmpdir(), "adc-run-"));
    try {
      const printed = execFileSync(process.execPath, [join(out, "scalar.js")], { encoding: "utf8", cwd: elsewhere });
      expect(printed).toMatch(/df\/dx, df\/dy {10}= 4\.0098491\d* /);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("--bundle of a program of numbers carries no NDArray code (the package is free of side effects; the tape and cotangent check recognise NDArrays by a brand)", () => {
    const out = join(tmp, "bundle-size");
    expect(adc(["build", "examples/scalar.ts", "--outdir", out, "--bundle"]).code).toBe(0);
    const js = readFileSync(join(out, "scalar.js"), "utf8");
    expect(js).not.toContain("class NDArray");
    // 13.6 KB measured (101 KB before); the bound leaves room for the tape to grow.
    expect(js.length).toBeLessThan(30_000);
  });

  it("without the optional build tools installed, says what to install (exit 2)", () => {
    // A resolve hook plays an install without ts-morph (an app that depends on adc only).
    const hook = join(tmp, "no-ts-morph.mjs");
    writeFileSync(hook, 'export async function resolve(spec, ctx, next) {\n  if (spec === "ts-morph") throw Object.assign(new Error("Cannot find package \'ts-morph\' imported from adc"), { code: "ERR_MODULE_NOT_FOUND" });\n  return next(spec, ctx);\n}\n');
    const register = join(tmp, "register.mjs");
    writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
    const r = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, cli, "build", "examples/scalar.ts", "--outdir", join(tmp, "no-tools")], { cwd: root, encoding: "utf8" });
    expect(r.stderr).toContain("building needs ts-morph, which is not installed");
    expect(r.stderr).toContain("npm install --save-dev ts-morph esbuild chokidar");
    expect(r.status).toBe(2);
    expect(existsSync(join(tmp, "no-tools"))).toBe(false);
  });

  it("prints diagnostics like tsc, exits 1 and writes nothing", () => {
    const src = join(tmp, "bad");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "bad.ts"), 'import { grad } from "adc";\nfunction f(x: number): number {\n  return Math.random() * x;\n}\nexport const g = grad(f);\n');
    const out = join(tmp, "bad-out");
    const r = adc(["build", src, "--outdir", out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.ts\(3,10\): error ADC1003: Math\.random\(\) in a differentiated computation - /);
    expect(existsSync(out)).toBe(false);
    // --pretty (the default in a terminal): tsc's layout, the line underlined under the span.
    const pretty = adc(["build", src, "--outdir", out, "--pretty"]);
    expect(pretty.code).toBe(1);
    expect(pretty.err).toMatch(/bad\.ts:3:10 - error ADC1003: Math\.random\(\)[^\n]*\n\n3   return Math\.random\(\) \* x;\n {11}~{13}\n/);
  });

  it("never writes over an input file", () => {
    const src = join(tmp, "same");
    mkdirSync(src, { recursive: true });
    const file = join(src, "m.ts");
    const text = 'import { grad } from "adc";\nexport function f(x: number): number { return x * x; }\nexport const g = grad(f);\n';
    writeFileSync(file, text);
    const r = adc(["build", src, "--outdir", src, "--emit", "ts"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("refusing to write");
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("never writes over an input through a symlink, nor two inputs into one output, nor past a file where a folder goes, nor onto a folder; and then writes nothing", () => {
    const base = join(tmp, "safety");
    const src = join(base, "src");
    mkdirSync(join(src, "sub"), { recursive: true });
    const text = 'import { grad } from "adc";\nexport function f(x: number): number { return x * x; }\nexport const g = grad(f);\n';
    writeFileSync(join(src, "a.ts"), text);
    writeFileSync(join(src, "sub", "c.ts"), text);
    symlinkSync(src, join(base, "link"));
    const viaLink = adc(["build", src, "--outdir", join(base, "link"), "--emit", "ts"]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.err).toMatch(/refusing to write .*a\.ts: it is an input file/);
    expect(readFileSync(join(src, "a.ts"), "utf8")).toBe(text);

    const blocked = join(base, "out-blocked");
    mkdirSync(blocked);
    writeFileSync(join(blocked, "sub"), "not a folder");
    const r = adc(["build", src, "--outdir", blocked]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/sub is not a folder/);
    expect(readdirSync(blocked)).toEqual(["sub"]);

    // A folder where an output file goes: refused before a.js (which could be written) is.
    const occupied = join(base, "out-occupied");
    mkdirSync(join(occupied, "sub", "c.js"), { recursive: true });
    const o = adc(["build", src, "--outdir", occupied]);
    expect(o.code).toBe(2);
    expect(o.err).toMatch(/cannot write .*c\.js: a folder is there/);
    expect(readdirSync(occupied)).toEqual(["sub"]);

    writeFileSync(join(src, "a.tsx"), "export const z = 1;\n");
    const twice = adc(["build", src, "--outdir", join(base, "out-twice")]);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/a\.ts and .*a\.tsx would both be written to .*a\.js/);
    expect(existsSync(join(base, "out-twice"))).toBe(false);
  });

  it("writes every local module the inputs reach: helpers adc left alone, JSON with its import attribute, .mts/.cts/.tsx with tsc's extensions, nothing for .d.ts", () => {
    const src = join(tmp, "graph", "src");
    mkdirSync(join(src, "lib"), { recursive: true });
    writeFileSync(join(src, "lib", "helper.ts"), "export const scale = 3;\n");
    writeFileSync(join(src, "lib", "cube.mts"), "export function cube(x: number): number { return x * x * x; }\n");
    writeFileSync(join(src, "lib", "plain.mjs"), "export const two = 2;\n");
    writeFileSync(join(src, "lib", "types.d.ts"), "export interface Opts { k: number }\n");
    writeFileSync(join(src, "lib", "late.ts"), 'export const late = "late";\n');
    writeFileSync(join(src, "data.json"), '{ "k": 5 }\n');
    writeFileSync(join(src, "tool.cts"), 'import { grad } from "adc";\nconsole.log(grad((x: number) => x * x * x)(2));\n');
    writeFileSync(join(src, "view.tsx"), 'import { grad } from "adc";\nconsole.log(grad((x: number) => Math.sin(x))(0));\n');
    writeFileSync(
      join(src, "main.ts"),
      [
        'import { grad } from "adc";',
        'import { scale } from "./lib/helper";',
        'import { cube } from "./lib/cube.mjs";',
        'import { two } from "./lib/plain.mjs";',
        'import type { Opts } from "./lib/types";',
        'import data from "./data.json" with { type: "json" };',
        "const o: Opts = { k: data.k };",
        "const f = (x: number) => scale * two * cube(x) + o.k * x;",
        "console.log(grad(f)(2));",
        'import("./lib/late.js").then((m) => console.log(m.late));',
      ].join("\n") + "\n",
    );
    const out = join(tmp, "graph", "out");
    const r = adc(["build", join(src, "main.ts"), join(src, "tool.cts"), join(src, "view.tsx"), "--outdir", out]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const files = (dir: string, pre = ""): string[] => readdirSync(join(dir, pre), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(dir, join(pre, e.name)) : [join(pre, e.name)])).sort();
    expect(files(out)).toEqual(["data.json", "lib/cube.mjs", "lib/helper.js", "lib/late.js", "lib/plain.mjs", "main.js", "tool.cjs", "view.js"]);
    const main = readFileSync(join(out, "main.js"), "utf8");
    expect(main).toContain('from "./data.json" with { type: "json" }');
    expect(main).toContain('from "./lib/helper.js"');
    // d/dx (6 x^3 + 5 x) at 2 = 18 * 4 + 5
    expect(execFileSync(process.execPath, [join(out, "main.js")], { encoding: "utf8" })).toBe("77\nlate\n");
    expect(execFileSync(process.execPath, [join(out, "tool.cjs")], { encoding: "utf8" })).toBe("12\n");
    expect(execFileSync(process.execPath, [join(out, "view.js")], { encoding: "utf8" })).toBe("1\n");
  });

  it("a module reached only by import() is compiled; a JavaScript module calling grad is refused, not left to fail when it runs", () => {
    const dir = join(tmp, "dynamic");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "main.ts"), 'const m = await import("./late");\nconsole.log(m.dlate(2));\n');
    writeFileSync(join(dir, "late.ts"), 'import { grad } from "adc";\nexport const dlate = grad((x: number) => x * x * x);\n');
    const ok = adc(["build", join(dir, "main.ts"), "--outdir", join(dir, "out")]);
    expect(ok.err).toBe("");
    expect(execFileSync(process.execPath, [join(dir, "out", "main.js")], { encoding: "utf8" })).toBe("12\n");
    writeFileSync(join(dir, "plain.mjs"), 'import { grad } from "adc";\nexport const d = grad((x) => x * x);\n');
    writeFileSync(join(dir, "uses-js.ts"), 'import { d } from "./plain.mjs";\nconsole.log(d(1));\n');
    const bad = adc(["build", join(dir, "uses-js.ts"), "--outdir", join(dir, "out-js")]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/plain\.mjs\(1,10\): error ADC1008: this JavaScript file imports grad, which adc replaces at build time only in TypeScript files/);
    expect(existsSync(join(dir, "out-js"))).toBe(false);
  });

  it("esbuild's findings (a name declared twice, a package --bundle cannot find) are diagnostics at the user's line, exit 1", () => {
    const dir = join(tmp, "esbuild-findings");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "dup.ts"), 'import { grad } from "adc";\nexport function f(x: number) { return x; }\nexport function f(x: number) { return 2 * x; }\nexport const g = grad(f);\n');
    const dup = adc(["build", join(dir, "dup.ts"), "--outdir", join(dir, "out")]);
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/dup\.ts\(3,17\): error: (Multiple exports with the same name "f"|The symbol "f" has already been declared)/);
    expect(dup.err).not.toContain("internal error");
    writeFileSync(join(dir, "unres.ts"), 'import { grad } from "adc";\nimport { zz } from "not-a-package";\nexport const g = grad((x: number) => x * zz);\n');
    const unres = adc(["build", join(dir, "unres.ts"), "--outdir", join(dir, "out"), "--bundle"]);
    expect(unres.code).toBe(1);
    expect(unres.err).toMatch(/unres\.ts\(2,20\): error: Could not resolve "not-a-package"/);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("a .js output has the module format Node will give it: CommonJS under a package.json without \"type\": \"module\"", () => {
    const dir = join(tmp, "cjs-project");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "cjs-project", version: "1.0.0" }));
    writeFileSync(join(dir, "m.ts"), 'import { grad } from "adc";\nimport { k } from "./k";\nconsole.log(grad((x: number) => k * x * x * x)(2));\n');
    writeFileSync(join(dir, "k.ts"), "export const k = 2;\n");
    const r = adc(["build", join(dir, "m.ts"), "--outdir", join(dir, "out")]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "out", "m.js"), "utf8")).toContain('require("./k.js")');
    expect(execFileSync(process.execPath, [join(dir, "out", "m.js")], { encoding: "utf8" })).toBe("24\n");
  });

  it("-p tsconfig: paths resolve imports, outDir and rootDir place the output, its files are the inputs; the nearest tsconfig that includes an input applies without -p; a mapped typo is TS2307", () => {
    const proj = join(tmp, "proj");
    mkdirSync(join(proj, "src", "lib"), { recursive: true });
    mkdirSync(join(proj, "src", "app"), { recursive: true });
    writeFileSync(join(proj, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, outDir: "build", rootDir: "src", paths: { "@lib/*": ["./src/lib/*"] } }, include: ["src"] }));
    writeFileSync(join(proj, "src", "lib", "sq.ts"), "export function sq(x: number): number { return x * x; }\n");
    // (sq is also called outside the gradient, which inlines it: the import stays in the output.)
    const main = 'import { grad } from "adc";\nimport { sq } from "@lib/sq";\nconsole.log(sq(3), grad((x: number) => Math.sin(sq(x)))(0.5));\n';
    writeFileSync(join(proj, "src", "app", "main.ts"), main);
    const expected = `9 ${2 * 0.5 * Math.cos(0.25)}\n`;
    const r = adc(["build", "-p", proj]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(proj, "build", "app", "main.js"), "utf8")).toContain('from "../lib/sq.js"');
    expect(execFileSync(process.execPath, [join(proj, "build", "app", "main.js")], { encoding: "utf8" })).toBe(expected);
    rmSync(join(proj, "build"), { recursive: true });
    const near = adc(["build", "src/app/main.ts", "--outDir", "elsewhere"], proj);
    expect(near.code).toBe(0);
    expect(execFileSync(process.execPath, [join(proj, "elsewhere", "app", "main.js")], { encoding: "utf8" })).toBe(expected);
    writeFileSync(join(proj, "src", "app", "main.ts"), main.replace("@lib/sq", "@lib/sqq"));
    const typo = adc(["build", "-p", proj]);
    expect(typo.code).toBe(1);
    expect(typo.err).toContain("main.ts(2,20): error TS2307: Cannot find module '@lib/sqq'");
    expect(existsSync(join(proj, "build"))).toBe(false);
  });

  it("a file-system failure exits 2 with the path and no stack trace", () => {
    const src = join(tmp, "loop");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "a.ts"), "export const a = 1;\n");
    symlinkSync("loop-b", join(src, "loop-a"));
    symlinkSync("loop-a", join(src, "loop-b"));
    const r = adc(["build", src, "--outdir", join(tmp, "loop-out")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^adc: cannot read .*loop-a: ELOOP/);
    expect(r.err).not.toContain("    at ");
  });

  it("--watch rebuilds when an imported module changes: the new derivative, a new refusal reported, then the fix", async () => {
    const dir = join(tmp, "watch");
    mkdirSync(join(dir, "src"), { recursive: true });
    const lib = join(dir, "src", "lib.ts");
    writeFileSync(lib, "export function sq(x: number): number { return x * x; }\n");
    writeFileSync(join(dir, "src", "main.ts"), 'import { grad } from "adc";\nimport { sq } from "./lib";\nconsole.log(grad((x: number) => sq(x))(3));\n');
    const { child, until, log } = watching(["build", "src/main.ts", "--outdir", "out", "--watch"], dir);
    const run = (): string => {
      try {
        return execFileSync(process.execPath, [join(dir, "out", "main.js")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
      } catch {
        return "";
      }
    };
    try {
      await until("first build", () => run() === "6");
      writeFileSync(lib, "export function sq(x: number): number { return x * x * x; }\n");
      await until("rebuild with the new sq", () => run() === "27");
      const mark = log().length;
      writeFileSync(lib, "export function sq(x: number): number { return x * Math.random(); }\n");
      await until("the refusal", () => /lib\.ts\(1,52\): error ADC1003: Math\.random\(\)[^]*Build failed\. Watching/.test(log().slice(mark)));
      expect(run()).toBe("27"); // a failed build writes nothing
      writeFileSync(lib, "export function sq(x: number): number { return 2 * x; }\n");
      await until("rebuild after the fix", () => run() === "2");
      expect(log()).toMatch(/^\[[\d:]+\] Starting compilation in watch mode\.\.\./);
      // Deleted (the build fails: it cannot find it), then written again: still watched.
      const before = log().length;
      rmSync(lib);
      await until("the failed build", () => /Build failed\. Watching/.test(log().slice(before)));
      writeFileSync(lib, "export function sq(x: number): number { return 5 * x; }\n");
      await until("rebuild once the module is back", () => run() === "5");
    } finally {
      child.kill();
    }
  });

  it("--watch with -p: builds the tsconfig's files into its outDir, builds a file added to the project, and recovers when an imported module is deleted and written again", async () => {
    const dir = join(tmp, "watch-project");
    mkdirSync(join(dir, "src"), { recursive: true });
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, outDir: "dist", rootDir: "src" }, include: ["src"] }));
    const lib = join(dir, "src", "lib.ts");
    writeFileSync(lib, "export function sq(x: number): number { return x * x; }\n");
    writeFileSync(join(dir, "src", "main.ts"), 'import { grad } from "adc";\nimport { sq } from "./lib";\nconsole.log(grad((x: number) => sq(x))(3));\n');
    const { child, until, log } = watching(["build", "-p", ".", "--watch"], dir);
    const run = (file: string): string => {
      try {
        return execFileSync(process.execPath, [join(dir, "dist", file)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
      } catch {
        return "";
      }
    };
    try {
      await until("first build", () => run("main.js") === "6");
      writeFileSync(join(dir, "src", "extra.ts"), 'import { grad } from "adc";\nconsole.log(grad((x: number) => x * x * x)(2));\n');
      await until("the added file built", () => run("extra.js") === "12");
      rmSync(lib);
      await until("the failed build", () => /Build failed\. Watching/.test(log()));
      writeFileSync(lib, "export function sq(x: number): number { return x * x * x; }\n");
      await until("rebuild once the module is back", () => run("main.js") === "27");
    } finally {
      child.kill();
    }
  });

  it("adc check runs checkGrads on each function a @checkGrads tag marks, prints a table, exits 1 on a failure", () => {
    const dir = join(tmp, "check");
    mkdirSync(dir, { recursive: true });
    const good = [
      'import { np, NDArray } from "adc";',
      "const y0 = [1, 2, 3];",
      "/** @checkGrads [0.7, y0] */",
      "export function f(x: number, y: number[]): number {",
      "  let s = Math.sin(x);",
      "  for (let i = 0; i < y.length; i++) s += y[i] * y[i] * x;",
      "  return s;",
      "}",
      "/**",
      " * @checkGrads [np.array([0.3, -0.4])]",
      ' * @checkGrads [np.array([1, 2, 3])], { modes: ["rev"] }',
      " */",
      "export const h = (w: NDArray) => np.sum(np.tanh(np.mul(w, w)));",
      "export const unmarked = (x: number) => x;",
    ].join("\n");
    writeFileSync(join(dir, "good.ts"), good + "\n");
    const ok = adc(["check", join(dir, "good.ts")]);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    const rows = ok.out.split("\n").filter((l) => / ok$/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[0] + " " + l.split(/\s{2,}/)[2])).toEqual(["f fwd", "f rev", "h fwd", "h rev", "h rev"]);
    expect(ok.out).toMatch(/\n3 passed, 0 failed\n$/);
    writeFileSync(join(dir, "bad.ts"), 'import { stopGradient } from "adc";\n/** @checkGrads [2] */\nexport const hidden = (x: number) => stopGradient(x) * x;\n');
    const bad = adc(["check", join(dir, "bad.ts")]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/hidden: checkGrads: forward mode \(jvp\) of hidden disagrees/);
    expect(bad.out).toMatch(/\n0 passed, 1 failed\n$/);
  });

  it("adc check reads @checkGrads tags from every JSDoc block of a function, not only the last", () => {
    const dir = join(tmp, "check-blocks");
    mkdirSync(dir, { recursive: true });
    const text = [
      "/** @checkGrads [0.25] */",
      "/** Sine. */",
      "/** @checkGrads [2.5] */",
      "export function g(x: number): number { return Math.sin(x); }",
      "/** @checkGrads [1.5] */",
      '/** @checkGrads [-1], { modes: ["rev"] } */',
      "export const c = (x: number) => Math.cos(x) * x;",
    ].join("\n");
    writeFileSync(join(dir, "blocks.ts"), text + "\n");
    const r = adc(["check", join(dir, "blocks.ts")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const rows = r.out.split("\n").filter((l) => / ok$/.test(l)).map((l) => l.split(/\s{2,}/).slice(0, 3).join(" "));
    expect(rows).toEqual(["g [0.25] fwd", "g [0.25] rev", "g [2.5] fwd", "g [2.5] rev", "c [1.5] fwd", "c [1.5] rev", 'c [-1], { modes: ["rev"] } rev']);
    expect(r.out).toMatch(/\n4 passed, 0 failed\n$/);
  });

  it("adc check reports an exception of the module's own top-level code as the module's, exit 1, with its line", () => {
    const dir = join(tmp, "check-throws");
    mkdirSync(dir, { recursive: true });
    const thrower = join(dir, "thrower.ts");
    writeFileSync(thrower, ["/** @checkGrads [0.5] */", "export function f(x: number): number { return x * x; }", 'throw new Error("user error at top level");'].join("\n") + "\n");
    const r = adc(["check", thrower]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^adc: \S*thrower\.ts: the module threw while loading: Error: user error at top level\n/);
    expect(r.err).toMatch(/\n {4}at .*thrower\.ts:3:7\)?$/m); // the user's frame, through the source map
    expect(r.err).not.toMatch(/internal error|bug in adc|check\.mjs|node:internal/);
  });

  it("adc check reports a failing checkGrads call in the module's own top-level code as a failed gradient check, exit 1", () => {
    const dir = join(tmp, "check-throws");
    mkdirSync(dir, { recursive: true });
    const failing = join(dir, "failing.ts");
    writeFileSync(failing, ['import { checkGrads, stopGradient } from "adc";', "/** @checkGrads [2] */", "export const sq = (x: number) => x * x;", "const hidden = (x: number) => stopGradient(x) * x;", "checkGrads(hidden, [2]);"].join("\n") + "\n");
    const r = adc(["check", failing]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^adc: \S*failing\.ts: a gradient check in the module's top-level code failed: checkGrads: forward mode \(jvp\) of hidden disagrees/);
    expect(r.err).toMatch(/\n {4}at .*failing\.ts:5:1\)?$/m);
    expect(r.err).not.toMatch(/internal error|bug in adc|threw while loading|runtime.check/);
  });
});
