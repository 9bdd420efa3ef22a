// The foundation example: a scalar function, its gradient in every form adc offers.
import { grad, valueAndGrad, vjp, jvp, stopGradient } from "adc";

function softplus(x: number): number {
  return Math.log(1 + Math.exp(x));
}

export function f(x: number, y: number): number {
  const s = Math.sin(x) * y;
  let t = softplus(s) + x ** 2 / y;
  t *= Math.hypot(x, y);
  return t - stopGradient(y) * x;
}

const dfdx = grad(f); // derivative w.r.t. the first parameter (as JAX)
const dfdy = grad(f, 1); // w.r.t. the second
const both = grad(f, [0, 1]); // (x, y) => [df/dx, df/dy]
const [value, g] = valueAndGrad(f)(1.5, 2);
const [out, pullback] = vjp(f, 1.5, 2); // pullback(1) => [x_bar, y_bar], one per parameter
const [out2, outDot] = jvp(f, [1.5, 2], [1, 0]);
console.log("f(1.5, 2)             =", value, "(valueAndGrad), ", out, "(vjp), ", out2, "(jvp)");
console.log("df/dx, df/dy          =", dfdx(1.5, 2), dfdy(1.5, 2));
console.log("grad(f, [0, 1])       =", both(1.5, 2));
console.log("valueAndGrad gradient =", g);
console.log("vjp pullback(1)       =", pullback(1));
console.log("jvp along (1, 0)      =", outDot);
