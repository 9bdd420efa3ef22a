// D2L "Implementation of Softmax Regression from Scratch", JAX style, on the same Gaussian blobs
// as softmax-regression-mxnet.ts (same seed): softmax and cross-entropy from np operations, the
// parameters an object { W, b }, valueAndGrad of the mean minibatch loss, functional SGD.
// Prints the loss and accuracies per epoch and the final test accuracy.
import { np, NDArray, valueAndGrad } from "adc";
import { accuracy, blobs, dataIter, gradCheck, report } from "./d2l.js";

type Params = { W: NDArray; b: NDArray };

np.random.seed(7);
const numInputs = 20;
const numOutputs = 10;
const { train, test } = blobs(numOutputs, numInputs, 100, 50, 1);

function softmax(X: NDArray): NDArray {
  const XExp = np.exp(X);
  const partition = XExp.sum(1, true);
  return np.div(XExp, partition); // broadcasting
}

function net(params: Params, X: NDArray): NDArray {
  return softmax(np.add(np.dot(X.reshape([-1, params.W.shape[0]]), params.W), params.b));
}

/** -log of the probability each row gives its label: the book's -log(y_hat[range(n), y]). */
function crossEntropy(yHat: NDArray, y: NDArray): NDArray {
  return np.neg(np.log(np.pick(yHat, y)));
}

function loss(params: Params, X: NDArray, y: NDArray): number {
  return crossEntropy(net(params, X), y).mean().item();
}

function sgd(params: Params, grads: Params, lr: number): Params {
  return { W: np.sub(params.W, np.mul(lr, grads.W)), b: np.sub(params.b, np.mul(lr, grads.b)) };
}

const lr = 0.1;
const numEpochs = 10;
const batchSize = 50;
let params: Params = { W: np.random.normal(0, 0.01, [numInputs, numOutputs]), b: np.zeros([numOutputs]) };
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
