// Integer-array indexing: take (numpy's, along one axis or over the
// flattened array) and pick (MXNet's: one entry along `axis` per position of
// the other axes, e.g. the probability of each row's label), with their
// registry entries. Indices are float64 arrays (or numbers, or JS lists)
// holding integers; negative ones count from the end and out-of-range ones
// throw (numpy's mode "raise"; MXNet's pick clips by default, which would hide
// a wrong label). The adjoints scatter-add the cotangent into zeros of the
// operand's shape, so a repeated index accumulates.

import { NDArray } from "../ndarray.js";
import { normalizeAxis, sizeOf, splitAt, type Shape } from "../layout.js";
import { array, type ArrayInput } from "../creation.js";
import { buf, shapeOf } from "../operand.js";
import { dtypeOf } from "./shape.js";
import type { NdOp, Operand } from "../types.js";

/** What take/pick/index accept as indices: an array, a number or a (nested) JS list of integers. */
export type Indices = ArrayInput;

/** The indices as positions in [0, n), with their shape. */
export function positions(indices: Indices, n: number, ax: number): { at: Int32Array; shape: Shape } {
  const b = indices instanceof NDArray || typeof indices === "number" ? buf(indices) : array(indices);
  if (b instanceof NDArray && b.dtype === "bool") {
    throw new TypeError("boolean arrays are not accepted as indices; np.where(cond, x, 0) masks values instead");
  }
  const at = new Int32Array(b.data.length);
  for (let k = 0; k < at.length; k++) {
    const i = b.data[k];
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new RangeError(`index ${i} is out of bounds for axis ${ax} with size ${n}`);
    }
    at[k] = i < 0 ? i + n : i;
  }
  return { at, shape: b.shape };
}

/** The (outer, n, inner) split around the indexed axis, the positions and the result's shape. */
interface Plan {
  outer: number;
  n: number;
  inner: number;
  at: Int32Array;
  out: Shape;
}

function takePlan(shape: Shape, indices: Indices, axis: number | null | undefined): Plan {
  // No axis: the flattened array, as numpy.
  const s = axis === null || axis === undefined ? [sizeOf(shape)] : shape;
  const ax = axis === null || axis === undefined ? 0 : normalizeAxis(axis, shape.length);
  const [outer, n, inner] = splitAt(s, ax);
  const p = positions(indices, n, ax);
  return { outer, n, inner, at: p.at, out: [...s.slice(0, ax), ...p.shape, ...s.slice(ax + 1)] };
}

export function take(a: Operand, indices: Indices, axis?: number | null): NDArray {
  const b = buf(a);
  const { outer, n, inner, at, out } = takePlan(b.shape, indices, axis);
  const m = at.length;
  const r = new Float64Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < m; q++) {
      const src = (o * n + at[q]) * inner;
      r.set(b.data.subarray(src, src + inner), (o * m + q) * inner);
    }
  }
  return new NDArray(r, out, dtypeOf(a));
}

export function takeVjp(g: Operand, a: Operand, indices: Indices, axis?: number | null): Operand {
  const shape = shapeOf(a);
  const { outer, n, inner, at } = takePlan(shape, indices, axis);
  const m = at.length;
  const gd = buf(g).data;
  const ga = new Float64Array(sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < m; q++) {
      const dst = (o * n + at[q]) * inner;
      const src = (o * m + q) * inner;
      for (let j = 0; j < inner; j++) ga[dst + j] += gd[src + j];
    }
  }
  return typeof a === "number" ? ga[0] : new NDArray(ga, shape);
}

function pickPlan(shape: Shape, index: Indices, axis: number, keepdims: boolean): Plan {
  const ax = normalizeAxis(axis, shape.length);
  const [outer, n, inner] = splitAt(shape, ax);
  const p = positions(index, n, ax);
  const without = shape.filter((_d, i) => i !== ax);
  const kept = shape.map((d, i) => (i === ax ? 1 : d));
  const fits = (s: Shape): boolean => s.length === p.shape.length && s.every((d, i) => d === p.shape[i]);
  if (!fits(without) && !fits(kept)) {
    throw new RangeError(`pick: index of shape [${p.shape.join(", ")}] must have the array's shape without axis ${ax}: [${without.join(", ")}]`);
  }
  return { outer, n, inner, at: p.at, out: keepdims ? kept : without };
}

export function pick(a: Operand, index: Indices, axis = -1, keepdims = false): NDArray {
  const b = buf(a);
  const { outer, n, inner, at, out } = pickPlan(b.shape, index, axis, keepdims);
  const r = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) r[o * inner + j] = b.data[(o * n + at[o * inner + j]) * inner + j];
  }
  return new NDArray(r, out, dtypeOf(a));
}

function pickVjp(_i: number, g: Operand, args: readonly any[]): Operand {
  const a: NDArray = args[0];
  const { outer, n, inner, at } = pickPlan(a.shape, args[1], args[2] === undefined ? -1 : args[2], args[3] ?? false);
  const gd = buf(g).data;
  const ga = new Float64Array(a.size);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) ga[(o * n + at[o * inner + j]) * inner + j] += gd[o * inner + j];
  }
  return new NDArray(ga, a.shape);
}

export const gatherOps: readonly NdOp[] = [
  {
    name: "take",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: take,
    jvp: (_i, t, args) => take(t, args[1], args[2]),
    vjp: (_i, g, args) => takeVjp(g, args[0], args[1], args[2]),
  },
  {
    name: "pick",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: pick,
    jvp: (_i, t, args) => pick(t, args[1], args[2], args[3]),
    vjp: pickVjp,
  },
];
