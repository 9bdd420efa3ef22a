// The foundation example, for bench/scalar.ts.
import { grad, valueAndGrad } from "adc";
import { f } from "../examples/scalar.js";

export { f };
export const dfdx = grad(f);
export const both = grad(f, [0, 1]);
export const vg = valueAndGrad(f, [0, 1]);
