/**
 * Issue 13's measurements: the cost of second derivatives against the gradient, for Rosenbrock's
 * function of n inputs (medians; ratios within this run). The HVP is checked against the
 * hand-written one before timing.
 */
import { compileAndLoad, fmtNs, machine, medians, table } from "./lib/harness.js";

const m = await compileAndLoad("bench/higher-src.ts");
const n = Number(process.env.N ?? 100);
const x = Float64Array.from({ length: n }, (_, i) => 0.5 + 0.01 * i);
const v = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
const a = m.hvp(x, v) as Float64Array;
const b = m.hvpByHand(x, v) as Float64Array;
if (a.some((y, i) => Math.abs(y - b[i]) > 1e-9 * Math.max(1, Math.abs(b[i])))) throw new Error("hvp disagrees with the hand-written one");

const t = await medians([
  { name: "f", fn: () => m.rosen(x), batch: 500 },
  { name: "grad(f)", fn: () => m.gradRosen(x), batch: 200 },
  { name: "hvp by hand", fn: () => m.hvpByHand(x, v), batch: 200 },
  { name: "jvp(grad(f)) (hvp)", fn: () => m.hvp(x, v), batch: 200 },
  { name: "hessian(f)", fn: () => m.hessRosen(x), batch: 2 },
]);
const g = t.get("grad(f)")!;
console.log(`# second-order benchmark, Rosenbrock n = ${n} (${machine()})\n`);
console.log(table([["task", "median", "ratio to grad(f)"], ...[...t].map(([k, v]) => [k, fmtNs(v), (v / g).toFixed(2)])]));
console.log(`\nhvp / hand hvp: ${(t.get("jvp(grad(f)) (hvp)")! / t.get("hvp by hand")!).toFixed(2)}; hessian / (n * grad): ${(t.get("hessian(f)")! / (n * g)).toFixed(2)}`);
