/**
 * `npm run bench`: ADBench GMM, bundle adjustment and LSTM, differentiated by adc, against the
 * objective alone, hand-written gradients and TensorFlow.js (CPU backend, float32), in one process
 * run per problem. Correctness comes first (references, finite differences, forward mode); then
 * medians and ratios go to bench/RESULTS.md with the machine, Node version and date.
 *
 *   npm run bench              # everything (a few minutes)
 *   npm run bench -- gmm       # one problem
 */
import { cpus } from "node:os";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileAndLoad, fmtNs, medians, table } from "../lib/harness.js";
import { BA_SIZES, GMM_SIZES, LSTM_SIZES, makeBaCase, makeGmmCase, makeLstmCase } from "./baseline.js";
import { baBlockHand, type CsrMatrix } from "./ba-hand.js";
import { dataPath } from "./paths.js";
import { readBa, readGmm, readLstm } from "./io.js";
import { gmmObjective } from "./gmm.js";
import { lstmObjective } from "./lstm.js";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const want = (p: string) => only.length === 0 || only.includes(p);
const m = await compileAndLoad(join(here, "adc-src.ts"));
const out: string[] = [];
const say = (s = "") => {
  out.push(s);
  console.log(s);
};

/** ADBench's relative difference. */
const rho = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a) + Math.abs(b));
const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, rho(a[i], b[i]));
  return w;
};
const concat = (...xs: Float64Array[]) => {
  const r = new Float64Array(xs.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of xs) r.set(x, (o += x.length) - x.length);
  return r;
};
/**
 * The peak tape size of one call of a fused gradient, in bytes. The float lane is filled with a
 * sentinel above its top (and so is every part it grows into); after the call, the highest
 * slot that no longer holds the sentinel is the peak, whether the generated code pushed through
 * `pushF` or wrote the lane through locals (compiler/optimize/local-tape.ts). The other lanes
 * are counted by wrapping their push methods.
 */
function tapeBytes(run: () => void): number {
  // Wraps the methods on the Tape prototype, not on the tape object: own properties added to the
  // object and deleted again would leave it in V8's slow dictionary mode, and every later timing
  // of generated code would pay for it. (Optimized code that inlined the methods deoptimizes
  // once and is optimized again during the benchmark's warmup.)
  const tape = m.tape as { f: Float64Array; fTop: number };
  const proto = Object.getPrototypeOf(tape) as Record<string, (x: unknown) => void>;
  const lanes: [string, (x: unknown) => number][] = [["pushI", () => 4], ["pushB", () => 1], ["pushO", () => 8]];
  const SENTINEL = -1.2345678901234567e-300;
  const growF = proto.growF;
  const saved = lanes.map(([k]) => proto[k]);
  let bytes = 0;
  lanes.forEach(([k, size], i) => (proto[k] = function (this: unknown, x: unknown) {
    bytes += size(x);
    return saved[i].call(this, x);
  }));
  proto.growF = function (this: { f: Float64Array }, need: unknown) {
    const old = this.f.length;
    growF.call(this, need);
    this.f.fill(SENTINEL, old);
  };
  const base = tape.fTop;
  tape.f.fill(SENTINEL, base);
  try {
    run();
  } finally {
    lanes.forEach(([k], i) => (proto[k] = saved[i]));
    proto.growF = growF;
  }
  let top = tape.f.length;
  while (top > base && tape.f[top - 1] === SENTINEL) top--;
  return bytes + 8 * (top - base);
}
/** A seeded direction with entries in [-1, 1]. */
function direction(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const targetsMissed: string[] = [];

say(`# ADBench results for adc\n`);
say(`Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}.`);
say(`Medians of repeated runs (tinybench); every ratio compares timings from the same process run. TensorFlow.js is \`@tensorflow/tfjs-core\` with the CPU backend, computing in float32, written the vectorized tfjs way; adc and the hand-written gradients compute in float64.`);

// ---- GMM ------------------------------------------------------------------------------------
if (want("gmm")) {
  say(`\n## GMM (objective, gradient w.r.t. alphas, means and the Q factors)\n`);
  // Correctness against ADBench's reference.
  const ref = JSON.parse(readFileSync(join(dataPath(""), "..", "reference", "gmm_test.expected.json"), "utf8"));
  const t0 = readGmm(dataPath("gmm/test.txt"));
  const g0 = concat(...(m.gmmGradient(t0.alphas, t0.means, t0.icf, t0.x, t0.gamma, t0.m, t0.d, t0.k, t0.n) as Float64Array[]));
  const refErr = Math.max(worst(g0, ref.gradient), rho(gmmObjective(t0.alphas, t0.means, t0.icf, t0.x, t0.gamma, t0.m, t0.d, t0.k, t0.n), ref.objective));
  say(`Reference (\`data/gmm/test.txt\`): objective and 18-value gradient, max rho = ${refErr.toExponential(1)} (ADBench's tolerance: 1e-8).`);
  if (!(refErr < 1e-8)) throw new Error("GMM gradient does not match ADBench's reference");
  const rows = [["size", "objective", "adc gradient", "hand gradient", "tfjs gradient", "adc / objective", "hand / objective", "adc / hand", "tfjs / adc", "tfjs / hand", "adc vs hand (max rho)", "fwd vs rev", "finite diff. (max rel)", "tape bytes / point"]];
  for (const size of GMM_SIZES) {
    const c = await makeGmmCase(size);
    const { alphas, means, icf, x, gamma, m: wm, d, k, n } = c.data;
    const adc = () => m.gmmGradient(alphas, means, icf, x, gamma, wm, d, k, n) as Float64Array[];
    const ga = concat(...adc());
    const gh = c.handGradient();
    const agree = worst(ga, gh);
    if (!(agree < 1e-10)) throw new Error(`${size.name}: adc and hand gradients differ (rho ${agree})`);
    // Forward mode along a random direction must give the same directional derivative.
    const [da, dm, di] = [direction(alphas.length, 1), direction(means.length, 2), direction(icf.length, 3)];
    const [, tangent] = m.gmmTangent(alphas, means, icf, x, gamma, wm, d, k, n, da, dm, di, new Float64Array(x.length));
    const fwdErr = rho(tangent, dot(ga, concat(da, dm, di)));
    // Central differences at a few coordinates (small sizes only).
    let fdErr = NaN;
    if (size.n * size.k * size.d * size.d <= 2_600_000) {
      fdErr = 0;
      const all = [alphas, means, icf];
      for (const [p, j] of [[0, 0], [1, 1], [2, 0], [2, all[2].length - 1]] as const) {
        const arr = all[p];
        const keep = arr[j];
        const h = 1e-6 * Math.max(1, Math.abs(keep));
        arr[j] = keep + h;
        const up = c.objective();
        arr[j] = keep - h;
        const dn = c.objective();
        arr[j] = keep;
        const fd = (up - dn) / (2 * h);
        const at = (p === 0 ? 0 : p === 1 ? alphas.length : alphas.length + means.length) + j;
        fdErr = Math.max(fdErr, Math.abs(fd - ga[at]) / Math.max(1, Math.abs(fd)));
      }
      if (!(fdErr < 1e-5)) throw new Error(`${size.name}: finite differences disagree (${fdErr})`);
    }
    const bytes = tapeBytes(() => void adc());
    const t = await medians([
      { name: "obj", fn: c.objective },
      { name: "adc", fn: adc },
      { name: "hand", fn: c.handGradient },
      { name: "tfjs", fn: c.tfjsGradient },
    ], size.n * size.k * size.d > 200_000 ? 1500 : 600);
    c.dispose();
    const [o, a, h, tf] = ["obj", "adc", "hand", "tfjs"].map((key) => t.get(key)!);
    rows.push([size.name, fmtNs(o), fmtNs(a), fmtNs(h), fmtNs(tf), (a / o).toFixed(2), (h / o).toFixed(2), (a / h).toFixed(2), (tf / a).toFixed(1), (tf / h).toFixed(1), agree.toExponential(1), fwdErr.toExponential(1), Number.isNaN(fdErr) ? "-" : fdErr.toExponential(1), (bytes / size.n).toFixed(0)]);
    if (a / h > 1.15) targetsMissed.push(`GMM ${size.name}: adc / hand = ${(a / h).toFixed(2)} (target 1.15)`);
    if (tf / a < (tf / h) * 0.85) targetsMissed.push(`GMM ${size.name}: tfjs / adc = ${(tf / a).toFixed(1)}, below tfjs / hand = ${(tf / h).toFixed(1)} by more than 15%`);
  }
  say(table(rows));
}

// ---- BA -------------------------------------------------------------------------------------
if (want("ba")) {
  say(`\n## Bundle adjustment (sparse Jacobian of the reprojection and weight residuals)\n`);
  say(`adc builds each observation's 2 x 15 block either in reverse mode (one gradient per residual row) or in forward mode (one tangent per input direction); the same assembly code places the blocks (\`baAssembleJacobian\`), and the hand-written block goes through that same assembly for the adc/hand ratio. The full hand-written Jacobian (its own in-place assembly) is listed too.\n`);
  const J30 = new Float64Array(30);
  void J30;
  const rot = new Float64Array(13);
  const handBlock = (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number, J: Float64Array) => baBlockHand(cam, 0, X, 0, w, f0, f1, J, 0, rot);
  const revBlock = (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number, J: Float64Array) => {
    for (let r = 0; r < 2; r++) {
      const [gc, gx, gw] = m.baRowGradient(cam, X, w, f0, f1, r) as [Float64Array, Float64Array, number];
      J.set(gc, 15 * r);
      J.set(gx, 15 * r + 11);
      J[15 * r + 14] = gw;
    }
  };
  const jacBlock = (jac: (...a: unknown[]) => unknown) => (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number, J: Float64Array) => {
    const [Jc, Jx, Jw] = jac(cam, X, w, f0, f1) as [Float64Array[], Float64Array[], Float64Array];
    for (let r = 0; r < 2; r++) {
      J.set(Jc[r], 15 * r);
      J.set(Jx[r], 15 * r + 11);
      J[15 * r + 14] = Jw[r];
    }
  };
  const jacrevBlock = jacBlock(m.baPairJacrev);
  const jacfwdBlock = jacBlock(m.baPairJacfwd);
  // jacrevInto writes the block in the hand block's layout, straight into the assembly's buffer.
  const jacrevIntoBlock = (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number, J: Float64Array) => void m.baPairJacrevInto(J, 0, cam, X, w, f0, f1);
  const dcam = new Float64Array(11), dX = new Float64Array(3);
  const fwdBlock = (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number, J: Float64Array) => {
    for (let q = 0; q < 15; q++) {
      dcam.fill(0);
      dX.fill(0);
      if (q < 11) dcam[q] = 1;
      else if (q < 14) dX[q - 11] = 1;
      const [, t] = m.baPairTangent(cam, X, w, f0, f1, dcam, dX, q === 14 ? 1 : 0) as [Float64Array, Float64Array];
      J[q] = t[0];
      J[15 + q] = t[1];
    }
  };
  // The weight rows (-2w) come from the assembly; check adc's against it too.
  const ref = JSON.parse(readFileSync(join(dataPath(""), "..", "reference", "ba_test.expected.json"), "utf8"));
  const small = await makeBaCase({ name: "test", n: 2, m: 10, p: 10, file: "ba/test.txt" } as never, { tfjs: false });
  for (const [name, block] of [["reverse", revBlock], ["forward", fwdBlock], ["jacrev", jacrevBlock], ["jacfwd", jacfwdBlock], ["jacrevInto", jacrevIntoBlock]] as const) {
    const J: CsrMatrix = small.assemble(block);
    const e = worst(J.vals, ref.J.vals);
    say(`Reference (\`data/ba/test.txt\`), adc ${name} mode: 310 Jacobian values, max rho = ${e.toExponential(1)}.`);
    if (!(e < 1e-8)) throw new Error(`BA ${name}-mode Jacobian does not match the reference`);
  }
  void readBa;
  const rows = [["size", "residuals", "hand Jacobian", "hand blocks", "adc reverse", "adc forward", "adc jacrev", "adc jacfwd", "adc jacrevInto", "adc rev / hand blocks", "adc fwd / hand blocks", "jacrev / hand blocks", "jacfwd / hand blocks", "jacrevInto / hand blocks", "adc vs hand (max rho)"]];
  for (const size of BA_SIZES.slice(0, 3)) {
    const c = await makeBaCase(size, { tfjs: false });
    const hand = c.handGradient().vals.slice();
    const rev = c.assemble(revBlock).vals.slice();
    const fwd = c.assemble(fwdBlock).vals.slice();
    const jr = c.assemble(jacrevBlock).vals.slice();
    const jf = c.assemble(jacfwdBlock).vals.slice();
    const ji = c.assemble(jacrevIntoBlock).vals;
    const agree = Math.max(worst(rev, hand), worst(fwd, hand), worst(jr, hand), worst(jf, hand), worst(ji, hand));
    if (!(agree < 1e-10)) throw new Error(`${size.name}: adc and hand Jacobians differ (${agree})`);
    const t = await medians([
      { name: "obj", fn: c.objective },
      { name: "hand", fn: c.handGradient },
      { name: "handBlocks", fn: () => c.assemble(handBlock) },
      { name: "rev", fn: () => c.assemble(revBlock) },
      { name: "fwd", fn: () => c.assemble(fwdBlock) },
      { name: "jacrev", fn: () => c.assemble(jacrevBlock) },
      { name: "jacfwd", fn: () => c.assemble(jacfwdBlock) },
      { name: "jacrevInto", fn: () => c.assemble(jacrevIntoBlock) },
    ], 800);
    const [o, h, hb, r, f, jrt, jft, jit] = ["obj", "hand", "handBlocks", "rev", "fwd", "jacrev", "jacfwd", "jacrevInto"].map((k) => t.get(k)!);
    rows.push([size.name, fmtNs(o), fmtNs(h), fmtNs(hb), fmtNs(r), fmtNs(f), fmtNs(jrt), fmtNs(jft), fmtNs(jit), (r / hb).toFixed(2), (f / hb).toFixed(2), (jrt / hb).toFixed(2), (jft / hb).toFixed(2), (jit / hb).toFixed(2), agree.toExponential(1)]);
    const best = Math.min(r, f, jrt, jft, jit);
    if (best / hb > 1.2) targetsMissed.push(`BA ${size.name}: best adc Jacobian / hand blocks = ${(best / hb).toFixed(2)} (target 1.2)`);
    c.dispose();
  }
  say(table(rows));
}

// ---- LSTM -----------------------------------------------------------------------------------
if (want("lstm")) {
  say(`\n## LSTM (loss, gradient w.r.t. all parameters)\n`);
  const ref = JSON.parse(readFileSync(join(dataPath(""), "..", "reference", "lstm_l2_c1024.expected.json"), "utf8"));
  const rows = [["size", "objective", "adc gradient", "hand gradient", "tfjs gradient", "adc / objective", "adc / hand", "tfjs / adc", "vs reference (max rho)", "fwd vs rev", "tape bytes"]];
  for (const size of LSTM_SIZES) {
    const c = await makeLstmCase(size);
    const { mainParams, extraParams, state, sequence, l, c: chars, b } = c.data;
    const adc = () => m.lstmGradient(mainParams, extraParams, state, sequence, l, chars, b) as Float64Array[];
    const ga = concat(...adc());
    const refErr = Math.max(worst(ga, ref.gradient), rho(lstmObjective(mainParams, extraParams, state, sequence, l, chars, b), ref.objective));
    if (!(refErr < 1e-7)) throw new Error(`LSTM gradient does not match ADBench's reference (${refErr})`);
    const [dm, de] = [direction(mainParams.length, 4), direction(extraParams.length, 5)];
    const [, tangent] = m.lstmTangent(mainParams, extraParams, state, sequence, l, chars, b, dm, de, new Float64Array(state.length), new Float64Array(sequence.length));
    const fwdErr = rho(tangent, dot(ga, concat(dm, de)));
    const bytes = tapeBytes(() => void adc());
    const t = await medians([
      { name: "obj", fn: c.objective },
      { name: "adc", fn: adc },
      { name: "hand", fn: c.handGradient },
      { name: "tfjs", fn: c.tfjsGradient },
    ], 2000);
    c.dispose();
    const [o, a, h, tf] = ["obj", "adc", "hand", "tfjs"].map((k) => t.get(k)!);
    rows.push([size.name, fmtNs(o), fmtNs(a), fmtNs(h), fmtNs(tf), (a / o).toFixed(2), (a / h).toFixed(2), (tf / a).toFixed(1), refErr.toExponential(1), fwdErr.toExponential(1), `${(bytes / 1e6).toFixed(2)} MB`]);
  }
  void readLstm;
  say(table(rows));
}

say(`\n## Targets missed\n`);
if (targetsMissed.length === 0) say("None.");
for (const t of targetsMissed) say(`- ${t}`);
if (targetsMissed.some((t) => t.startsWith("GMM")))
  say(`
Why GMM misses: the hand-written gradient is a different algorithm from the objective it
differentiates. It keeps each Q's lower triangle row-major so that Q (x - mu) is a set of dot
products, keeps the centred point and Q (x - mu) of every component for the point, and
accumulates the centred point's adjoint in a register. adc differentiates the objective as
written (ADBench's column-major scatter \`out[j] += icf[idx] * v[i]\`): per (point, component)
it saves the two d-vectors it overwrites (\`pushF64\`, whole arrays) and, per point, the running
max and the exponentials of logsumexp, and its reverse sweep scatters into the adjoint arrays
element by element. Its gradient costs about 3 objectives (adc / objective column); the hand
gradient costs 1.1 to 1.9 because it also computes the objective more cheaply than the
objective itself does.`);
if (targetsMissed.some((t) => t.startsWith("BA")))
  say(`
Why BA misses: the best adc block is \`jacrevInto(baPair, [0, 1, 2])\` (one forward sweep,
then one fused reverse sweep per residual row, accumulating into the assembly's buffer); its
ratio to the hand block was 1.13-1.17 on 2026-12-03 (bench/RESULTS.md, round 4), so a miss here
is most likely the machine's noise: rerun, or \`npm run bench:ba-block\` for one block in
interleaved rounds. The other columns build rows (\`jacrev\`), a gradient per row, or a tangent
per input direction (\`jacfwd\`: vector forward mode is not done).`);

if (only.length === 0) writeFileSync(join(here, "..", "RESULTS.md"), out.join("\n") + "\n");
