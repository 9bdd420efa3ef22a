// D2L "Implementation of Multilayer Perceptrons from Scratch", MXNet style, on the Gaussian blobs
// of the softmax programs (10 classes in 20 dimensions): one hidden layer of 64 relu units,
// cross-entropy from np operations (log-sum-exp minus the label's score), attachGrad, record,
// backward and SGD. Prints the loss and accuracies per epoch and the final test accuracy.
//
// Departs from the book where adc falls short (see softmax-regression-mxnet.ts): net takes the
// parameters as an argument, since a record block does not differentiate attached arrays that
// only a called function reads (it stops with an error); sgd updates with param.assign(...).
import { np, NDArray, record } from "adc";
import { accuracy, blobs, dataIter, gradCheck, report } from "./d2l.js";

np.random.seed(7);
const numInputs = 20;
const numOutputs = 10;
const numHiddens = 64;
const { train, test } = blobs(numOutputs, numInputs, 100, 50, 1);

const W1 = np.random.normal(0, 0.1, [numInputs, numHiddens]);
const b1 = np.zeros([numHiddens]);
const W2 = np.random.normal(0, 0.1, [numHiddens, numOutputs]);
const b2 = np.zeros([numOutputs]);
const params = [W1, b1, W2, b2];
for (const param of params) param.attachGrad();

function relu(X: NDArray): NDArray {
  return np.maximum(X, 0);
}

function net(X: NDArray, params: NDArray[]): NDArray {
  const [W1, b1, W2, b2] = params;
  X = X.reshape([-1, numInputs]);
  const H = relu(np.add(np.dot(X, W1), b1));
  return np.add(np.dot(H, W2), b2);
}

/** Softmax cross-entropy from the scores: log(sum(exp(o))) - o[label], per row. */
function crossEntropy(O: NDArray, y: NDArray): NDArray {
  return np.sub(np.logsumexp(O, 1), np.pick(O, y));
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
      l = crossEntropy(net(X, params), y);
    });
    l.backward();
    if (step++ === 0) {
      const err = gradCheck(
        (p) => crossEntropy(net(X, [p.W1, p.b1, p.W2, p.b2]), y).sum().item(),
        { W1, b1, W2, b2 },
        { W1: W1.grad, b1: b1.grad, W2: W2.grad, b2: b2.grad },
      );
      report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
    }
    sgd(params, lr, X.shape[0]);
    lossSum += l.sum().item();
  }
  const trainAcc = accuracy(net(train[0], params), train[1]);
  const testAcc = accuracy(net(test[0], params), test[1]);
  report("loss", lossSum / train[1].size, `epoch ${epoch + 1}, loss ${(lossSum / train[1].size).toFixed(4)}, train acc ${trainAcc.toFixed(3)}, test acc ${testAcc.toFixed(3)}`);
}
report("testAccuracy", accuracy(net(test[0], params), test[1]), `test accuracy ${accuracy(net(test[0], params), test[1]).toFixed(3)} (chance: ${(1 / numOutputs).toFixed(2)})`);
