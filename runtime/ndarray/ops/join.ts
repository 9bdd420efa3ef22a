// concat and stack: the two ops whose operand 0 is a list of arrays.
// Registry convention for list operands (operand 0 is the whole list):
//   jvp(0, ts, args, out): ts is an array with one tangent per listed array,
//     null meaning zero; returns the output's tangent.
//   vjp(0, g, args, out): returns an array with one adjoint per listed array
//     (a number for a listed JS number).
// Both kernels view the result as [outer, along, inner] around the joined
// axis and move whole contiguous blocks, so each input is copied with
// TypedArray.set rather than element by element.

import { NDArray } from "../ndarray.js";
import { normalizeAxis, sameShape, sizeOf, splitAt, type Shape } from "../layout.js";
import { buf, checkOperand, shapeOf } from "../operand.js";
import type { DType, NdOp, Operand } from "../types.js";

function fmt(s: Shape): string {
  return `(${s.join(",")}${s.length === 1 ? "," : ""})`;
}

function joinedDtype(xs: readonly Operand[]): DType {
  return xs.every((x) => typeof x !== "number" && x.dtype === "bool") ? "bool" : "float64";
}

function checkList(xs: unknown, what: string): asserts xs is readonly Operand[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new RangeError(`${what} needs a non-empty array of arrays`);
  xs.forEach((x, i) => checkOperand(x, `${what}: element ${i}`));
}

interface ConcatPlan {
  axis: number;
  outer: number;
  inner: number;
  /** Block length (along * inner) each input contributes per outer index. */
  blocks: number[];
  out: Shape;
}

function concatPlan(shapes: readonly Shape[], axis: number): ConcatPlan {
  const first = shapes[0];
  if (shapes.some((s) => s.length === 0)) throw new RangeError("zero-dimensional arrays cannot be concatenated");
  const ax = normalizeAxis(axis, first.length);
  let along = 0;
  for (const s of shapes) {
    if (s.length !== first.length || s.some((d, i) => i !== ax && d !== first[i])) {
      throw new RangeError(`concat: shapes ${fmt(first)} and ${fmt(s)} differ outside axis ${ax}`);
    }
    along += s[ax];
  }
  const [outer, , inner] = splitAt(first, ax);
  const out = [...first];
  out[ax] = along;
  return { axis: ax, outer, inner, blocks: shapes.map((s) => s[ax] * inner), out };
}

export function concat(arrays: readonly NDArray[], axis = 0): NDArray {
  checkList(arrays, "concat");
  const p = concatPlan(arrays.map(shapeOf), axis);
  const c = new Float64Array(sizeOf(p.out));
  let o = 0;
  for (let r = 0; r < p.outer; r++) {
    for (let k = 0; k < arrays.length; k++) {
      const len = p.blocks[k];
      c.set(buf(arrays[k]).data.subarray(r * len, (r + 1) * len), o);
      o += len;
    }
  }
  return new NDArray(c, p.out, joinedDtype(arrays));
}

function concatVjp(_i: number, g: Operand, args: readonly any[]): any {
  const arrays: readonly Operand[] = args[0];
  const p = concatPlan(arrays.map(shapeOf), args[1] ?? 0);
  const gd = buf(g).data;
  const parts = arrays.map((a) => new Float64Array(sizeOf(shapeOf(a))));
  let o = 0;
  for (let r = 0; r < p.outer; r++) {
    for (let k = 0; k < arrays.length; k++) {
      const len = p.blocks[k];
      parts[k].set(gd.subarray(o, o + len), r * len);
      o += len;
    }
  }
  return parts.map((d, k) => new NDArray(d, shapeOf(arrays[k])));
}

/** Replaces null tangents by zeros shaped like the primal they stand for. */
function densify(ts: readonly (Operand | null)[], xs: readonly Operand[]): Operand[] {
  if (!Array.isArray(ts) || ts.length !== xs.length) throw new RangeError("list tangent must have one entry per listed array");
  return ts.map((t, k) => {
    if (t !== null && t !== undefined) return t;
    const x = xs[k];
    return typeof x === "number" ? 0 : new NDArray(new Float64Array(x.size), x.shape);
  });
}

/** Block sizes around a new axis inserted at ax: (product of dims before, product of dims after). */
function aroundNewAxis(shape: Shape, ax: number): [number, number] {
  return [sizeOf(shape.slice(0, ax)), sizeOf(shape.slice(ax))];
}

export function stack(arrays: readonly Operand[], axis = 0): NDArray {
  checkList(arrays, "stack");
  const shape = shapeOf(arrays[0]);
  for (const x of arrays) {
    if (!sameShape(shapeOf(x), shape)) throw new RangeError("all input arrays must have the same shape");
  }
  const ax = normalizeAxis(axis, shape.length + 1);
  const [outer, inner] = aroundNewAxis(shape, ax);
  const out = [...shape];
  out.splice(ax, 0, arrays.length);
  const c = new Float64Array(sizeOf(out));
  let o = 0;
  for (let r = 0; r < outer; r++) {
    for (const x of arrays) {
      c.set(buf(x).data.subarray(r * inner, (r + 1) * inner), o);
      o += inner;
    }
  }
  return new NDArray(c, out, joinedDtype(arrays));
}

function stackVjp(_i: number, g: Operand, args: readonly any[]): any {
  const arrays: readonly Operand[] = args[0];
  const shape = shapeOf(arrays[0]);
  const ax = normalizeAxis(args[1] ?? 0, shape.length + 1);
  const [outer, inner] = aroundNewAxis(shape, ax);
  const gd = buf(g).data;
  const L = arrays.length;
  const parts = arrays.map(() => new Float64Array(outer * inner));
  for (let r = 0; r < outer; r++) {
    for (let k = 0; k < L; k++) parts[k].set(gd.subarray((r * L + k) * inner, (r * L + k + 1) * inner), r * inner);
  }
  return parts.map((d, k) => (typeof arrays[k] === "number" ? d[0] : new NDArray(d, shape)));
}

export const joinOps: readonly NdOp[] = [
  {
    name: "concat",
    diff: [0],
    method: false,
    returns: "ndarray",
    primal: concat,
    jvp: (_i, ts, args) => concat(densify(ts as any, args[0]) as NDArray[], args[1]),
    vjp: concatVjp,
  },
  {
    name: "stack",
    diff: [0],
    method: false,
    returns: "ndarray",
    primal: stack,
    jvp: (_i, ts, args) => stack(densify(ts as any, args[0]), args[1]),
    vjp: stackVjp,
  },
];
