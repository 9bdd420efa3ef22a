/**
 * Issue 13's measurements: the cost of second derivatives against the gradient, for the
 * chained (generalized) Rosenbrock function (medians; ratios within this run).
 * - n = N (default 100; `N=100000 npm run bench:higher` for the issue's size): grad, a
 *   Hessian-vector product by jvp(grad(f)) and a hand-written one (checked equal before timing),
 *   and the dense Hessian when n <= 1000.
 * - n = 20: the dense Hessian against the analytic one (exact to 1e-12), and its time.
 */
import { compileAndLoad, fmtNs, machine, medians, table } from "./lib/harness.js";

const m = await compileAndLoad("bench/higher-src.ts");
const n = Number(process.env.N ?? 100);
const x = Float64Array.from({ length: n }, (_, i) => 0.5 + (0.01 * i) % 1);
const v = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
const a = m.hvp(x, v) as Float64Array;
const b = m.hvpByHand(x, v) as Float64Array;
if (a.some((y, i) => Math.abs(y - b[i]) > 1e-9 * Math.max(1, Math.abs(b[i])))) throw new Error("hvp disagrees with the hand-written one");

// The analytic Hessian of Rosenbrock's function, column by column from the hand-written product.
const small = Float64Array.from({ length: 20 }, (_, i) => 0.3 + 0.05 * i);
const H = m.hessRosen(small) as Float64Array[];
let worst = 0;
for (let j = 0; j < 20; j++) {
  const e = new Float64Array(20);
  e[j] = 1;
  const col = m.hvpByHand(small, e) as Float64Array;
  for (let i = 0; i < 20; i++) worst = Math.max(worst, Math.abs(H[i][j] - col[i]) / Math.max(1, Math.abs(col[i])));
}
if (!(worst <= 1e-12)) throw new Error(`hessian(rosen) at n = 20 is off the analytic Hessian by ${worst}`);

const batch = Math.max(1, Math.round(20000 / n));
const t = await medians([
  { name: "f", fn: () => m.rosen(x), batch: batch * 5 },
  { name: "grad(f)", fn: () => m.gradRosen(x), batch },
  { name: "hvp by hand", fn: () => m.hvpByHand(x, v), batch },
  { name: "jvp(grad(f)) (hvp)", fn: () => m.hvp(x, v), batch },
  ...(n <= 1000 ? [{ name: "hessian(f)", fn: () => m.hessRosen(x), batch: 1 }] : []),
  { name: "hessian(f), n = 20", fn: () => m.hessRosen(small), batch: 20 },
  { name: "grad(f), n = 20", fn: () => m.gradRosen(small), batch: 2000 },
]);
const g = t.get("grad(f)")!;
console.log(`# second-order benchmark, chained Rosenbrock n = ${n} (${machine()})\n`);
console.log(table([["task", "median", "ratio to grad(f)"], ...[...t].map(([k, v]) => [k, fmtNs(v), (v / g).toFixed(2)])]));
console.log(`\nhvp / grad: ${(t.get("jvp(grad(f)) (hvp)")! / g).toFixed(2)}; hvp / hand hvp: ${(t.get("jvp(grad(f)) (hvp)")! / t.get("hvp by hand")!).toFixed(2)}`);
if (t.has("hessian(f)")) console.log(`hessian / (n * grad): ${(t.get("hessian(f)")! / (n * g)).toFixed(2)}`);
console.log(`n = 20: hessian exact to ${worst.toExponential(1)} (analytic), hessian / grad = ${(t.get("hessian(f), n = 20")! / t.get("grad(f), n = 20")!).toFixed(1)}`);
