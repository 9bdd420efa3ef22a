// Seed 000, "Tracking gradients", MXNet style: attachGrad, record, backward, detach, control flow.
import { np, NDArray, record } from "adc";
import { cell, note } from "./cells.js";

const x = np.arange(4);
cell("000.1", "x = np.arange(4)", x, "array([0., 1., 2., 3.])", [0, 1, 2, 3]);

x.attachGrad();
cell("000.2", "x.attachGrad(); x.grad", x.grad, "array([0., 0., 0., 0.])", [0, 0, 0, 0]);

let y!: NDArray;
record(() => {
  y = np.mul(2, np.dot(x, x));
});
cell("000.3", "record(() => { y = 2 * np.dot(x, x) }); y", y, "28", 28);

y.backward();
cell("000.4", "y.backward(); x.grad", x.grad, "array([ 0.,  4.,  8., 12.])", [0, 4, 8, 12]);
cell("000.5", "x.grad == 4 * x", np.equal(x.grad, np.mul(4, x)), "array([ True,  True,  True,  True])", [true, true, true, true]);

record(() => {
  y = x.sum();
});
y.backward();
cell("000.6", "record(() => { y = x.sum() }); y.backward(); x.grad", x.grad, "array([1., 1., 1., 1.])", [1, 1, 1, 1]);

record(() => {
  y = np.mul(x, x);
});
y.backward();
cell("000.7", "record(() => { y = x * x }); y.backward(); x.grad", x.grad, "array([0., 2., 4., 6.])", [0, 2, 4, 6]);

let u!: NDArray, z!: NDArray;
record(() => {
  y = np.mul(x, x);
  u = y.detach();
  z = np.mul(u, x);
});
z.backward();
cell("000.8", "u = y.detach(); z = u * x; z.backward(); x.grad == u", np.equal(x.grad, u), "array([ True,  True,  True,  True])", [true, true, true, true]);

y.backward();
cell("000.9", "y.backward(); x.grad == 2 * x", np.equal(x.grad, np.mul(2, x)), "array([ True,  True,  True,  True])", [true, true, true, true]);

function f(a: NDArray): NDArray {
  let b = np.mul(a, 2);
  while (np.linalg.norm(b).item() < 1000) b = np.mul(b, 2);
  let c: NDArray;
  if (np.sum(b).item() > 0) c = b;
  else c = np.mul(100, b);
  return c;
}

np.random.seed(2);
const a = np.random.normal();
a.attachGrad();
let d!: NDArray;
record(() => {
  d = f(a);
});
d.backward();
note("000.10", "a = np.random.normal(); a.attachGrad(); record(() => { d = f(a) }); d.backward()");
// f(a) = k a for a k that depends on a; d / a is k up to one rounding of 100 * b, so compare closely.
cell("000.11", "a.grad == d / a (to rounding)", np.allclose(a.grad, np.div(d, a), 1e-12, 0), "True (f is piecewise linear)", true);
