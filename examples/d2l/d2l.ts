// What the d2l programs share, as the book's `d2l` package: minibatches, the Gaussian blobs that
// stand in for Fashion-MNIST, accuracy, printing, and a finite-difference check of a gradient.
// With ADC_D2L_JSON set, every reported value is also printed as one JSON line that
// test/d2l.test.ts reads.
import { np, NDArray } from "adc";

/** Shuffled minibatches of (features, labels), the book's data_iter. */
export function* dataIter(batchSize: number, features: NDArray, labels: NDArray): Generator<[NDArray, NDArray]> {
  const numExamples = features.shape[0];
  const indices = np.random.permutation(numExamples);
  for (let i = 0; i < numExamples; i += batchSize) {
    const batch = indices.slice([i], [Math.min(i + batchSize, numExamples)]);
    yield [features.get(batch), labels.get(batch)];
  }
}

/**
 * Gaussian blobs in place of Fashion-MNIST: `numClasses` centers in `dim` dimensions (entries
 * N(0, spread^2)), and around them `trainPerClass` training and `testPerClass` test points per
 * class (N(center, I)), each set shuffled. Labels are class numbers (float64), as pick and oneHot
 * take them.
 */
export function blobs(numClasses: number, dim: number, trainPerClass: number, testPerClass: number, spread: number): { train: [NDArray, NDArray]; test: [NDArray, NDArray] } {
  const centers = np.random.normal(0, spread, [numClasses, dim]);
  const draw = (perClass: number): [NDArray, NDArray] => {
    const labels = np.random.permutation(np.array(Array.from({ length: numClasses * perClass }, (_, i) => Math.floor(i / perClass))));
    return [np.add(centers.take(labels, 0), np.random.normal(0, 1, [labels.size, dim])), labels];
  };
  return { train: draw(trainPerClass), test: draw(testPerClass) };
}

/** The fraction of rows of yHat whose largest entry is at the label. */
export function accuracy(yHat: NDArray, y: NDArray): number {
  return np.equal(yHat.argmax(1), y).astype("float64").mean().item();
}

/** Prints `text`, and `value` as a JSON line under `key` when ADC_D2L_JSON is set. */
export function report(key: string, value: unknown, text: string): void {
  console.log(text);
  if (process.env.ADC_D2L_JSON) console.log(`@d2l ${JSON.stringify({ key, value })}`);
}

/** An array's entries as a short list, e.g. "[0.0003594, -0.0006395]". */
export function show(x: NDArray): string {
  return `[${Array.from(x.data, (v) => v.toPrecision(4)).join(", ")}]`;
}

/** A parameter object's arrays as plain nested lists (to print or compare). */
export function plain<P extends { [k: string]: NDArray }>(params: P): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.toArray()]));
}

/**
 * The largest difference between `grads` and central differences of `loss`, relative to the
 * largest gradient entry, over every entry of every parameter (every k-th of a large one, to keep
 * about `perArray` per array). `loss` gets copies of the parameters.
 */
export function gradCheck<P extends { [k: string]: NDArray }>(loss: (params: P) => number, params: P, grads: P, eps = 1e-6, perArray = 100): number {
  const copies = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.copy()])) as P;
  let worst = 0;
  let scale = 0;
  for (const k of Object.keys(params)) {
    const d = copies[k].data;
    for (let i = 0; i < d.length; i += Math.ceil(d.length / perArray)) {
      const x = d[i];
      d[i] = x + eps;
      const up = loss(copies);
      d[i] = x - eps;
      const down = loss(copies);
      d[i] = x;
      worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - grads[k].data[i]));
      scale = Math.max(scale, Math.abs(grads[k].data[i]));
    }
  }
  return worst / Math.max(scale, 1e-12);
}
