// The axis argument of the reductions and the (outer, n, inner) plan their
// kernels run on. An axis is one integer (negative counts from the end),
// null/undefined for every axis, or a list of distinct axes (numpy's tuple).
// The kernels need the reduced axes adjacent: when a list's axes are not
// (axis [0, 2] of a 3-D array), `arrange` first copies the data with the
// kept axes in front and the reduced ones last, and `restore` undoes that
// for adjoints; adjacent axes (the usual case) cost no copy.

import { contiguousStrides, normalizeAxis, sizeOf, type Shape } from "../layout.js";
import { gather, scatterAdd } from "../kernels/strided.js";

export type Axis = number | readonly number[] | null | undefined;

export interface Plan {
  outer: number;
  n: number;
  inner: number;
  /** The result's shape. */
  out: Shape;
  /** The result's shape with the reduced axes kept as 1 (for broadcasting back). */
  kept: Shape;
  /** Kept axes then reduced axes, when the reduced ones are not adjacent; null otherwise. */
  perm: number[] | null;
}

/** The reduced axes, sorted; every axis for null/undefined. */
function reducedAxes(axis: Axis, ndim: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: ndim }, (_v, i) => i);
  if (typeof axis === "number") return [normalizeAxis(axis, ndim)];
  if (!Array.isArray(axis)) throw new TypeError(`axis must be an integer, a list of integers or null, got ${String(axis)}`);
  const axes = axis.map((a) => normalizeAxis(a, ndim)).sort((a, b) => a - b);
  for (let i = 1; i < axes.length; i++) if (axes[i] === axes[i - 1]) throw new RangeError("duplicate value in 'axis'");
  return axes;
}

export function plan(shape: Shape, axis: Axis, keepdims: boolean): Plan {
  const axes = reducedAxes(axis, shape.length);
  const reduced = (i: number): boolean => axes.includes(i);
  const kept = shape.map((d, i) => (reduced(i) ? 1 : d));
  const out = keepdims ? kept : shape.filter((_d, i) => !reduced(i));
  const n = sizeOf(axes.map((i) => shape[i]));
  if (axes.length === 0) return { outer: sizeOf(shape), n: 1, inner: 1, out, kept, perm: null };
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (last - first + 1 === axes.length) {
    const outer = sizeOf(shape.slice(0, first));
    return { outer, n, inner: sizeOf(shape.slice(last + 1)), out, kept, perm: null };
  }
  const perm = [...shape.keys()].filter((i) => !reduced(i)).concat(axes);
  return { outer: sizeOf(shape.filter((_d, i) => !reduced(i))), n, inner: 1, out, kept, perm };
}

/** data (of `shape`) laid out so that p's reduced axes are adjacent. */
export function arrange(data: Float64Array, shape: Shape, p: Plan): Float64Array {
  if (p.perm === null) return data;
  const strides = contiguousStrides(shape);
  return gather(data, 0, p.perm.map((i) => strides[i]), p.perm.map((i) => shape[i]));
}

/** The inverse of `arrange`: data in p's layout back in `shape`'s own order. */
export function restore(data: Float64Array, shape: Shape, p: Plan): Float64Array {
  if (p.perm === null) return data;
  const strides = contiguousStrides(shape);
  const out = new Float64Array(data.length);
  scatterAdd(out, 0, p.perm.map((i) => strides[i]), p.perm.map((i) => shape[i]), data);
  return out;
}
