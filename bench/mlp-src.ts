// The NDArray issue's benchmark model: a two-layer MLP's loss (784 -> 128 -> 10, tanh, softmax
// cross-entropy), written with adc's np, over an object of parameters.
import { grad, np, NDArray } from "adc";

export type Params = { w1: NDArray; b1: NDArray; w2: NDArray; b2: NDArray };

export function loss(p: Params, X: NDArray, Y: NDArray): number {
  const h = np.tanh(np.add(np.matmul(X, p.w1), p.b1));
  const z = np.add(np.matmul(h, p.w2), p.b2);
  const m = np.max(z, 1, true);
  const shifted = np.sub(z, m);
  const logp = np.sub(shifted, np.log(np.sum(np.exp(shifted), 1, true)));
  return -np.mean(np.sum(np.mul(Y, logp), 1)).item();
}

export const dloss = grad(loss);
export { np };
