// D2L "Object-Oriented Design for Implementation" and "Linear Regression Implementation from
// Scratch" with classes, JAX style: the model is an object of a Module subclass, and
// valueAndGrad((m, X, y) => m.trainingStep(X, y)) gives the loss and a gradient that is itself a
// LinearRegressionScratch (its fields are the gradients of the model's fields, as a JAX pytree);
// each SGD step makes a new model. Same data, seed and updates as oo-linear-regression-mxnet.ts.
import { np, NDArray, valueAndGrad } from "adc";
import { dataIter, gradCheck, plain, report, show } from "./d2l.js";

/** The book's d2l.Module: a model computes its output (forward) and its loss. */
class Module {
  forward(X: NDArray): NDArray {
    throw new Error("forward is not implemented");
  }
  loss(yHat: NDArray, y: NDArray): NDArray {
    throw new Error("loss is not implemented");
  }
  trainingStep(X: NDArray, y: NDArray): NDArray {
    return this.loss(this.forward(X), y);
  }
}

class LinearRegressionScratch extends Module {
  constructor(public w: NDArray, public b: NDArray) {
    super();
  }
  static init(numInputs: number, sigma = 0.01): LinearRegressionScratch {
    return new LinearRegressionScratch(np.random.normal(0, sigma, [numInputs, 1]), np.zeros([1]));
  }
  forward(X: NDArray): NDArray {
    return np.add(np.dot(X, this.w), this.b);
  }
  loss(yHat: NDArray, y: NDArray): NDArray {
    return np.div(np.square(np.sub(yHat, y.reshape(yHat.shape))), 2).mean();
  }
  /** One SGD step: a new model. */
  sgd(grads: LinearRegressionScratch, lr: number): LinearRegressionScratch {
    return new LinearRegressionScratch(np.sub(this.w, np.mul(lr, grads.w)), np.sub(this.b, np.mul(lr, grads.b)));
  }
}

/** The book's SyntheticRegressionData: y = Xw + b + noise. */
class SyntheticRegressionData {
  X: NDArray;
  y: NDArray;
  constructor(w: NDArray, b: number, noise = 0.01, numExamples = 1000) {
    this.X = np.random.normal(0, 1, [numExamples, w.size]);
    const clean = np.add(np.dot(this.X, w), b);
    this.y = np.add(clean, np.random.normal(0, noise, clean.shape)).reshape([-1, 1]);
  }
}

np.random.seed(42);
const trueW = np.array([2, -3.4]);
const trueB = 4.2;
const data = new SyntheticRegressionData(trueW, trueB);
console.log(`features[0]: ${show(data.X.get(0))}, label: ${show(data.y.get(0))}`);

const lossAndGrad = valueAndGrad((m: LinearRegressionScratch, X: NDArray, y: NDArray) => m.trainingStep(X, y));
let model = LinearRegressionScratch.init(2);
let step = 0;
for (let epoch = 0; epoch < 3; epoch++) {
  for (const [X, y] of dataIter(10, data.X, data.y)) {
    const [, grads] = lossAndGrad(model, X, y);
    if (step++ === 0) {
      const lossAt = (p: { w: NDArray; b: NDArray }): number => new LinearRegressionScratch(p.w, p.b).trainingStep(X, y).item();
      const err = gradCheck(lossAt, { w: model.w, b: model.b }, { w: grads.w, b: grads.b });
      report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
      model = model.sgd(grads, 0.03);
      report("firstStep", plain({ w: model.w, b: model.b }), `after the first step: w = ${show(model.w)}, b = ${show(model.b)}`);
    } else model = model.sgd(grads, 0.03);
  }
  const l = model.trainingStep(data.X, data.y).item();
  report("loss", l, `epoch ${epoch + 1}, loss ${l.toFixed(6)}`);
}
const errW = np.sub(trueW, model.w.reshape(trueW.shape));
const errB = trueB - model.b.item();
report("errorW", errW.toArray(), `error in estimating w: ${show(errW)}`);
report("errorB", errB, `error in estimating b: ${errB.toPrecision(4)}`);
