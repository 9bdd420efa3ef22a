// Seed 002, the long MXNet version: non-scalar backward, detach, attachGrad inside record (which
// detaches), control flow, training and prediction mode.
import { np, NDArray, record, isTraining } from "adc";
import { cell, note } from "./cells.js";

const x = np.arange(4);
cell("002.1", "x = np.arange(4)", x, "array([0., 1., 2., 3.])", [0, 1, 2, 3]);

x.attachGrad();
cell("002.2", "x.attachGrad(); x.grad", x.grad, "array([0., 0., 0., 0.])", [0, 0, 0, 0]);

let y!: NDArray;
record(() => {
  y = np.mul(2, np.dot(x, x));
});
y.backward();
cell("002.3", "record(() => { y = 2 * np.dot(x, x) }); y.backward(); x.grad", x.grad, "array([ 0.,  4.,  8., 12.])", [0, 4, 8, 12]);
cell("002.4", "x.grad == 4 * x", np.equal(x.grad, np.mul(4, x)), "array([ True,  True,  True,  True])", [true, true, true, true]);

record(() => {
  y = x.sum();
});
y.backward();
cell("002.5", "record(() => { y = x.sum() }); y.backward(); x.grad", x.grad, "array([1., 1., 1., 1.])", [1, 1, 1, 1]);

// Backward for non-scalar variables: y.backward() means y.sum().backward().
record(() => {
  y = np.mul(x, x);
});
y.backward();
const u0 = x.copy();
u0.attachGrad();
let v!: NDArray;
record(() => {
  v = np.mul(u0, u0).sum();
});
v.backward();
cell("002.6", "y = x * x; y.backward(); u = x.copy(); v = (u * u).sum(); v.backward(); x.grad == u.grad", np.equal(x.grad, u0.grad), "array([ True,  True,  True,  True])", [true, true, true, true]);

// Detaching computation.
let u!: NDArray, z!: NDArray;
record(() => {
  y = np.mul(x, x);
  u = y.detach();
  z = np.mul(u, x);
});
z.backward();
cell("002.7", "u = y.detach(); z = u * x; z.backward(); x.grad == u", np.equal(x.grad, u), "array([ True,  True,  True,  True])", [true, true, true, true]);
y.backward();
cell("002.8", "y.backward(); x.grad == 2 * x", np.equal(x.grad, np.mul(2, x)), "array([ True,  True,  True,  True])", [true, true, true, true]);

// Attaching a gradient inside record implicitly detaches.
const yy = np.mul(np.ones(4), 2);
yy.attachGrad();
record(() => {
  u = np.mul(x, yy);
  u.attachGrad(); // implicitly u = u.detach()
  z = np.sub(np.mul(5, u), x);
});
z.backward();
cell("002.9", "u = x * y; u.attachGrad(); z = 5 * u - x; z.backward(); x.grad, u.grad, y.grad", [x.grad, u.grad, yy.grad], "(array([-1., -1., -1., -1.]), array([5., 5., 5., 5.]), array([0., 0., 0., 0.]))", [[-1, -1, -1, -1], [5, 5, 5, 5], [0, 0, 0, 0]]);

// Control flow.
function f(a: NDArray): NDArray {
  let b = np.mul(a, 2);
  while (np.linalg.norm(b).item() < 1000) b = np.mul(b, 2);
  let c: NDArray;
  if (np.sum(b).item() > 0) c = b;
  else c = np.mul(100, b);
  return c;
}
np.random.seed(3);
const a = np.random.normal();
a.attachGrad();
let d!: NDArray;
record(() => {
  d = f(a);
});
d.backward();
note("002.10", "a = np.random.normal(); record(() => { d = f(a) }); d.backward()");
// f(a) = k a for a k that depends on a; d / a is k up to one rounding of 100 * b, so compare closely.
cell("002.11", "a.grad == d / a (to rounding)", np.allclose(a.grad, np.div(d, a), 1e-12, 0), "True (f is piecewise linear)", true);

// Training mode and prediction mode.
cell("002.12", "isTraining()", isTraining(), "False", false);
let inside = false;
record(() => {
  inside = isTraining();
});
cell("002.13", "record(() => { isTraining() })", inside, "True", true);
