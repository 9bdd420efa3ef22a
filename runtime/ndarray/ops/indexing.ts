// Reading parts of an array: slice (per-axis half-open ranges, step 1),
// index (one position along axis 0, dropping it; or, given an integer array
// or list, those rows: numpy's x[[0, 2, 2]], which is take along axis 0) and
// item (the single element as a JS number), with their registry entries. The
// adjoints scatter the cotangent into zeros of the operand's shape.
// Index normalisation follows Python: negative positions count from the end;
// slice bounds are clamped to [0, dim] and an end before its begin gives an
// empty axis, while index() throws when out of range.

import { NDArray } from "../ndarray.js";
import { contiguousStrides, sizeOf, splitAt, type Shape } from "../layout.js";
import { gather, scatterAdd } from "../kernels/strided.js";
import { buf, shapeOf } from "../operand.js";
import { dtypeOf } from "./shape.js";
import { take, takeVjp, type Indices } from "./gather.js";
import type { NdOp, Operand } from "../types.js";

interface Window {
  offset: number;
  strides: number[];
  shape: number[];
}

function clampBound(v: number, dim: number): number {
  if (!Number.isInteger(v)) throw new TypeError(`slice bounds must be integers, got ${v}`);
  if (v < 0) v += dim;
  return v < 0 ? 0 : v > dim ? dim : v;
}

function window(shape: Shape, begin: readonly number[], end: readonly number[]): Window {
  if (begin.length !== end.length) throw new RangeError("slice: begin and end must have the same length");
  if (begin.length > shape.length) {
    throw new RangeError(`too many indices for array: array is ${shape.length}-dimensional, but ${begin.length} were given`);
  }
  const strides = contiguousStrides(shape);
  const out = [...shape];
  let offset = 0;
  for (let d = 0; d < begin.length; d++) {
    const b = clampBound(begin[d], shape[d]);
    const e = clampBound(end[d], shape[d]);
    out[d] = e > b ? e - b : 0;
    offset += b * strides[d];
  }
  return { offset, strides, shape: out };
}

export function slice(a: Operand, begin: readonly number[], end: readonly number[]): NDArray {
  const b = buf(a);
  const w = window(b.shape, begin, end);
  return new NDArray(gather(b.data, w.offset, w.strides, w.shape), w.shape, dtypeOf(a));
}

function sliceVjp(_i: number, g: Operand, args: readonly any[]): Operand {
  const a: Operand = args[0];
  const shape = shapeOf(a);
  const w = window(shape, args[1], args[2]);
  const ga = new Float64Array(sizeOf(shape));
  scatterAdd(ga, w.offset, w.strides, w.shape, buf(g).data);
  return typeof a === "number" ? ga[0] : new NDArray(ga, shape);
}

function position(shape: Shape, i: number): number {
  if (shape.length === 0) throw new RangeError("too many indices for array: array is 0-dimensional, but 1 were given");
  const n = shape[0];
  if (!Number.isInteger(i) || i < -n || i >= n) {
    throw new RangeError(`index ${i} is out of bounds for axis 0 with size ${n}`);
  }
  return i < 0 ? i + n : i;
}

export function index(a: Operand, i: number | Indices): NDArray {
  if (typeof i !== "number") return take(a, i, 0);
  const b = buf(a);
  const [, , inner] = splitAt(b.shape, 0);
  const p = position(b.shape, i);
  return new NDArray(b.data.slice(p * inner, (p + 1) * inner), b.shape.slice(1), dtypeOf(a));
}

function indexVjp(_i: number, g: Operand, args: readonly any[]): Operand {
  if (typeof args[1] !== "number") return takeVjp(g, args[0], args[1], 0);
  const a: NDArray = args[0];
  const [, , inner] = splitAt(a.shape, 0);
  const ga = new Float64Array(a.size);
  ga.set(buf(g).data, position(a.shape, args[1]) * inner);
  return new NDArray(ga, a.shape);
}

export function item(a: Operand): number {
  if (typeof a === "number") return a;
  if (a.size !== 1) throw new RangeError(`can only convert an array of size 1 to a scalar, got shape ${fmt(a.shape)}`);
  return a.data[0];
}

function fmt(s: Shape): string {
  return `(${s.join(",")}${s.length === 1 ? "," : ""})`;
}

export const indexingOps: readonly NdOp[] = [
  {
    name: "slice",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: slice,
    jvp: (_i, t, args) => slice(t, args[1], args[2]),
    vjp: sliceVjp,
  },
  {
    name: "index",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: index,
    jvp: (_i, t, args) => index(t, args[1]),
    vjp: indexVjp,
  },
  {
    name: "item",
    diff: [0],
    method: true,
    returns: "number",
    primal: item,
    jvp: (_i, t) => item(t),
    vjp: (_i, g, args) => {
      const a: Operand = args[0];
      const v = typeof g === "number" ? g : item(g);
      return typeof a === "number" ? v : new NDArray(new Float64Array(a.size).fill(v), a.shape);
    },
  },
];
