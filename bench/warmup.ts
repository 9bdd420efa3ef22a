/**
 * What a user sees on the first calls of a generated gradient (issue "Performance round 2",
 * warm-up): V8 runs a new function in its interpreter, then optimizes it, and a large generated
 * function may be deoptimized and optimized again a few times before it settles. In a fresh
 * process this times each of the first calls of the LSTM gradient (ADBench l2 c1024) and of the
 * GMM gradient (d10 K25, 1,000 points), and reports them against the steady state (the median of
 * calls 200-300).
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { compileAndLoad, fmtNs, machine, table } from "./lib/harness.js";
import { GMM_SIZES, LSTM_SIZES, makeGmmCase, makeLstmCase } from "./adbench/baseline.js";

const m = await compileAndLoad(join("bench", "adbench", "adc-src.ts"));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function profile(run: () => unknown, calls = 300): number[] {
  const t: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    run();
    t.push((performance.now() - t0) * 1e6);
  }
  return t;
}

const rows = [["gradient", "call 1", "calls 2-10 (median)", "calls 11-100 (median)", "steady (calls 200-300)", "call 1 / steady", "calls 2-10 / steady"]];
function report(name: string, t: number[]): void {
  const steady = median(t.slice(200));
  const early = median(t.slice(1, 10));
  rows.push([name, fmtNs(t[0]), fmtNs(early), fmtNs(median(t.slice(10, 100))), fmtNs(steady), (t[0] / steady).toFixed(1), (early / steady).toFixed(2)]);
}

const lstm = await makeLstmCase(LSTM_SIZES[0], { tfjs: false });
const { mainParams, extraParams, state, sequence, l, c: chars, b } = lstm.data;
report(`LSTM ${LSTM_SIZES[0].name}`, profile(() => m.lstmGradient(mainParams, extraParams, state, sequence, l, chars, b)));
lstm.dispose();
const size = GMM_SIZES.find((s) => s.name.includes("d10")) ?? GMM_SIZES[0];
const gmm = await makeGmmCase(size, { tfjs: false });
const g = gmm.data;
report(`GMM ${size.name}`, profile(() => m.gmmGradient(g.alphas, g.means, g.icf, g.x, g.gamma, g.m, g.d, g.k, g.n)));
gmm.dispose();
console.log(`# First calls of generated gradients (${machine()}; a fresh process)\n`);
console.log(table(rows));
