// D2L "Implementation of Multilayer Perceptrons from Scratch", JAX style, on the same Gaussian
// blobs and initial weights as mlp-mxnet.ts (same seed): one hidden layer of 64 relu units, the
// parameters an object { W1, b1, W2, b2 }, valueAndGrad of the mean minibatch cross-entropy and a
// functional SGD step over every field. Prints the loss and accuracies per epoch and the final
// test accuracy.
import { np, NDArray, valueAndGrad } from "adc";
import { accuracy, blobs, dataIter, gradCheck, report } from "./d2l.js";

type Params = { W1: NDArray; b1: NDArray; W2: NDArray; b2: NDArray };

np.random.seed(7);
const numInputs = 20;
const numOutputs = 10;
const numHiddens = 64;
const { train, test } = blobs(numOutputs, numInputs, 100, 50, 1);

function relu(X: NDArray): NDArray {
  return np.maximum(X, 0);
}

function net(params: Params, X: NDArray): NDArray {
  X = X.reshape([-1, numInputs]);
  const H = relu(np.add(np.dot(X, params.W1), params.b1));
  return np.add(np.dot(H, params.W2), params.b2);
}

/** Softmax cross-entropy from the scores: log(sum(exp(o))) - o[label], per row. */
function crossEntropy(O: NDArray, y: NDArray): NDArray {
  return np.sub(np.logsumexp(O, 1), np.pick(O, y));
}

function loss(params: Params, X: NDArray, y: NDArray): number {
  return crossEntropy(net(params, X), y).mean().item();
}

function sgd(params: Params, grads: Params, lr: number): Params {
  const step = (k: keyof Params): NDArray => np.sub(params[k], np.mul(lr, grads[k]));
  return { W1: step("W1"), b1: step("b1"), W2: step("W2"), b2: step("b2") };
}

const lr = 0.1;
const numEpochs = 10;
const batchSize = 50;
let params: Params = {
  W1: np.random.normal(0, 0.1, [numInputs, numHiddens]),
  b1: np.zeros([numHiddens]),
  W2: np.random.normal(0, 0.1, [numHiddens, numOutputs]),
  b2: np.zeros([numOutputs]),
};
const lossAndGrad = valueAndGrad(loss);
let step = 0;
for (let epoch = 0; epoch < numEpochs; epoch++) {
  let lossSum = 0;
  for (const [X, y] of dataIter(batchSize, ...train)) {
    const [l, grads] = lossAndGrad(params, X, y);
    if (step++ === 0) {
      const err = gradCheck((p) => loss(p, X, y), params, grads);
      report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
    }
    params = sgd(params, grads, lr);
    lossSum += l * X.shape[0];
  }
  const trainAcc = accuracy(net(params, train[0]), train[1]);
  const testAcc = accuracy(net(params, test[0]), test[1]);
  report("loss", lossSum / train[1].size, `epoch ${epoch + 1}, loss ${(lossSum / train[1].size).toFixed(4)}, train acc ${trainAcc.toFixed(3)}, test acc ${testAcc.toFixed(3)}`);
}
report("testAccuracy", accuracy(net(params, test[0]), test[1]), `test accuracy ${accuracy(net(params, test[0]), test[1]).toFixed(3)} (chance: ${(1 / numOutputs).toFixed(2)})`);
