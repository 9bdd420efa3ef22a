// Operand plumbing shared by every op: turning `NDArray | number` into a
// buffer, wrapping kernel results, broadcasting up and summing back down.
// Invariants: a JS number behaves as a 0-d array; results are always fresh
// arrays (never views); `adjointFor` gives a number back exactly when the
// operand was a number, which is what the registry's vjp contract promises.

import { NDArray } from "./ndarray.js";
import { broadcastStrides, sameShape, sizeOf, emptyShape, type Shape } from "./layout.js";
import { gather, scatterAdd, type Dense } from "./kernels/strided.js";
import type { DType, Operand } from "./types.js";

export function checkOperand(x: unknown, what = "operand"): asserts x is Operand {
  if (typeof x !== "number" && !(x instanceof NDArray)) {
    throw new TypeError(`${what} must be an NDArray or a number, got ${x === null ? "null" : typeof x}`);
  }
}

/** The buffer view of an operand; a number becomes a one-element 0-d buffer. */
export function buf(x: Operand): Dense {
  if (typeof x === "number") return { data: Float64Array.of(x), shape: emptyShape };
  checkOperand(x);
  return x;
}

export function asArray(x: Operand): NDArray {
  if (typeof x === "number") return new NDArray(Float64Array.of(x), emptyShape);
  checkOperand(x);
  return x;
}

export function wrap(b: Dense, dtype: DType = "float64"): NDArray {
  return new NDArray(b.data, b.shape, dtype);
}

export function shapeOf(x: Operand): Shape {
  return typeof x === "number" ? emptyShape : x.shape;
}

/** A fresh array of `shape` holding x repeated along broadcast axes. */
export function broadcastTo(x: Operand, shape: Shape): NDArray {
  const b = buf(x);
  if (sameShape(b.shape, shape)) return new NDArray(typeof x === "number" ? b.data : b.data.slice(), shape);
  return new NDArray(gather(b.data, 0, broadcastStrides(b.shape, shape), shape), shape);
}

/** Sums g over the axes along which an array of `shape` was broadcast to reach g's shape. */
export function unbroadcast(g: Operand, shape: Shape): NDArray {
  const b = buf(g);
  // Same shape: still a copy, so adjoints never alias the cotangent they came from.
  if (sameShape(b.shape, shape)) return new NDArray(typeof g === "number" ? b.data : b.data.slice(), shape);
  const out = new Float64Array(sizeOf(shape));
  scatterAdd(out, 0, broadcastStrides(shape, b.shape), b.shape, b.data);
  return new NDArray(out, shape);
}

export function sumAll(x: Operand): number {
  if (typeof x === "number") return x;
  const d = x.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i];
  return s;
}

/**
 * Turns a contribution with the output's (broadcast) shape into an adjoint for
 * `operand`: summed down to its shape, and to a plain number for a number
 * operand. Never returns `g` itself, so it is safe for pass-through rules.
 */
export function adjointFor(g: Operand, operand: Operand): Operand {
  if (typeof operand === "number") return sumAll(g);
  return unbroadcast(g, operand.shape);
}

/** adjointFor for a contribution the rule itself just allocated: reused when it already fits. */
export function adjointFresh(contrib: NDArray, operand: Operand): Operand {
  if (typeof operand === "number") return sumAll(contrib);
  if (sameShape(contrib.shape, operand.shape)) return contrib;
  return unbroadcast(contrib, operand.shape);
}

/**
 * Makes a freshly computed tangent contribution have exactly the output's shape
 * (broadcasting when it is smaller). Returned as is when it already fits, so pass
 * only arrays the rule itself allocated; pass-through tangents go via broadcastTo.
 */
export function tangentFor(contrib: Operand, out: NDArray): NDArray {
  if (typeof contrib !== "number" && sameShape(contrib.shape, out.shape)) return contrib;
  return broadcastTo(contrib, out.shape);
}
