/**
 * `adc check`, run as a user runs it (`node dist/cli/main.js`, built by `npm test`'s pretest
 * step): how it finds its inputs and the tsconfig, and how it reports tags it cannot run.
 * test/cli.test.ts has the table and the module's own exceptions.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli/main.js");
// Inside the package, so `import "adc"` resolves by self-reference.
const work = join(root, ".vitest-tmp");
mkdirSync(work, { recursive: true });
const tmp = mkdtempSync(join(work, "cli-check-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function adc(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Writes files under a new folder of tmp; returns the folder. */
function project(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("adc check", () => {
  it("a missing input is a usage error (exit 2, named); a folder's TypeScript files are checked, as build gathers them", () => {
    const missing = adc(["check", join(tmp, "no-such.ts")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(`adc: no such file or folder: ${join(tmp, "no-such.ts")}\n`);
    const dir = project("folder", {
      "a.ts": "/** @checkGrads [0.5] */\nexport function sq(x: number): number { return x * x; }\n",
      "sub/b.ts": "/** @checkGrads [0.25] */\nexport const s = (x: number) => Math.sin(x);\n",
      "sub/notes.txt": "not TypeScript\n",
    });
    const r = adc(["check", dir]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter((l) => / ok$/.test(l)).map((l) => l.split(/\s{2,}/)[0])).toEqual(["sq", "sq", "s", "s"]);
    expect(r.out).toMatch(/\n2 passed, 0 failed\n$/);
  });

  it("imports resolve through the tsconfig's paths and baseUrl as for adc build: the nearest tsconfig, or -p's", () => {
    const paths = (file: string) => ({
      [file]: JSON.stringify({ compilerOptions: { strict: true, baseUrl: ".", paths: { "@lib/*": ["src/lib/*"] } }, include: ["src"] }),
      "src/lib/act.ts": "export function gelu(x: number): number {\n  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));\n}\n",
      "src/app/chk.ts": 'import { gelu } from "@lib/act";\n/** @checkGrads [0.3] */\nexport function h(x: number): number { return gelu(x) * Math.cos(x); }\n',
    });
    const nearest = project("paths", paths("tsconfig.json"));
    const r = adc(["check", join(nearest, "src/app/chk.ts")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\n1 passed, 0 failed\n$/);
    // A tsconfig the search would not find, named with -p (a file, or the project's folder), also with no inputs named.
    const named = project("paths-p", paths("tsconfig.check.json"));
    for (const args of [["-p", join(named, "tsconfig.check.json"), join(named, "src/app/chk.ts")], ["-p", join(named, "tsconfig.check.json")]]) {
      const p = adc(["check", ...args]);
      expect(p.err).toBe("");
      expect(p.code).toBe(0);
      expect(p.out).toMatch(/^h +\[0\.3\] +rev .* ok$/m);
    }
    // As for build, a tsconfig that -p names must exist.
    const none = adc(["check", "-p", join(named, "nope.json"), join(named, "src/app/chk.ts")]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/cannot find the tsconfig/);
  });

  it("a tag that does not parse, or that the compiler refuses, is an error at its place in the file; the other tags and files are still checked (exit 1)", () => {
    const dir = project("tags", {
      "t1.ts": "/** @checkGrads [0.3, */\nexport function bad(x: number): number { return x * x; }\n",
      "t2.ts": [
        "const xs = [0.5];",
        "/**",
        " * @checkGrads [0.5]",
        " * @checkGrads [0.3, ] , {atol: }",
        " */",
        "export function f(x: number): number { return x * x; }",
        "/** @checkGrads",
        " *   [0.5,",
        " *    ] ] */",
        "export const g = (x: number) => Math.sin(x);",
        "/** @checkGrads xs */",
        "export const h = (x: number) => Math.cos(x);",
        "/** @checkGrads [0.25] */",
        "export const k = (x: number) => Math.cos(x);",
      ].join("\n") + "\n",
      "t3.ts": "/** @checkGrads [1.5] */\nexport const s = (x: number) => Math.sin(x) * x;\n",
    });
    const r = adc(["check", "t1.ts", "t2.ts", "t3.ts"], dir);
    expect(r.code).toBe(1);
    expect(r.err.split("\n").filter(Boolean)).toEqual([
      "t1.ts(1,22): error TS1137: Expression or comma expected. (in a @checkGrads tag)",
      "t2.ts(4,33): error TS1109: Expression expected. (in a @checkGrads tag)",
      "t2.ts(9,9): error TS1005: ',' expected. (in a @checkGrads tag)",
      "t2.ts(11,17): error ADC1020: checkGrads needs f's arguments written as a list - checkGrads(f, [x, y]) (in a @checkGrads tag)",
    ]);
    const rows = r.out.split("\n").filter((l) => / (ok|FAIL)$/.test(l)).map((l) => l.split(/\s{2,}/).filter((c) => !/e-?\d+$/.test(c)).join(" "));
    expect(rows).toEqual(["bad [0.3, FAIL", "f [0.5] fwd ok", "f [0.5] rev ok", "f [0.3, ] , {atol: } FAIL", "g [0.5, ] ] FAIL", "h xs FAIL", "k [0.25] fwd ok", "k [0.25] rev ok", "s [1.5] fwd ok", "s [1.5] rev ok"]);
    expect(r.out).toContain("\nt2.ts(8,6): g: TS1005: ',' expected.\n");
    expect(r.out).toMatch(/\n3 passed, 4 failed\n$/);
  });

  it("a tag whose function calls something the check cannot use (forward mode through a customVjp) fails at the tag, naming where and what to do; the other tags still run", () => {
    const dir = project("reached", {
      "c.ts": [
        'import { customVjp } from "adc";',
        "/** @checkGrads [0.5] */",
        "export function good(x: number): number { return Math.sin(x) * x; }",
        "export const sq = customVjp(",
        "  (x: number) => x * x,",
        "  (x: number) => [x * x, x] as const,",
        "  (x: number, g: number) => [2 * x * g] as [number],",
        ");",
        "/** @checkGrads [0.7] */",
        "export function usesSq(x: number): number { return sq(x) + x; }",
        '/** @checkGrads [0.7], { modes: ["rev"] } */',
        "export function usesSqRev(x: number): number { return sq(x) + x; }",
      ].join("\n") + "\n",
    });
    const r = adc(["check", "c.ts"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`c.ts(9,17): error ADC1026: 'sq' has a customVjp rule, which gives no forward-mode derivative (jvp, jacfwd, second derivatives), as in JAX (at c.ts(4,14)) - check reverse mode only: add { modes: ["rev"] } to the tag (in a @checkGrads tag)`);
    const rows = r.out.split("\n").filter((l) => / (ok|FAIL)$/.test(l)).map((l) => l.split(/\s{2,}/).filter((c) => !/e-?\d+$/.test(c)).join(" "));
    expect(rows).toEqual(["good [0.5] fwd ok", "good [0.5] rev ok", "usesSq [0.7] FAIL", 'usesSqRev [0.7], { modes: ["rev"] } rev ok']);
  });

  it("a tag whose argument has no derivative to check (a string) fails naming the argument, the function and the tag's place", () => {
    const dir = project("string-arg", { "t.ts": '\n/** @checkGrads ["a"] */\nexport function strArg(x: number): number { return x * x; }\n' });
    const r = adc(["check", "t.ts"], dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('\nt.ts(2,17): strArg: checkGrads: argument 0 of strArg is a string ("a"), not a number, a number array, a Float64Array or an NDArray');
    expect(r.out).not.toMatch(/NaN/);
  });
});
