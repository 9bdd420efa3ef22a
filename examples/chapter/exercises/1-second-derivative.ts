// Exercise 1: why is the second derivative much more expensive to compute than the first?
//
// adc makes a second derivative by differentiating a derivative: grad(grad(f)) is the gradient
// of T(f), the tangent function of f (forward mode, written as ordinary code: every value of f
// paired with its derivative along one direction). Reverse mode over T(f) then needs a tape
// for twice as many values, and its reverse sweep has an adjoint for each value and each
// tangent. So one second-order pass costs a small constant times a gradient (a
// Hessian-vector product), and a full Hessian of n inputs needs n such passes, one per
// direction, where the gradient needed one pass for all n. Measured below and in
// `npm run bench:higher` (bench/RESULTS.md): for Rosenbrock's function of 100 inputs a
// Hessian-vector product took 1.7-4.4 gradients and the full Hessian 100-230 gradients over
// four runs on a shared machine (at 10^5 inputs the product took 2.25 gradients).
import { performance } from "node:perf_hooks";
import { grad, hessian, jvp } from "adc";
import { cell } from "../cells.js";

// The chapter's first function, y = 2 x.x, per coordinate: its Hessian is 4 I.
function twoDot(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += 2 * x[i] * x[i];
  return s;
}
const H = hessian(twoDot)(Float64Array.from([0, 1, 2, 3]));
cell("ex1.1", "hessian(x => 2 x.x)([0, 1, 2, 3])", H.map((row) => Array.from(row).join(" ")), "4 I", ["4 0 0 0", "0 4 0 0", "0 0 4 0", "0 0 0 4"]);

// sin'' = -sin, without using it: the gradient of the gradient, over a grid.
const d2sin = grad(grad((x: number) => Math.sin(x)));
let worst = 0;
for (let k = 0; k <= 400; k++) {
  const x = -2 * Math.PI + (4 * Math.PI * k) / 400;
  worst = Math.max(worst, Math.abs(d2sin(x) + Math.sin(x)));
}
cell("ex1.2", "max |grad(grad(sin))(x) + sin(x)| over [-2π, 2π]", worst, "0 (within 1e-12)", worst <= 1e-12);

// A function of the chapter's kind, with its second derivative by hand: f(x) = x^2 sin(x),
// f''(x) = 2 sin(x) + 4 x cos(x) - x^2 sin(x).
const f = (x: number): number => x * x * Math.sin(x);
const d2f = grad(grad(f));
const x0 = 1.3;
const exact = 2 * Math.sin(x0) + 4 * x0 * Math.cos(x0) - x0 * x0 * Math.sin(x0);
cell("ex1.3", "grad(grad(x => x^2 sin x))(1.3) vs 2 sin x + 4x cos x - x^2 sin x", Math.abs(d2f(x0) - exact) <= 1e-12 * Math.abs(exact), "they agree", true);

// The chapter's control-flow function: f(a) = k a on each piece, so its second derivative is 0
// wherever it is defined (the loop's trip count and the branch are recorded, not differentiated).
function controlFlow(a: number): number {
  let b = a * 2;
  while (Math.abs(b) < 1000) b = b * 2;
  let c: number;
  if (b > 0) c = b;
  else c = 100 * b;
  return c;
}
cell("ex1.4", "grad(grad(f))(a) for the control-flow f, at a = 0.7 and -0.7", [grad(grad(controlFlow))(0.7), grad(grad(controlFlow))(-0.7)], "0 on every piece", [0, 0]);

// The cost, measured: gradient, one Hessian-vector product, and the full Hessian of
// Rosenbrock's function of n = 100 inputs (medians of 7 rounds; this machine is shared).
function rosen(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    s += 100 * a * a + b * b;
  }
  return s;
}
const n = 100;
const x = Float64Array.from({ length: n }, (_, i) => 0.5 + 0.01 * i);
const v = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
const gradRosen = grad(rosen);
const hessRosen = hessian(rosen);
const hvp = (): Float64Array => jvp(grad(rosen), [x], [v])[1];

function median(run: () => unknown, calls: number): number {
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) run();
    times.push((performance.now() - t0) / calls);
  }
  return times.sort((a, b) => a - b)[3];
}
const tGrad = median(() => gradRosen(x), 2000);
const tHvp = median(hvp, 2000);
const tHess = median(() => hessRosen(x), 20);
// The Hessian-vector product agrees with the full Hessian times v.
const Hx = hessRosen(x);
const hv = hvp();
let err = 0;
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let j = 0; j < n; j++) s += Hx[i][j] * v[j];
  err = Math.max(err, Math.abs(s - hv[i]) / Math.max(1, Math.abs(s)));
}
cell("ex1.5", "jvp(grad(rosen), [x], [v]) == hessian(rosen)(x) v (n = 100)", err <= 1e-12, "they agree", true);
cell("ex1.6", "time: hvp / grad, hessian / grad (n = 100)", [Number((tHvp / tGrad).toFixed(1)), Number((tHess / tGrad).toFixed(0))], "a small constant; about n times that");
