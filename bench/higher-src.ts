// Second-order benchmark programs: Rosenbrock's function of n inputs, its gradient, a
// Hessian-vector product (forward over reverse), the full Hessian, and a hand-written
// Hessian-vector product as the baseline.
import { grad, hessian, jvp } from "adc";

export function rosen(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    s += 100 * a * a + b * b;
  }
  return s;
}

export const gradRosen = grad(rosen);
export const hessRosen = hessian(rosen);
export const hvp = (x: Float64Array, v: Float64Array): Float64Array => jvp(grad(rosen), [x], [v])[1];

/** H v by hand: H is tridiagonal, assembled term by term. */
export function hvpByHand(x: Float64Array, v: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const hii = -400 * a + 800 * x[i] * x[i] + 2;
    const hij = -400 * x[i];
    out[i] += hii * v[i] + hij * v[i + 1];
    out[i + 1] += hij * v[i] + 200 * v[i + 1];
  }
  return out;
}
