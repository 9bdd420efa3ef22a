/**
 * The control-flow issue's measurements, in one run: gradient time over function time for
 * Rosenbrock (n = 1,000 and 100,000) and for an RK4 integrator (1,000 steps); adc's Rosenbrock
 * gradient against a hand-written one; tape bytes per step of the integrator; and a scalar loop of
 * 10^7 iterations (issue "Performance round 2": gradient / primal <= 2.0), with its tape bytes per
 * iteration and the tape's float lane as allocated after the run (it grows by doubling).
 * `N=... npm run bench:loops` sets the long loop's length.
 */
import { compileAndLoad, fmtNs, machine, medians, table } from "./lib/harness.js";

const m = await compileAndLoad("bench/loops-src.ts");
const rows: string[][] = [["problem", "function", "adc gradient", "gradient / function", "hand gradient", "adc / hand"]];

for (const n of [1000, 100_000]) {
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 0.9);
  const g = new Float64Array(n);
  const batch = n === 1000 ? 50 : 1;
  const t = await medians([
    { name: "f", fn: () => m.rosenbrock(x), batch },
    { name: "adc", fn: () => m.drosenbrock(x), batch },
    { name: "hand", fn: () => m.rosenbrockHand(x, g), batch },
  ]);
  const [f, a, h] = [t.get("f")!, t.get("adc")!, t.get("hand")!];
  rows.push([`Rosenbrock n=${n}`, fmtNs(f), fmtNs(a), (a / f).toFixed(2), fmtNs(h), (a / h).toFixed(2)]);
}

const steps = 1000;
const t = await medians([
  { name: "f", fn: () => m.rk4(0.3, 0.1, 0.2, steps), batch: 5 },
  { name: "adc", fn: () => m.drk4(0.3, 0.1, 0.2, steps), batch: 5 },
]);
rows.push([`RK4 ${steps} steps`, fmtNs(t.get("f")!), fmtNs(t.get("adc")!), (t.get("adc")! / t.get("f")!).toFixed(2), "-", "-"]);

// Tape use of the integrator: run its recording half and read the tape before replaying it.
const before = m.tape.bytesInUse();
m.rk4_fwd(0.3, 0.1, 0.2, steps);
const bytes = m.tape.bytesInUse() - before;
m.rk4_rev(1);

// The long scalar loop: medians of a few calls each (one call takes tens of milliseconds).
const N = Number(process.env.N ?? 1e7);
const laneBefore = m.tape.f.length;
const long = await medians(
  [
    { name: "f", fn: () => m.recur3(0.3, 0.2, 0.1, N) },
    { name: "adc", fn: () => m.drecur3(0.3, 0.2, 0.1, N) },
  ],
  1500,
);
rows.push([`3-variable recurrence, ${N.toExponential(0)} steps`, fmtNs(long.get("f")!), fmtNs(long.get("adc")!), (long.get("adc")! / long.get("f")!).toFixed(2), "-", "-"]);
const recBefore = m.tape.bytesInUse();
m.recur3_fwd(0.3, 0.2, 0.1, N);
const recBytes = m.tape.bytesInUse() - recBefore;
m.recur3_rev(1);

console.log(`# adc loop benchmarks (${machine()})\n`);
console.log(table(rows));
console.log(`\nRK4 tape: ${bytes} bytes for ${steps} steps = ${(bytes / steps).toFixed(1)} bytes per step`);
console.log(`Recurrence tape: ${(recBytes / 2 ** 20).toFixed(1)} MiB for ${N.toExponential(0)} steps = ${(recBytes / N).toFixed(1)} bytes per step; float lane allocated: ${((laneBefore * 8) / 2 ** 20).toFixed(1)} MiB before, ${((m.tape.f.length * 8) / 2 ** 20).toFixed(1)} MiB after`);
