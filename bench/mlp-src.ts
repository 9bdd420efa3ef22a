// The MLP benchmark's model (issue 17): one training step of a two-layer MLP (784 -> hidden ->
// 10, relu, softmax cross-entropy on one-hot labels, SGD), written twice with adc's np, as
// examples/d2l/mlp-jax.ts and examples/d2l/mlp-mxnet.ts write it:
//
// - JAX style: valueAndGrad of the mean loss over a parameter object { W1, b1, W2, b2 }, then a
//   functional SGD step that returns new parameters;
// - MXNet style: parameters with gradients attached (attachGrad, by the caller), a record block
//   computing the per-example losses, l.backward() (the gradient of their sum), then an in-place
//   SGD step with param.assign(param - lr / batch * param.grad).
//
// Both compute the same update: the mean over the batch of the cross-entropy, and lr times its
// gradient.
import { np, NDArray, record, valueAndGrad } from "adc";

export type Params = { W1: NDArray; b1: NDArray; W2: NDArray; b2: NDArray };

/** Per-example softmax cross-entropy of the scores O against one-hot labels Y. */
function crossEntropy(O: NDArray, Y: NDArray): NDArray {
  return np.neg(np.sum(np.mul(Y, np.logSoftmax(O, 1)), 1));
}

// ---- JAX style ----

function net(p: Params, X: NDArray): NDArray {
  const H = np.relu(np.add(np.matmul(X, p.W1), p.b1));
  return np.add(np.matmul(H, p.W2), p.b2);
}

export function loss(p: Params, X: NDArray, Y: NDArray): number {
  return np.mean(crossEntropy(net(p, X), Y)).item();
}

const lossAndGrad = valueAndGrad(loss);

/** One step: [the loss before the step, the updated parameters]. */
export function jaxStep(p: Params, X: NDArray, Y: NDArray, lr: number): [number, Params] {
  const [l, g] = lossAndGrad(p, X, Y);
  const step = (k: keyof Params): NDArray => np.sub(p[k], np.mul(lr, g[k]));
  return [l, { W1: step("W1"), b1: step("b1"), W2: step("W2"), b2: step("b2") }];
}

// ---- MXNet style ----

function netList(X: NDArray, params: NDArray[]): NDArray {
  const [W1, b1, W2, b2] = params;
  const H = np.relu(np.add(np.matmul(X, W1), b1));
  return np.add(np.matmul(H, W2), b2);
}

/**
 * One step on params = [W1, b1, W2, b2] (each with a gradient attached), updated in place.
 * Returns the per-example losses before the step.
 */
export function mxnetStep(params: NDArray[], X: NDArray, Y: NDArray, lr: number): NDArray {
  let l!: NDArray;
  record(() => {
    l = crossEntropy(netList(X, params), Y);
  });
  l.backward();
  const scale = lr / X.shape[0];
  for (const param of params) param.assign(np.sub(param, np.mul(scale, param.grad)));
  return l;
}

export { np };
