// D2L "Linear Regression Implementation from Scratch", MXNet style: the synthetic data
// y = Xw + b + noise (true_w = [2, -3.4], true_b = 4.2), then minibatch SGD with attachGrad,
// record, backward and an in-place update of w and b. Prints the loss per epoch and the error in
// w and b, as the book does.
//
// MXNet's in-place `param[:] = param - lr * param.grad / batch_size` is `param.assign(...)`, which
// keeps the array and its attached gradient.
import { np, NDArray, record } from "adc";
import { dataIter, gradCheck, plain, report, show } from "./d2l.js";

function syntheticData(w: NDArray, b: number, numExamples: number): [NDArray, NDArray] {
  const X = np.random.normal(0, 1, [numExamples, w.size]);
  let y = np.add(np.dot(X, w), b);
  y = np.add(y, np.random.normal(0, 0.01, y.shape));
  return [X, y.reshape([-1, 1])];
}

np.random.seed(42);
const trueW = np.array([2, -3.4]);
const trueB = 4.2;
const [features, labels] = syntheticData(trueW, trueB, 1000);
console.log(`features[0]: ${show(features.get(0))}, label: ${show(labels.get(0))}`);

const w = np.random.normal(0, 0.01, [2, 1]);
const b = np.zeros([1]);
w.attachGrad();
b.attachGrad();

function linreg(X: NDArray, w: NDArray, b: NDArray): NDArray {
  return np.add(np.dot(X, w), b);
}

function squaredLoss(yHat: NDArray, y: NDArray): NDArray {
  return np.div(np.square(np.sub(yHat, y.reshape(yHat.shape))), 2);
}

// The book's names for the model and the loss.
const net = linreg;
const loss = squaredLoss;

function sgd(params: NDArray[], lr: number, batchSize: number): void {
  for (const param of params) param.assign(np.sub(param, np.div(np.mul(lr, param.grad), batchSize)));
}

const lr = 0.03;
const numEpochs = 3;
const batchSize = 10;

let step = 0;
for (let epoch = 0; epoch < numEpochs; epoch++) {
  for (const [X, y] of dataIter(batchSize, features, labels)) {
    let l!: NDArray;
    record(() => {
      l = loss(net(X, w, b), y);
    });
    l.backward();
    if (step++ === 0) {
      // The first minibatch's gradient (of the summed loss) against finite differences.
      const err = gradCheck((p) => squaredLoss(linreg(X, p.w, p.b), y).sum().item(), { w, b }, { w: w.grad, b: b.grad });
      report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
      sgd([w, b], lr, batchSize);
      report("firstStep", plain({ w, b }), `after the first step: w = ${show(w)}, b = ${show(b)}`);
    } else sgd([w, b], lr, batchSize);
  }
  const trainL = squaredLoss(linreg(features, w, b), labels);
  report("loss", trainL.mean().item(), `epoch ${epoch + 1}, loss ${trainL.mean().item().toFixed(6)}`);
}
const errW = np.sub(trueW, w.reshape(trueW.shape));
const errB = trueB - b.item();
report("errorW", errW.toArray(), `error in estimating w: ${show(errW)}`);
report("errorB", errB, `error in estimating b: ${errB.toPrecision(4)}`);
