// `np.array(xs)` of a plain array of numbers (number[] or Float64Array) inside differentiated
// code: a 1-D NDArray holding the entries, whose derivatives flow between the two. Kept out of
// `ndOps` (whose operands are NDArrays and numbers): its operand is a JS array, its tangent an
// array of the entries' tangents and its adjoint an array added into the entries' adjoints.
import { NDArray } from "../ndarray.js";
import type { NdOp, Operand } from "../types.js";

function fromArray(xs: ArrayLike<number>): NDArray {
  return new NDArray(Float64Array.from(xs), [xs.length]);
}

export const fromArrayOp: NdOp = {
  name: "fromArray",
  diff: [0],
  method: false,
  returns: "ndarray",
  primal: fromArray,
  jvp: (_i, t) => fromArray(t as unknown as ArrayLike<number>),
  // The adjoint has the operand's kind: a Float64Array of its length (added into its adjoint by ndVjpInto).
  vjp: (_i, g: Operand, args) => {
    const n = (args[0] as ArrayLike<number>).length;
    const out = typeof g === "number" ? new Float64Array(n).fill(g) : Float64Array.from(g.data.subarray(0, n));
    return out as unknown as Operand;
  },
};

export const bridgeOps: readonly NdOp[] = [fromArrayOp];
