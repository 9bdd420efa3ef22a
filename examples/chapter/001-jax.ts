// Seed 001, the same chapter in JAX style: grad(f), stopGradient, grad through control flow.
import { grad, np, NDArray, stopGradient } from "adc";
import { cell } from "./cells.js";

const x = np.arange(4);
cell("001.1", "x = np.arange(4)", x, "Array([0., 1., 2., 3.], dtype=float32)", [0, 1, 2, 3]);

const y = (x: NDArray): number => np.mul(2, np.dot(x, x)).item();
cell("001.2", "y = (x) => 2 * np.dot(x, x); y(x)", y(x), "Array(28., dtype=float32)", 28);

const xGrad = grad(y)(x);
cell("001.3", "x_grad = grad(y)(x)", xGrad, "Array([ 0., 4., 8., 12.], dtype=float32)", [0, 4, 8, 12]);
cell("001.4", "x_grad == 4 * x", np.equal(xGrad, np.mul(4, x)), "Array([ True, True, True, True], dtype=bool)", [true, true, true, true]);

const ySum = (x: NDArray): number => x.sum().item();
cell("001.5", "y = (x) => x.sum(); grad(y)(x)", grad(ySum)(x), "Array([1., 1., 1., 1.], dtype=float32)", [1, 1, 1, 1]);

const ySq = (x: NDArray): NDArray => np.mul(x, x);
cell("001.6", "y = (x) => x * x; grad((x) => y(x).sum())(x)", grad((x: NDArray) => ySq(x).sum().item())(x), "Array([0., 2., 4., 6.], dtype=float32)", [0, 2, 4, 6]);

const u = stopGradient(ySq(x));
const z = (x: NDArray): NDArray => np.mul(u, x);
cell("001.7", "u = stopGradient(y(x)); z = (x) => u * x; grad((x) => z(x).sum())(x) == y(x)", np.equal(grad((x: NDArray) => z(x).sum().item())(x), ySq(x)), "Array([ True, True, True, True], dtype=bool)", [true, true, true, true]);
cell("001.8", "grad((x) => y(x).sum())(x) == 2 * x", np.equal(grad((x: NDArray) => ySq(x).sum().item())(x), np.mul(2, x)), "Array([ True, True, True, True], dtype=bool)", [true, true, true, true]);

function f(a: number): number {
  let b = a * 2;
  while (Math.abs(b) < 1000) b = b * 2;
  let c: number;
  if (b > 0) c = b;
  else c = 100 * b;
  return c;
}

np.random.seed(1);
const a = np.random.normal().item();
const d = f(a);
const dGrad = grad(f)(a);
// f(a) = k a for a k that depends on a; d / a is k up to one rounding of 100 * b, so compare closely.
cell("001.9", "d = f(a); d_grad = grad(f)(a); d_grad == d / a (to rounding)", Math.abs(dGrad - d / a) <= 1e-12 * Math.abs(dGrad), "f'(a) = f(a) / a", true);
