// Seed 004, the MXNet slides: a column vector, is_training, control flow, head gradients.
import { np, NDArray, record, isTraining } from "adc";
import { cell, note } from "./cells.js";

const x = np.reshape(np.arange(4), [4, 1]);
cell("004.1", "x = np.reshape(np.arange(4), [4, 1])", x, "[[0.] [1.] [2.] [3.]] <NDArray 4x1>", [[0], [1], [2], [3]]);

x.attachGrad();
cell("004.2", "x.attachGrad(); x.grad", x.grad, "[[0.] [0.] [0.] [0.]] <NDArray 4x1>", [[0], [0], [0], [0]]);

let y!: NDArray;
record(() => {
  y = np.mul(2, np.dot(x.T, x));
});
cell("004.3", "record(() => { y = 2 * np.dot(x.T, x) }); y", y, "[[28.]] <NDArray 1x1>", [[28]]);

y.backward();
note("004.4", "y.backward()");
cell("004.5", "(x.grad - 4 * x).norm().item() === 0; x.grad", [np.linalg.norm(np.sub(x.grad, np.mul(4, x))).item() === 0, x.grad], "True [[ 0.] [ 4.] [ 8.] [12.]]", [true, [[0], [4], [8], [12]]]);

// y.backward() equals y.sum().backward().
record(() => {
  y = np.mul(np.mul(2, x), x);
});
const shape = `(${y.shape.join(", ")})`;
y.backward();
cell("004.6", "record(() => { y = 2 * x * x }); y.shape; y.backward(); x.grad", [shape, x.grad], "(4, 1) [[ 0.] [ 4.] [ 8.] [12.]]", ["(4, 1)", [[0], [4], [8], [12]]]);

// Training mode and prediction mode.
const outside = isTraining();
let inside = false;
record(() => {
  inside = isTraining();
});
cell("004.7", "isTraining(); record(() => { isTraining() })", [outside, inside], "False True", [false, true]);

function f(a: NDArray): NDArray {
  let b = np.mul(a, 2);
  while (b.norm().item() < 1000) b = np.mul(b, 2);
  let c: NDArray;
  if (b.sum().item() > 0) c = b;
  else c = np.mul(100, b);
  return c;
}

np.random.seed(5);
const a = np.random.normal(0, 1, [1]);
a.attachGrad();
let d!: NDArray;
record(() => {
  d = f(a);
});
d.backward();
// f(a) = k a for a k that depends on a; d / a is k up to one rounding of 100 * b, so compare closely.
cell("004.8", "a = np.random.normal(0, 1, [1]); record(() => { d = f(a) }); d.backward(); a.grad == d / a (to rounding)", np.allclose(a.grad, np.div(d, a), 1e-12, 0), "[1.] <NDArray 1>", true);

// Head gradients: break the chain rule by hand, then pass dz/dy as y's head gradient.
record(() => {
  y = np.mul(x, 2);
});
y.attachGrad();
let z!: NDArray;
record(() => {
  z = np.mul(y, x);
});
z.backward(); // y.grad = dz/dy
y.backward(y.grad); // x.grad = dz/dy * dy/dx
cell("004.9", "y = x * 2; y.attachGrad(); z = y * x; z.backward(); y.backward(y.grad); x.grad == 2 * x", np.equal(x.grad, np.mul(2, x)), "[[1.] [1.] [1.] [1.]] <NDArray 4x1>", [[true], [true], [true], [true]]);
