// Functions for bench/chapter.ts: the chapter's first example through record/backward, and a
// block of 100 NDArray operations through record/backward and through vjp.
import { np, NDArray, record, vjp } from "adc";

export const x = np.arange(4);
x.attachGrad();

let kept!: NDArray;
/** Records y = 2 x.x once; `backwardOnly` then times y.backward() alone on it. */
export function recordFirst(): void {
  record(() => {
    kept = np.mul(2, np.dot(x, x));
  });
}
export function backwardOnly(): void {
  kept.backward(null, { retainGraph: true });
}

let y!: NDArray;
export function firstExample(): NDArray {
  record(() => {
    y = np.mul(2, np.dot(x, x));
  });
  y.backward();
  return x.grad;
}
export const direct = (): NDArray => np.mul(4, x);

/** 100 NDArray operations (50 steps of two). */
export function hundred(a: NDArray): NDArray {
  let z = a;
  for (let i = 0; i < 50; i++) z = np.add(np.mul(z, 0.99), 0.01);
  return z;
}

export const v = np.linspace(0, 1, 64);
v.attachGrad();
let w!: NDArray;
export function hundredRecorded(): NDArray {
  record(() => {
    let z = v;
    for (let i = 0; i < 50; i++) z = np.add(np.mul(z, 0.99), 0.01);
    w = z;
  });
  w.backward();
  return v.grad;
}
const ones = np.ones([64]);
export function hundredVjp(): NDArray {
  const [, pullback] = vjp(hundred, v);
  return pullback(ones)[0];
}
