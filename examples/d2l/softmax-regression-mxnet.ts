// D2L "Implementation of Softmax Regression from Scratch", MXNet style, on Gaussian blobs
// (10 classes in 20 dimensions, d2l.ts) instead of Fashion-MNIST: softmax and cross-entropy
// written from np operations, W and b with attached gradients, record, backward and SGD.
// Prints the loss and accuracies per epoch and the final test accuracy.
//
// Departs from the book where adc falls short: the book's net(X) reads the global W and b; a record
// block's inputs are what the block itself reads, so written that way the block stops with an
// error (W has a gradient attached but only a called function reads it). net therefore takes W
// and b as arguments. sgd updates in place with param.assign(...), MXNet's `param[:] = ...`.
import { np, NDArray, record } from "adc";
import { accuracy, blobs, dataIter, gradCheck, report } from "./d2l.js";

np.random.seed(7);
const numInputs = 20;
const numOutputs = 10;
const { train, test } = blobs(numOutputs, numInputs, 100, 50, 1);

const W = np.random.normal(0, 0.01, [numInputs, numOutputs]);
const b = np.zeros([numOutputs]);
W.attachGrad();
b.attachGrad();

function softmax(X: NDArray): NDArray {
  const XExp = np.exp(X);
  const partition = XExp.sum(1, true);
  return np.div(XExp, partition); // broadcasting
}

function net(X: NDArray, W: NDArray, b: NDArray): NDArray {
  return softmax(np.add(np.dot(X.reshape([-1, W.shape[0]]), W), b));
}

/** -log of the probability each row gives its label: the book's -log(y_hat[range(n), y]). */
function crossEntropy(yHat: NDArray, y: NDArray): NDArray {
  return np.neg(np.log(np.pick(yHat, y)));
}

function sgd(params: NDArray[], lr: number, batchSize: number): void {
  for (const param of params) param.assign(np.sub(param, np.div(np.mul(lr, param.grad), batchSize)));
}

const lr = 0.1;
const numEpochs = 10;
const batchSize = 50;
let step = 0;
for (let epoch = 0; epoch < numEpochs; epoch++) {
  let lossSum = 0;
  for (const [X, y] of dataIter(batchSize, ...train)) {
    let l!: NDArray;
    record(() => {
      const yHat = net(X, W, b);
      l = crossEntropy(yHat, y);
    });
    l.backward();
    if (step++ === 0) {
      const err = gradCheck((p) => crossEntropy(net(X, p.W, p.b), y).sum().item(), { W, b }, { W: W.grad, b: b.grad });
      report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
    }
    sgd([W, b], lr, X.shape[0]);
    lossSum += l.sum().item();
  }
  const trainAcc = accuracy(net(train[0], W, b), train[1]);
  const testAcc = accuracy(net(test[0], W, b), test[1]);
  report("loss", lossSum / train[1].size, `epoch ${epoch + 1}, loss ${(lossSum / train[1].size).toFixed(4)}, train acc ${trainAcc.toFixed(3)}, test acc ${testAcc.toFixed(3)}`);
}
report("testAccuracy", accuracy(net(test[0], W, b), test[1]), `test accuracy ${accuracy(net(test[0], W, b), test[1]).toFixed(3)} (chance: ${(1 / numOutputs).toFixed(2)})`);
