/**
 * The package as a user gets it: `npm pack`, installed into a new project outside the repository,
 * then a program built with the CLI, with esbuild and with Vite, run, and its gradient checked.
 * The build tools (optional peer dependencies) come from this checkout's node_modules as folder
 * installs and npm runs offline, so the test needs no network; adc itself is the packed tarball,
 * so its files, exports, types and bin are what a user installs.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "adc-package-"));
const app = join(work, "app");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd: string): string => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const node = (args: string[]): string => execFileSync(process.execPath, args, { cwd: app, encoding: "utf8" });

// d/dw sum(w * w * x) with x = [1, 2, 3] at w = [0.5, -1, 2]: 2 w x
const program = [
  'import { grad, np, NDArray } from "adc";',
  "const x = np.array([1, 2, 3]);",
  "const loss = (w: NDArray) => np.sum(np.mul(np.mul(w, w), x)).item();",
  "const sq = (t: number) => t * t * t;",
  "console.log(JSON.stringify([grad(loss)(np.array([0.5, -1, 2])).toArray(), grad(sq)(2)]));",
].join("\n");
const expected = JSON.stringify([[1, -4, 12], 12]) + "\n";

describe("the packed package, installed", () => {
  beforeAll(() => {
    const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], root))[0].filename as string;
    execFileSync("mkdir", [app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "user-app", version: "1.0.0", type: "module", private: true }));
    const tools = ["@jridgewell/sourcemap-codec", "ts-morph", "esbuild", "chokidar", "vite"].map((p) => join(root, "node_modules", p));
    npm(["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", join(work, packed), ...tools], app);
    writeFileSync(join(app, "main.ts"), program + "\n");
  }, 120_000);

  it("adc build (the package's bin) writes a program that runs with the right gradient", () => {
    execFileSync(join(app, "node_modules", ".bin", "adc"), ["build", "main.ts", "--outdir", "out"], { cwd: app, encoding: "utf8" });
    expect(node(["out/main.js"])).toBe(expected);
  });

  it("the esbuild plugin (adc/esbuild) bundles it", () => {
    writeFileSync(join(app, "build.mjs"), 'import { build } from "esbuild";\nimport adc from "adc/esbuild";\nawait build({ entryPoints: ["main.ts"], bundle: true, format: "esm", platform: "node", outfile: "esb/main.js", plugins: [adc()] });\n');
    node(["build.mjs"]);
    expect(node(["esb/main.js"])).toBe(expected);
  });

  it("the Vite plugin (adc/vite) builds it", () => {
    writeFileSync(join(app, "vite.config.mjs"), 'import adc from "adc/vite";\nexport default { plugins: [adc()], logLevel: "silent", build: { outDir: "vite-out", minify: false, lib: { entry: "main.ts", formats: ["es"], fileName: "main" } } };\n');
    execFileSync(join(app, "node_modules", ".bin", "vite"), ["build"], { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const out = readdirSync(join(app, "vite-out")).find((f) => f.endsWith(".js"))!;
    expect(node([join("vite-out", out)])).toBe(expected);
  });
});
