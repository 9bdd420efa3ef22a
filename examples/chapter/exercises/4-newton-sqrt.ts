// Exercise 4: another gradient through control flow. Newton's iteration for sqrt(a) runs a
// data-dependent number of steps; differentiating the iteration itself (not the formula) gives
// the derivative of sqrt, 1 / (2 sqrt(a)), to rounding error.
import { grad } from "adc";
import { cell } from "../cells.js";

function newtonSqrt(a: number): number {
  let y = a > 1 ? a : 1;
  let steps = 0;
  while (Math.abs(y * y - a) > 1e-12 * a && steps < 100) {
    y = 0.5 * (y + a / y);
    steps++;
  }
  return y;
}

const dsqrt = grad(newtonSqrt);
for (const a of [0.25, 2, 10, 1234.5]) {
  const g = dsqrt(a);
  const exact = 0.5 / Math.sqrt(a);
  cell(`ex4.${a}`, `grad(newtonSqrt)(${a}), then 1 / (2 sqrt(a))`, [g, exact], "the two agree", [exact, exact]);
}
