// The contract between the runtime and the compiler: what an operand is and
// what a registry entry promises. Type-only, so every module may import it
// without creating a runtime import cycle.
//
// Shape/kind guarantees every entry keeps (the derivative tests check them):
// - jvp(i, t, ...) returns exactly the output's kind and shape: an NDArray of
//   out.shape when the op returns an NDArray, a number when it returns a number.
//   A number operand's tangent t is a number.
// - vjp(i, g, ...) returns exactly operand i's kind and shape: already summed
//   over the axes operand i was broadcast along, and a number if operand i was
//   a JS number.
// - List operands (concat/stack operand 0): jvp takes an array of tangents,
//   one per listed array, where null means zero; vjp returns an array of
//   adjoints, one per listed array (a number for a listed JS number).

import type { NDArray } from "./ndarray.js";

export type Operand = NDArray | number;

export type DType = "float64" | "bool";

/** Nested JS arrays as returned by toArray(): numbers for float64, booleans for bool. */
export type Nested = number | boolean | Nested[];

/**
 * What an op returns: "ndarray" (float64 NDArray), "number" (a JS number: item),
 * "bool" (a bool-dtype NDArray: comparisons), "boolean" (a JS boolean: all/any/allclose).
 */
export type OpReturn = "ndarray" | "number" | "bool" | "boolean";

export interface NdOp {
  /** The np function name and, when `method`, the NDArray method name. */
  name: string;
  /** Positions of differentiable operands; every other argument is static (axis, shape, keepdims, where's cond). */
  diff: readonly number[];
  /** Also an NDArray method, with operand 0 as the receiver and the remaining arguments unchanged. */
  method: boolean;
  returns: OpReturn;
  /** Where the function lives under `np` when that is not `np[name]` (only "linalg.norm"). */
  npPath?: string;
  primal: (...args: any[]) => any;
  /**
   * Tangent contribution of differentiable operand i (t has operand i's shape, or is a
   * number if operand i is a number); linear in t. For list operands t is really an
   * array of tangents (see the header); the declared type stays `Operand` so ordinary
   * call sites need no narrowing.
   */
  jvp: (i: number, t: Operand, args: readonly any[], out: any) => Operand;
  /**
   * Adjoint contribution to operand i, with operand i's exact shape and kind. g has the
   * output's shape (a number if the op returns a number). For list operands the result
   * is really an array of adjoints (see the header).
   */
  vjp: (i: number, g: Operand, args: readonly any[], out: any) => Operand;
}
