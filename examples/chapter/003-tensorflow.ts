// Seed 003, the same chapter in TensorFlow style: GradientTape, persistent tapes, stopGradient.
import { np, NDArray, GradientTape, stopGradient } from "adc";
import { cell } from "./cells.js";

const x = np.arange(4);
cell("003.1", "x = np.arange(4)", x, "<tf.Tensor: shape=(4,), numpy=array([0., 1., 2., 3.])>", [0, 1, 2, 3]);

let y!: NDArray;
let t = new GradientTape();
t.record(() => {
  y = np.mul(2, np.dot(x, x));
});
cell("003.2", "t.record(() => { y = 2 * np.dot(x, x) }); y", y, "<tf.Tensor: shape=(), numpy=28.0>", 28);

const xGrad = t.gradient(y, x);
cell("003.3", "x_grad = t.gradient(y, x)", xGrad, "<tf.Tensor: shape=(4,), numpy=array([ 0., 4., 8., 12.])>", [0, 4, 8, 12]);
cell("003.4", "x_grad == 4 * x", np.equal(xGrad, np.mul(4, x)), "numpy=array([ True, True, True, True])", [true, true, true, true]);

t = new GradientTape();
t.record(() => {
  y = np.sum(x);
});
cell("003.5", "t.record(() => { y = np.sum(x) }); t.gradient(y, x)", t.gradient(y, x), "numpy=array([1., 1., 1., 1.])", [1, 1, 1, 1]);

t = new GradientTape();
t.record(() => {
  y = np.mul(x, x);
});
cell("003.6", "t.record(() => { y = x * x }); t.gradient(y, x)", t.gradient(y, x), "numpy=array([0., 2., 4., 6.])", [0, 2, 4, 6]);

// A persistent tape can be asked for gradients more than once.
let u!: NDArray, z!: NDArray;
t = new GradientTape({ persistent: true });
t.record(() => {
  y = np.mul(x, x);
  u = stopGradient(y);
  z = np.mul(u, x);
});
const zGrad = t.gradient(z, x);
cell("003.7", "u = stopGradient(y); z = u * x; t.gradient(z, x) == u", np.equal(zGrad, u), "numpy=array([ True, True, True, True])", [true, true, true, true]);
cell("003.8", "t.gradient(y, x) == 2 * x", np.equal(t.gradient(y, x), np.mul(2, x)), "numpy=array([ True, True, True, True])", [true, true, true, true]);

function f(a: NDArray): NDArray {
  let b = np.mul(a, 2);
  while (np.linalg.norm(b).item() < 1000) b = np.mul(b, 2);
  let c: NDArray;
  if (np.sum(b).item() > 0) c = b;
  else c = np.mul(100, b);
  return c;
}

np.random.seed(4);
const a = np.random.normal();
let d!: NDArray;
t = new GradientTape();
t.record(() => {
  d = f(a);
});
const dGrad = t.gradient(d, a);
cell("003.9", "t.record(() => { d = f(a) }); d_grad = t.gradient(d, a)", dGrad, "<tf.Tensor: shape=(), numpy=409600.0> (a is random)");
// f(a) = k a for a k that depends on a; d / a is k up to one rounding of 100 * b, so compare closely.
cell("003.10", "d_grad == d / a (to rounding)", np.allclose(dGrad, np.div(d, a), 1e-12, 0), "<tf.Tensor: shape=(), dtype=bool, numpy=True>", true);
