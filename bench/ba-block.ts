/**
 * `npm run bench:ba-block`: one observation's 2 x 15 bundle adjustment Jacobian block, the unit
 * of work that `npm run bench -- ba` repeats 30k-290k times, timed call by call in one process
 * (interleaved rounds) against the hand-written block: the residual itself, one residual row's
 * gradient (`grad` of a function of the row, helpers inlined), and `jacrev` / `jacfwd` of the
 * two-residual function (bench/adbench/adc-src.ts), and the same written into a caller's buffer
 * (`jacrevInto` / `jacfwdInto`, the hand block's layout). Each adc result is checked against the hand
 * block first.
 */
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { compileAndLoad, fmtNs, interleavedMedians, machine, table } from "./lib/harness.js";
import { baBlockHand } from "./adbench/ba-hand.js";

const here = dirname(fileURLToPath(import.meta.url));
const m = await compileAndLoad(join(here, "adbench", "adc-src.ts"));
const cam = Float64Array.from([0.1, -0.2, 0.3, 1, 2, 3, 500, 0.5, 0.4, 1e-3, 1e-5]);
const X = Float64Array.from([4, 5, 16]);
const [w, f0, f1] = [0.8, 3, 4];
const J = new Float64Array(30);
const rot = new Float64Array(13);
baBlockHand(cam, 0, X, 0, w, f0, f1, J, 0, rot);

// The adc blocks, laid out as the hand block (row-major, camera | point | weight).
const viaRows = new Float64Array(30);
for (let r = 0; r < 2; r++) {
  const [gc, gx, gw] = m.baRowGradient(cam, X, w, f0, f1, r) as [Float64Array, Float64Array, number];
  viaRows.set(gc, 15 * r);
  viaRows.set(gx, 15 * r + 11);
  viaRows[15 * r + 14] = gw;
}
const fromJacobian = (jac: (...a: unknown[]) => unknown): Float64Array => {
  const [Jc, Jx, Jw] = jac(cam, X, w, f0, f1) as [Float64Array[], Float64Array[], Float64Array];
  const out = new Float64Array(30);
  for (let r = 0; r < 2; r++) {
    out.set(Jc[r], 15 * r);
    out.set(Jx[r], 15 * r + 11);
    out[15 * r + 14] = Jw[r];
  }
  return out;
};
const into = (jac: (...a: unknown[]) => unknown): Float64Array => jac(new Float64Array(30), 0, cam, X, w, f0, f1) as Float64Array;
for (const [name, got] of [["row gradients", viaRows], ["jacrev", fromJacobian(m.baPairJacrev)], ["jacfwd", fromJacobian(m.baPairJacfwd)], ["jacrevInto", into(m.baPairJacrevInto)], ["jacfwdInto", into(m.baPairJacfwdInto)]] as const) {
  const err = Math.max(...Array.from(J, (v, k) => Math.abs(v - got[k]) / Math.max(1, Math.abs(v))));
  if (!(err < 1e-10)) throw new Error(`${name}: differs from the hand block by ${err}`);
}

const tasks = [
  { name: "residuals (baPair)", fn: () => m.baPair(cam, X, w, f0, f1), batch: 1000 },
  { name: "hand block", fn: () => baBlockHand(cam, 0, X, 0, w, f0, f1, J, 0, rot), batch: 1000 },
  { name: "one row's gradient", fn: () => m.baRowGradient(cam, X, w, f0, f1, 0), batch: 1000 },
  { name: "jacrev block", fn: () => m.baPairJacrev(cam, X, w, f0, f1), batch: 1000 },
  { name: "jacfwd block", fn: () => m.baPairJacfwd(cam, X, w, f0, f1), batch: 1000 },
  { name: "jacrevInto block", fn: () => m.baPairJacrevInto(J, 0, cam, X, w, f0, f1), batch: 1000 },
  { name: "jacfwdInto block", fn: () => m.baPairJacfwdInto(J, 0, cam, X, w, f0, f1), batch: 1000 },
];
const t = await interleavedMedians(tasks, { rounds: 8, timeMs: 150, warmupMs: 800 });
const hand = t.get("hand block")!;
console.log(`# One BA Jacobian block (${machine()})\n`);
console.log(table([["task", "median", "ratio to the hand block"], ...tasks.map((k) => [k.name, fmtNs(t.get(k.name)!), (t.get(k.name)! / hand).toFixed(2)])]));
