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
});
