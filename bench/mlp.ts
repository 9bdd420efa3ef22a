/**
 * The NDArray issue's measurement, in one run: the gradient of a two-layer MLP loss (batch 64,
 * 784 -> 128 -> 10, tanh, softmax cross-entropy) with adc, with TensorFlow.js (CPU backend,
 * `tf.grads`, written the idiomatic tfjs way, float32), and adc's forward time; the ratios.
 */
import { loadTfjsCpu } from "./adbench/tfjs-setup.js";
import { compileAndLoad, fmtNs, machine, medians, table } from "./lib/harness.js";

const m = await compileAndLoad("bench/mlp-src.ts");
const { np } = m;
np.random.seed(0);
const [B, D, H, C] = [64, 784, 128, 10];
const params = {
  w1: np.mul(np.random.normal(0, 1, [D, H]), 1 / Math.sqrt(D)),
  b1: np.zeros([H]),
  w2: np.mul(np.random.normal(0, 1, [H, C]), 1 / Math.sqrt(H)),
  b2: np.zeros([C]),
};
const X = np.random.uniform(0, 1, [B, D]);
const labels = Array.from({ length: B }, (_, i) => (i * 7) % C);
const Y = np.array(labels.map((l) => Array.from({ length: C }, (_, c) => (c === l ? 1 : 0))));

const tf = await loadTfjsCpu();
const T = {
  w1: tf.tensor(Float32Array.from(params.w1.data), [D, H], "float32"),
  b1: tf.tensor(Float32Array.from(params.b1.data), [H], "float32"),
  w2: tf.tensor(Float32Array.from(params.w2.data), [H, C], "float32"),
  b2: tf.tensor(Float32Array.from(params.b2.data), [C], "float32"),
};
const tX = tf.tensor(Float32Array.from(X.data), [B, D], "float32");
const tY = tf.tensor(Float32Array.from(Y.data), [B, C], "float32");
const tfLoss = (w1: any, b1: any, w2: any, b2: any) => {
  const h = tf.tanh(tf.add(tf.matMul(tX, w1), b1));
  const z = tf.add(tf.matMul(h, w2), b2);
  return tf.neg(tf.mean(tf.sum(tf.mul(tY, tf.logSoftmax(z)), 1)));
};
const tfGrads = tf.grads(tfLoss);
const tfStep = () => tf.tidy(() => tfGrads([T.w1, T.b1, T.w2, T.b2]).map((g) => g.dataSync()));

// Correctness first: adc and tfjs agree (float32 tolerance), and the loss values match.
const g = m.dloss(params, X, Y);
const gt = tfStep();
let worst = 0;
(["w1", "b1", "w2", "b2"] as const).forEach((k, i) => {
  const a = g[k].data as Float64Array;
  for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - gt[i][j]));
});
if (worst > 1e-4) throw new Error(`adc and tfjs gradients differ by ${worst}`);

const t = await medians(
  [
    { name: "adc forward (loss)", fn: () => m.loss(params, X, Y) },
    { name: "adc gradient", fn: () => m.dloss(params, X, Y) },
    { name: "tfjs gradient", fn: tfStep },
  ],
  1500,
);
const [fwd, adc, tfg] = [t.get("adc forward (loss)")!, t.get("adc gradient")!, t.get("tfjs gradient")!];
console.log(`# two-layer MLP (batch ${B}, ${D} -> ${H} -> ${C}) (${machine()})\n`);
console.log(`max |adc - tfjs| over all gradient entries: ${worst.toExponential(2)} (tfjs computes in float32)\n`);
console.log(
  table([
    ["task", "median"],
    ["adc forward", fmtNs(fwd)],
    ["adc gradient", fmtNs(adc)],
    ["tfjs gradient", fmtNs(tfg)],
  ]),
);
console.log(`\nadc gradient / adc forward: ${(adc / fwd).toFixed(2)}; tfjs gradient / adc gradient: ${(tfg / adc).toFixed(2)}`);
