/**
 * The bundler plugins' text scan (compiler/reaches-adc.ts): a build reaching no module that uses
 * adc skips the compiler; anything the scan cannot be sure of compiles as before. And, through
 * esbuild, such a build does not even load TypeScript (a resolve hook makes ts-morph missing).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { mayNeedAdc } from "../compiler/reaches-adc.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, ".vitest-tmp"), { recursive: true });
const tmp = mkdtempSync(join(root, ".vitest-tmp", "reach-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes the files of one case into its own folder; returns the folder. */
function project(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

describe("mayNeedAdc", () => {
  it("is false for a program whose modules, followed through local imports, never use adc", () => {
    const d = project("plain", {
      "main.ts": `import { a } from "./lib/a.js";\nimport b from "./lib";\nimport * as path from "node:path";\nimport fs from "fs";\nconsole.log(a + b, path.sep, fs);\n`,
      "lib/a.ts": `export const a = 1;\nexport * from "./c.ts";\n`,
      "lib/c.ts": `export const c = 2;\n`,
      "lib/index.ts": `export default 3;\n`,
    });
    expect(mayNeedAdc([join(d, "main.ts")])).toBe(false);
  });

  it("is true as soon as a reachable module imports adc, adc/runtime, or carries @differentiable", () => {
    const deep = project("deep", {
      "main.ts": `import { a } from "./a.js";\nconsole.log(a);\n`,
      "a.ts": `export { b as a } from "./sub/b";\n`,
      "sub/b.ts": `import { grad } from 'adc';\nexport const b = grad((x: number) => x * x)(3);\n`,
    });
    expect(mayNeedAdc([join(deep, "main.ts")])).toBe(true);
    const rt = project("rt", { "main.ts": `const m = await import("adc/runtime");\nconsole.log(m);\n` });
    expect(mayNeedAdc([join(rt, "main.ts")])).toBe(true);
    const tagged = project("tagged", { "main.ts": `import "./t.mts";\n`, "t.mts": `/** @differentiable */\nexport function f(x: number) { return x; }\n` });
    expect(mayNeedAdc([join(tagged, "main.ts")])).toBe(true);
  });

  it("is true when an import is neither local, a builtin nor an installed package (a tsconfig paths alias)", () => {
    const d = project("alias", { "main.ts": `import { f } from "@lib/f";\nconsole.log(f);\n` });
    expect(mayNeedAdc([join(d, "main.ts")])).toBe(true);
    // A package installed above the file is not followed.
    const p = project("pkg", { "main.ts": `import { x } from "some-pkg/sub";\nconsole.log(x);\n`, "node_modules/some-pkg/package.json": `{"name":"some-pkg"}` });
    expect(mayNeedAdc([join(p, "main.ts")])).toBe(false);
  });

  it("follows cycles without looping, and is true for a file it cannot read", () => {
    const d = project("cycle", { "a.ts": `import "./b";\nexport const a = 1;\n`, "b.ts": `import "./a";\n` });
    expect(mayNeedAdc([join(d, "a.ts")])).toBe(false);
    expect(mayNeedAdc([join(d, "missing.ts")])).toBe(true);
  });
});

describe("the esbuild plugin on a build that does not use adc", () => {
  it("bundles without loading TypeScript; a build that uses adc does load it", () => {
    // A resolve hook makes ts-morph impossible to load: the plain build must still succeed.
    const hook = join(tmp, "no-ts-morph.mjs");
    writeFileSync(hook, 'export async function resolve(spec, ctx, next) {\n  if (spec === "ts-morph") throw new Error("ts-morph was loaded");\n  return next(spec, ctx);\n}\n');
    const register = join(tmp, "register.mjs");
    writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
    const d = project("esb", { "plain.ts": `const xs: number[] = [1, 2, 3];\nconsole.log(xs.map((x) => x * 2).join(","));\n`, "uses.ts": `import { grad } from "adc";\nconsole.log(grad((x: number) => x * x)(3));\n` });
    const script = join(tmp, "bundle.mjs");
    writeFileSync(
      script,
      `import { build } from "esbuild";\nimport { adc } from ${JSON.stringify(pathToFileURL(join(root, "dist/esbuild/plugin.js")).href)};\n` +
        `const r = await build({ entryPoints: [process.argv[2]], bundle: true, write: false, format: "esm", platform: "node", logLevel: "silent", plugins: [adc()] });\n` +
        `console.log(r.outputFiles[0].text.includes("x * 2") ? "bundled" : "missing");\n`,
    );
    const run = (entry: string) => spawnSync(process.execPath, ["--import", pathToFileURL(register).href, script, join(d, entry)], { cwd: root, encoding: "utf8" });
    const plain = run("plain.ts");
    expect(plain.stderr).toBe("");
    expect(plain.stdout.trim()).toBe("bundled");
    const uses = run("uses.ts");
    expect(uses.status).not.toBe(0);
    expect(uses.stderr).toContain("ts-morph was loaded");
  });
});
