// D2L "Linear Regression Implementation from Scratch", JAX style: the same synthetic data and
// minibatches as linear-regression-mxnet.ts (same seed), but the parameters are an object
// { w, b }, valueAndGrad(loss)(params, X, y) gives the loss and a gradient of the same shape, and
// each SGD step makes new parameters. Prints the loss per epoch and the error in w and b.
import { np, NDArray, valueAndGrad } from "adc";
import { dataIter, gradCheck, plain, report, show } from "./d2l.js";

type Params = { w: NDArray; b: NDArray };

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

function linreg(X: NDArray, w: NDArray, b: NDArray): NDArray {
  return np.add(np.dot(X, w), b);
}

function squaredLoss(yHat: NDArray, y: NDArray): NDArray {
  return np.div(np.square(np.sub(yHat, y.reshape(yHat.shape))), 2);
}

/** The minibatch's mean loss: a number, so valueAndGrad applies. */
function loss(params: Params, X: NDArray, y: NDArray): number {
  return squaredLoss(linreg(X, params.w, params.b), y).mean().item();
}

function sgd(params: Params, grads: Params, lr: number): Params {
  return { w: np.sub(params.w, np.mul(lr, grads.w)), b: np.sub(params.b, np.mul(lr, grads.b)) };
}

const lr = 0.03;
const numEpochs = 3;
const batchSize = 10;
let params: Params = { w: np.random.normal(0, 0.01, [2, 1]), b: np.zeros([1]) };
const lossAndGrad = valueAndGrad(loss);

let step = 0;
for (let epoch = 0; epoch < numEpochs; epoch++) {
  for (const [X, y] of dataIter(batchSize, features, labels)) {
    const [, grads] = lossAndGrad(params, X, y);
    if (step++ === 0) {
      const err = gradCheck((p) => loss(p, X, y), params, grads);
      report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
      params = sgd(params, grads, lr);
      report("firstStep", plain(params), `after the first step: w = ${show(params.w)}, b = ${show(params.b)}`);
    } else params = sgd(params, grads, lr);
  }
  report("loss", loss(params, features, labels), `epoch ${epoch + 1}, loss ${loss(params, features, labels).toFixed(6)}`);
}
const errW = np.sub(trueW, params.w.reshape(trueW.shape));
const errB = trueB - params.b.item();
report("errorW", errW.toArray(), `error in estimating w: ${show(errW)}`);
report("errorB", errB, `error in estimating b: ${errB.toPrecision(4)}`);
