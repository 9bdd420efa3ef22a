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
});
