/**
 * The foundation issue's measurements, in one run: the cold time of `adc build examples/`
 * (a fresh process, as a user runs it), and the median time of grad(f) over the time of f for the
 * scalar example.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { compileAndLoad, fmtNs, machine, medians, table } from "./lib/harness.js";

const out = mkdtempSync(join(tmpdir(), "adc-bench-"));
const t0 = performance.now();
const r = spawnSync(process.execPath, ["dist/cli/main.js", "build", "examples", "--outdir", out], { encoding: "utf8" });
const buildMs = performance.now() - t0;
rmSync(out, { recursive: true, force: true });
if (r.status !== 0) throw new Error(r.stderr);

const m = await compileAndLoad("bench/scalar-src.ts");
let x = 1.5;
const next = () => (x = x === 1.5 ? 1.25 : 1.5);
const t = await medians([
  { name: "f", fn: () => m.f(next(), 2), batch: 2000 },
  { name: "grad(f)", fn: () => m.dfdx(next(), 2), batch: 2000 },
  { name: "grad(f, [0, 1])", fn: () => m.both(next(), 2), batch: 2000 },
  { name: "valueAndGrad(f, [0, 1])", fn: () => m.vg(next(), 2), batch: 2000 },
]);
const base = t.get("f")!;
console.log(`# adc scalar benchmark (${machine()})\n`);
console.log(`cold \`adc build examples/\` (new process, wall clock): ${buildMs.toFixed(0)} ms\n`);
console.log(table([["task", "median", "ratio to f"], ...[...t].map(([k, v]) => [k, fmtNs(v), (v / base).toFixed(2)])]));
