// Exercise 3: the control-flow f with a vector and a matrix input. f(a) is no longer a scalar:
// backward() then means d.sum().backward(), and since f multiplies the whole input by one
// data-dependent scalar k (f(a) = k a), every element of a.grad is that k, which is d / a.
import { np, NDArray, record } from "adc";
import { cell } from "../cells.js";

function f(a: NDArray): NDArray {
  let b = np.mul(a, 2);
  while (np.linalg.norm(b).item() < 1000) b = np.mul(b, 2);
  let c: NDArray;
  if (np.sum(b).item() > 0) c = b;
  else c = np.mul(100, b);
  return c;
}

np.random.seed(6);
for (const [name, shape] of [["vector", [3]], ["matrix", [2, 3]]] as const) {
  const a = np.random.normal(0, 1, [...shape]);
  a.attachGrad();
  let d!: NDArray;
  record(() => {
    d = f(a);
  });
  d.backward();
  const allEqual = np.allclose(a.grad, np.div(d, a), 1e-12, 0);
  cell(`ex3.${name}`, `a: ${name} of shape [${shape.join(", ")}]; d = f(a); d.backward(); a.grad == d / a (all elements)`, allEqual, "True", true);
}
