// D2L "Object-Oriented Design for Implementation" and "Linear Regression Implementation from
// Scratch" with classes, MXNet style: a base Module (forward, loss, trainingStep), the model as a
// subclass whose parameters are fields with gradients attached, an SGD optimizer and a Trainer
// whose fit records model.trainingStep(X, y) and calls backward. Same data, seed and updates as
// oo-linear-regression-jax.ts; prints the loss per epoch and the error in w and b.
//
// adc differentiates the methods as functions of `this`. Inside Module.trainingStep, which
// `forward` runs depends on the object's class: adc sees every subclass of Module in this module
// and chooses among them with instanceof, so the trainer works for any of them.
import { np, NDArray, record } from "adc";
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
  parameters(): NDArray[] {
    return [];
  }
}

class LinearRegressionScratch extends Module {
  w: NDArray;
  b: NDArray;
  constructor(numInputs: number, sigma = 0.01) {
    super();
    this.w = np.random.normal(0, sigma, [numInputs, 1]);
    this.b = np.zeros([1]);
    this.w.attachGrad();
    this.b.attachGrad();
  }
  forward(X: NDArray): NDArray {
    return np.add(np.dot(X, this.w), this.b);
  }
  loss(yHat: NDArray, y: NDArray): NDArray {
    return np.div(np.square(np.sub(yHat, y.reshape(yHat.shape))), 2).mean();
  }
  parameters(): NDArray[] {
    return [this.w, this.b];
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

/** Minibatch SGD, updating the parameters in place (MXNet's `param[:] = param - lr * grad`). */
class SGD {
  constructor(private params: NDArray[], private lr: number) {}
  step(): void {
    for (const p of this.params) p.assign(np.sub(p, np.mul(this.lr, p.grad)));
  }
}

class Trainer {
  constructor(private maxEpochs: number, private batchSize: number) {}
  fit(model: Module, data: SyntheticRegressionData, optim: SGD, firstStep: (X: NDArray, y: NDArray) => void): void {
    let step = 0;
    for (let epoch = 0; epoch < this.maxEpochs; epoch++) {
      for (const [X, y] of dataIter(this.batchSize, data.X, data.y)) {
        let l: NDArray = np.zeros([]);
        record(() => {
          l = model.trainingStep(X, y);
        });
        l.backward();
        if (step++ === 0) firstStep(X, y);
        optim.step();
        if (step === 1) report("firstStep", plain({ w: model.parameters()[0], b: model.parameters()[1] }), `after the first step: w = ${show(model.parameters()[0])}, b = ${show(model.parameters()[1])}`);
      }
      const l = model.trainingStep(data.X, data.y).item();
      report("loss", l, `epoch ${epoch + 1}, loss ${l.toFixed(6)}`);
    }
  }
}

np.random.seed(42);
const trueW = np.array([2, -3.4]);
const trueB = 4.2;
const data = new SyntheticRegressionData(trueW, trueB);
console.log(`features[0]: ${show(data.X.get(0))}, label: ${show(data.y.get(0))}`);

const model = new LinearRegressionScratch(2);
const trainer = new Trainer(3, 10);
trainer.fit(model, data, new SGD(model.parameters(), 0.03), (X, y) => {
  // The first minibatch's gradient against finite differences of the same loss.
  const lossAt = (p: { w: NDArray; b: NDArray }): number => np.div(np.square(np.sub(np.add(np.dot(X, p.w), p.b), y)), 2).mean().item();
  const err = gradCheck(lossAt, { w: model.w, b: model.b }, { w: model.w.grad, b: model.b.grad });
  report("gradCheck", err, `first minibatch: gradient vs finite differences, largest relative error ${err.toExponential(1)}`);
});
const errW = np.sub(trueW, model.w.reshape(trueW.shape));
const errB = trueB - model.b.item();
report("errorW", errW.toArray(), `error in estimating w: ${show(errW)}`);
report("errorB", errB, `error in estimating b: ${errB.toPrecision(4)}`);
