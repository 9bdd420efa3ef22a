/**
 * Issue 17's MLP measurement, in one run: one training step of a two-layer MLP (relu hidden
 * layer, softmax cross-entropy on one-hot labels, SGD with lr = 0.1) three ways:
 *   (a) adc, JAX style: valueAndGrad of the mean loss over { W1, b1, W2, b2 }, then new parameters;
 *   (b) adc, MXNet style: attachGrad, a record block computing the per-example losses,
 *       l.backward(), then param.assign(param - lr / batch * param.grad);
 *   (c) TensorFlow.js (tfjs-core, CPU backend, float32): tf.variableGrads of the mean loss over
 *       four tf.variables, then v.assign(v - lr * g), in a tf.tidy.
 * The model's adc source is bench/mlp-src.ts (compiled here with adc, as the other benches do).
 * Before timing, one step of (a) and of (b) from the same parameters must give tfjs's updated
 * parameters and update (within RTOL of their largest entry; tfjs computes in float32, adc in
 * float64) and the same loss; the run stops with an error otherwise.
 *
 * Timing: tinybench, each step warmed up for WARMUP_MS first (the generated gradients run slowly
 * until optimized), then ROUNDS rounds that take the tasks in turn for TIME_MS each; medians over
 * all samples (ms per step) and the ratios adc / tfjs, all from this run. A fourth row times the
 * data's adjoint alone (the B x H by H x D product the MXNet-style block computes for X and
 * throws away; (a) and (c) do not compute it).
 *
 * Sizes and budget (environment variables; defaults in brackets):
 *   BATCH [256]  INPUT [784]  HIDDEN [256]  CLASSES [10]
 *   WARMUP_MS [1500]  ROUNDS [5]  TIME_MS [3000]  RTOL [1e-4]
 * e.g. a quick run: `BATCH=64 HIDDEN=128 ROUNDS=2 TIME_MS=500 WARMUP_MS=500 npm run bench:mlp`.
 */
import { loadTfjsCpu } from "./adbench/tfjs-setup.js";
import { compileAndLoad, fmtNs, interleavedMedians, machine, table } from "./lib/harness.js";
import { gemmNT } from "../runtime/ndarray/kernels/matmul.js";

const env = (name: string, dflt: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`${name}=${v}: expected a positive number`);
  return x;
};
const [B, D, H, C] = [env("BATCH", 256), env("INPUT", 784), env("HIDDEN", 256), env("CLASSES", 10)];
const WARMUP_MS = env("WARMUP_MS", 1500);
const ROUNDS = env("ROUNDS", 5);
const TIME_MS = env("TIME_MS", 3000);
const RTOL = env("RTOL", 1e-4);
const lr = 0.1;

const m = await compileAndLoad("bench/mlp-src.ts");
const { np } = m;
np.random.seed(0);
const init = {
  W1: np.mul(np.random.normal(0, 1, [D, H]), 1 / Math.sqrt(D)),
  b1: np.random.normal(0, 0.1, [H]),
  W2: np.mul(np.random.normal(0, 1, [H, C]), 1 / Math.sqrt(H)),
  b2: np.random.normal(0, 0.1, [C]),
};
const names = ["W1", "b1", "W2", "b2"] as const;
type Name = (typeof names)[number];
const X = np.random.uniform(0, 1, [B, D]);
const labels = Array.from({ length: B }, (_, i) => (i * 7) % C);
const Y = np.array(labels.map((l) => Array.from({ length: C }, (_, c) => (c === l ? 1 : 0))));
const copy = (a: any) => np.array(a); // a fresh array with the same values

// (a) JAX style: the parameters are replaced at each step.
let pj: Record<Name, any> = Object.fromEntries(names.map((k) => [k, copy(init[k])])) as Record<Name, any>;
const jaxStep = () => {
  const [l, p] = m.jaxStep(pj, X, Y, lr);
  pj = p;
  return l as number;
};

// (b) MXNet style: the parameters are updated in place.
const pm: any[] = names.map((k) => copy(init[k]));
for (const p of pm) p.attachGrad();
const mxnetStep = () => m.mxnetStep(pm, X, Y, lr);

// (c) tfjs.
const tf = await loadTfjsCpu();
const f32 = (a: any) => Float32Array.from(a.data as Float64Array);
const tv = Object.fromEntries(names.map((k) => [k, tf.variable(tf.tensor(f32(init[k]), init[k].shape, "float32"), true, `mlp_${k}`)])) as Record<Name, any>;
const tX = tf.tensor(f32(X), [B, D], "float32");
const tY = tf.tensor(f32(Y), [B, C], "float32");
const tfLoss = () => {
  const h = tf.relu(tf.add(tf.matMul(tX, tv.W1), tv.b1));
  const z = tf.add(tf.matMul(h, tv.W2), tv.b2);
  return tf.neg(tf.mean(tf.sum(tf.mul(tY, tf.logSoftmax(z)), 1))) as any;
};
const tfVars = names.map((k) => tv[k]);
/** One step; returns the loss before it (a scalar tensor the caller disposes). */
const tfStep = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(tfLoss, tfVars);
    for (const k of names) tv[k].assign(tf.sub(tv[k], tf.mul(lr, grads[tv[k].name])));
    return value;
  });

// Correctness first: one step of each from the same parameters.
const tl = tfStep();
const tfLossValue = tl.dataSync()[0];
tl.dispose();
const tfNew = Object.fromEntries(names.map((k) => [k, tv[k].dataSync() as Float32Array])) as Record<Name, Float32Array>;
const jaxLoss = jaxStep();
const mxLoss = mxnetStep().mean().item() as number;
const report: string[][] = [["style", "loss", ...names.flatMap((k) => [`${k} rel. err`, `${k} step rel. err`])]];
let failed = "";
for (const [style, loss, get] of [
  ["adc JAX", jaxLoss, (k: Name) => pj[k].data as Float64Array],
  ["adc MXNet", mxLoss, (k: Name) => pm[names.indexOf(k)].data as Float64Array],
] as const) {
  const row = [style, loss.toFixed(6)];
  const lossErr = Math.abs(loss - tfLossValue) / Math.max(1, Math.abs(tfLossValue));
  if (!(lossErr <= RTOL)) failed += `\n${style}: loss ${loss} against tfjs's ${tfLossValue}`;
  for (const k of names) {
    const a = get(k);
    const b = tfNew[k];
    const a0 = init[k].data as Float64Array;
    // The parameters, and the update itself (new - old; adc's in float64, tfjs's from its float32
    // parameters), each against its largest entry.
    let err = 0, big = 0, stepErr = 0, stepBig = 0;
    for (let j = 0; j < a.length; j++) {
      err = Math.max(err, Math.abs(a[j] - b[j]));
      big = Math.max(big, Math.abs(b[j]));
      const tfDelta = b[j] - Math.fround(a0[j]);
      stepErr = Math.max(stepErr, Math.abs(a[j] - a0[j] - tfDelta));
      stepBig = Math.max(stepBig, Math.abs(tfDelta));
    }
    const rel = err / big;
    const stepRel = stepErr / stepBig;
    row.push(rel.toExponential(1), stepRel.toExponential(1));
    if (!(rel <= RTOL)) failed += `\n${style}: updated ${k} differs from tfjs's by ${err} (largest entry ${big})`;
    if (!(stepRel <= RTOL)) failed += `\n${style}: the update of ${k} differs from tfjs's by ${stepErr} (largest ${stepBig})`;
  }
  report.push(row);
}
console.log(`# MLP training step (batch ${B}, ${D} -> ${H} -> ${C}, relu, softmax cross-entropy, SGD) (${machine()})\n`);
console.log(`one step from the same parameters, against tfjs (loss ${tfLossValue.toFixed(6)}); relative to the largest entry:\n`);
console.log(table(report));
if (failed) throw new Error(`adc and tfjs disagree (relative tolerance ${RTOL}):${failed}`);

// The data's adjoint alone, as the matmul pullback computes it: (B x H) times (D x H)^T.
const G = (np.random.normal(0, 1, [B, H]).data as Float64Array).slice();
const W1d = (init.W1.data as Float64Array).slice();
const dataAdjoint = () => {
  const out = new Float64Array(B * D);
  gemmNT(B, H, D, G, 0, H, W1d, 0, H, out, 0, D);
  return out;
};

const tasks = [
  { name: "adc JAX style", fn: jaxStep },
  { name: "adc MXNet style", fn: mxnetStep },
  { name: "tfjs-core CPU", fn: () => tfStep().dispose() },
  { name: "(X's adjoint alone)", fn: dataAdjoint },
];
const t = await interleavedMedians(tasks, { rounds: ROUNDS, timeMs: TIME_MS, warmupMs: WARMUP_MS });
const [jax, mx, tfs, xadj] = tasks.map((x) => t.get(x.name)!);
console.log(`\nmedians over ${ROUNDS} interleaved rounds of ${TIME_MS} ms per task, after ${WARMUP_MS} ms of warm-up each:\n`);
console.log(
  table([
    ["task", "median per step", "ratio to tfjs"],
    ["adc JAX style", fmtNs(jax), (jax / tfs).toFixed(2)],
    ["adc MXNet style", fmtNs(mx), (mx / tfs).toFixed(2)],
    ["tfjs-core CPU", fmtNs(tfs), "1.00"],
    ["(X's adjoint alone)", fmtNs(xadj), (xadj / tfs).toFixed(2)],
  ]),
);
const target = 0.5;
console.log(`\nadc JAX / tfjs: ${(jax / tfs).toFixed(2)}; adc MXNet / tfjs: ${(mx / tfs).toFixed(2)} (target: at most ${target} for both: ${jax / tfs <= target && mx / tfs <= target ? "met" : "missed"})`);
console.log(`adc MXNet - adc JAX: ${fmtNs(mx - jax)}; X's adjoint alone: ${fmtNs(xadj)}`);
