// Exercise 2: run y.backward() twice. The first backward frees the graph it went through, so the
// second is an error that says how to keep it; with { retainGraph: true } both work.
import { np, NDArray, record } from "adc";
import { cell } from "../cells.js";

const x = np.arange(4);
x.attachGrad();
let y!: NDArray;
record(() => {
  y = np.mul(2, np.dot(x, x));
});
y.backward();
let message = "no error";
try {
  y.backward();
} catch (e) {
  message = (e as Error).message;
}
cell("ex2.1", "y.backward(); y.backward()", message, "an error: the graph was freed (MXNet asks for retain_graph=True)", message);

record(() => {
  y = np.mul(2, np.dot(x, x));
});
y.backward(null, { retainGraph: true });
y.backward();
cell("ex2.2", "y.backward(null, { retainGraph: true }); y.backward(); x.grad", x.grad, "array([ 0.,  4.,  8., 12.])", [0, 4, 8, 12]);
