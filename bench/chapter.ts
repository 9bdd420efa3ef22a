/**
 * The chapter issue's measurements, in one run: y.backward() for the chapter's first example
 * against computing 4 * x directly; and the overhead of a record block of 100 NDArray operations
 * (record + backward) against the same generated pullback called through vjp.
 */
import { compileAndLoad, fmtNs, machine, medians, table } from "./lib/harness.js";

const m = await compileAndLoad("bench/chapter-src.ts");
m.recordFirst();
// Same results first.
const fromBlock = Array.from(m.hundredRecorded().data as Float64Array);
const fromVjp = Array.from(m.hundredVjp().data as Float64Array);
if (fromBlock.some((g, i) => Math.abs(g - fromVjp[i]) > 1e-12)) throw new Error("record and vjp disagree");

const t = await medians(
  [
  { name: "4 * x", fn: m.direct, batch: 200 },
  { name: "y.backward() (graph retained)", fn: m.backwardOnly, batch: 200 },
  { name: "record + y.backward(), first example", fn: m.firstExample, batch: 100 },
  { name: "vjp + pullback, 100 ops", fn: m.hundredVjp, batch: 5 },
  { name: "record + backward, 100 ops", fn: m.hundredRecorded, batch: 5 },
  ],
  1500,
);
const g = (k: string) => t.get(k)!;
console.log(`# chapter API benchmarks (${machine()})\n`);
console.log(table([["task", "median"], ...[...t].map(([k, v]) => [k, fmtNs(v)])]));
console.log(`\ny.backward() / (4 * x): ${(g("y.backward() (graph retained)") / g("4 * x")).toFixed(2)}`);
const over = g("record + backward, 100 ops") - g("vjp + pullback, 100 ops");
console.log(`record-block overhead over vjp for 100 ops: ${fmtNs(over)} (${((over / g("vjp + pullback, 100 ops")) * 100).toFixed(1)}%)`);
