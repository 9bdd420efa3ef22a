/**
 * What the esbuild plugin adds to a build that does not use adc (issue: "the esbuild plugin adds
 * < 5 ms to a build of a file that does not import adc"), in one run: esbuild with and without
 * the plugin on the same small program, interleaved, medians of wall-clock times. Both a cold
 * process (node started for one build, as a CLI build runs) and repeated builds in one process
 * (watch mode, a dev server). A program that uses adc is timed too, for scale. Uses dist/
 * (`npm run build` first).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { adc } from "../dist/esbuild/plugin.js";
import { ALIASES } from "../test/helpers/load.js";
import { machine, table } from "./lib/harness.js";

const rounds = Number(process.env.ROUNDS ?? 9);
const dir = mkdtempSync(join(tmpdir(), "adc-plugin-bench-"));
mkdirSync(join(dir, "lib"));
writeFileSync(join(dir, "plain.ts"), `import { norm } from "./lib/norm.ts";\nconst xs: number[] = Array.from({ length: 8 }, (_, i) => i);\nconsole.log(norm(xs));\n`);
writeFileSync(join(dir, "lib/norm.ts"), `export function norm(xs: readonly number[]): number {\n  let s = 0;\n  for (const x of xs) s += x * x;\n  return Math.sqrt(s);\n}\n`);
writeFileSync(join(dir, "uses.ts"), `import { grad } from "adc";\nimport { norm } from "./lib/norm.ts";\nconsole.log(grad(norm)([3, 4]));\n`);

const plugin = pathToFileURL(resolve("dist/esbuild/plugin.js")).href;
const script = join(dir, "one-build.mjs");
writeFileSync(
  script,
  `import { build } from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve("esbuild")).href)};\nimport { adc } from ${JSON.stringify(plugin)};\n` +
    `const t0 = performance.now();\n` +
    `await build({ entryPoints: [process.argv[2]], bundle: true, write: false, format: "esm", platform: "node", logLevel: "silent", plugins: process.argv[3] === "with" ? [adc()] : [], alias: ${JSON.stringify(ALIASES)} });\n` +
    `console.log(performance.now() - t0);\n`,
);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** Cold: a fresh node per build; the time is the build's, measured inside the process (plugin import included). */
function cold(entry: string, withPlugin: boolean): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [script, join(dir, entry), withPlugin ? "with" : "without"], { encoding: "utf8" });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(r.stderr);
  return wall;
}

async function warm(entry: string, withPlugin: boolean): Promise<number> {
  const t0 = performance.now();
  await build({ entryPoints: [join(dir, entry)], bundle: true, write: false, format: "esm", platform: "node", logLevel: "silent", plugins: withPlugin ? [adc()] : [], alias: ALIASES });
  return performance.now() - t0;
}

const cases = [
  ["plain.ts", false],
  ["plain.ts", true],
  ["uses.ts", true],
] as const;
const coldT = new Map<string, number[]>();
const warmT = new Map<string, number[]>();
const key = (e: string, w: boolean) => `${e} ${w ? "with" : "without"} plugin`;
for (const [e, w] of cases) await warm(e, w); // first builds load esbuild's service and the compiler
for (let r = 0; r < rounds; r++)
  for (let i = 0; i < cases.length; i++) {
    const [e, w] = cases[(i + r) % cases.length];
    (coldT.get(key(e, w)) ?? coldT.set(key(e, w), []).get(key(e, w))!).push(cold(e, w));
    for (let k = 0; k < 5; k++) (warmT.get(key(e, w)) ?? warmT.set(key(e, w), []).get(key(e, w))!).push(await warm(e, w));
  }
rmSync(dir, { recursive: true, force: true });

console.log(`# esbuild plugin overhead (${machine()}; ${rounds} interleaved rounds)\n`);
const base = { cold: median(coldT.get(key("plain.ts", false))!), warm: median(warmT.get(key("plain.ts", false))!) };
const rows = [["build", "cold process (ms)", "added (ms)", "in one process (ms)", "added (ms)"]];
for (const [e, w] of cases) {
  const c = median(coldT.get(key(e, w))!);
  const h = median(warmT.get(key(e, w))!);
  rows.push([key(e, w), c.toFixed(1), (c - base.cold).toFixed(1), h.toFixed(2), (h - base.warm).toFixed(2)]);
}
console.log(table(rows));
