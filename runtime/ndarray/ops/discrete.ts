// Ops with integer results: argmax/argmin (positions, numpy's: over the
// flattened array without an axis, else along one axis; the first
// occurrence wins and a NaN counts as the extremum) and oneHot (MXNet's and
// JAX's one_hot: indices of any shape gain a last axis of `depth`; an index
// outside [0, depth) gives a row of zeros). The results are float64 arrays
// holding integers, since arrays are float64 or bool.
// Integer result, zero derivative: these are registered with diff [], so the
// compiler treats their results as constants and their rules throw.

import { NDArray } from "../ndarray.js";
import { normalizeAxis } from "../layout.js";
import { argChoose } from "../kernels/reduce.js";
import { array } from "../creation.js";
import { buf } from "../operand.js";
import { plan } from "./axes.js";
import { nonDiff } from "./compare.js";
import type { Indices } from "./gather.js";
import type { NdOp, Operand } from "../types.js";

function arg(sign: 1 | -1, name: string): (a: Operand, axis?: number | null, keepdims?: boolean) => NDArray {
  return (a: Operand, axis?: number | null, keepdims = false): NDArray => {
    const b = buf(a);
    // One axis or all: checked here so a list of axes gets normalizeAxis's message.
    if (axis !== null && axis !== undefined) normalizeAxis(axis, b.shape.length);
    const p = plan(b.shape, axis, keepdims);
    if (p.n === 0) throw new RangeError(`attempt to get ${name} of an empty sequence`);
    return new NDArray(argChoose(b.data, p.outer, p.n, p.inner, sign), p.out);
  };
}

export const argmax = arg(1, "argmax");
export const argmin = arg(-1, "argmin");

export function oneHot(indices: Indices, depth: number): NDArray {
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`oneHot: depth must be a non-negative integer, got ${depth}`);
  const b = indices instanceof NDArray || typeof indices === "number" ? buf(indices) : array(indices);
  const out = new Float64Array(b.data.length * depth);
  for (let k = 0; k < b.data.length; k++) {
    const i = b.data[k];
    if (!Number.isInteger(i)) throw new TypeError(`oneHot: indices must be integers, got ${i}`);
    if (i >= 0 && i < depth) out[k * depth + i] = 1;
  }
  return new NDArray(out, [...b.shape, depth]);
}

export const discreteOps: readonly NdOp[] = [
  nonDiff("argmax", argmax, "ndarray", true),
  nonDiff("argmin", argmin, "ndarray", true),
  nonDiff("oneHot", oneHot, "ndarray", false),
];
