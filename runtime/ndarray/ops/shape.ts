// Shape ops that keep every element: reshape, transpose, expandDims, squeeze,
// copy and astype, with their registry entries. Their derivatives are the same
// rearrangement of the tangent (jvp) and the inverse rearrangement of the
// cotangent (vjp). These preserve dtype; data is always copied so the result
// owns its buffer (no aliasing views).

import { NDArray } from "../ndarray.js";
import { contiguousStrides, normalizeAxis, sizeOf, type Shape } from "../layout.js";
import { gather } from "../kernels/strided.js";
import { buf, shapeOf } from "../operand.js";
import type { DType, NdOp, Operand } from "../types.js";

function fmt(s: readonly number[]): string {
  return `(${s.join(",")}${s.length === 1 ? "," : ""})`;
}

export function dtypeOf(x: Operand): DType {
  return typeof x === "number" ? "float64" : x.dtype;
}

/** A fresh array with x's elements in the same order under a new (already valid) shape. */
function relabel(x: Operand, shape: Shape): NDArray {
  const b = buf(x);
  return new NDArray(typeof x === "number" ? b.data : b.data.slice(), shape, dtypeOf(x));
}

/** The adjoint of a pure relabelling: g's data under operand a's shape, a number for a number. */
function relabelBack(g: Operand, a: Operand): Operand {
  if (typeof a === "number") return buf(g).data[0];
  return relabel(g, a.shape);
}

function resolveShape(size: number, shape: number | readonly number[]): number[] {
  const asked = typeof shape === "number" ? [shape] : [...shape];
  const s = [...asked];
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < s.length; i++) {
    const d = s[i];
    if (d === -1) {
      if (unknown >= 0) throw new RangeError("can only specify one unknown dimension");
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`invalid shape ${fmt(s)}`);
    } else known *= d;
  }
  if (unknown >= 0 && known !== 0 && size % known === 0) s[unknown] = size / known;
  if (sizeOf(s) !== size || (unknown >= 0 && s[unknown] === -1)) {
    throw new RangeError(`cannot reshape array of size ${size} into shape ${fmt(asked)}`);
  }
  return s;
}

export function reshape(a: Operand, shape: number | readonly number[]): NDArray {
  return relabel(a, resolveShape(buf(a).data.length, shape));
}

function permutation(ndim: number, axes?: readonly number[] | null): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: ndim }, (_v, i) => ndim - 1 - i);
  if (axes.length !== ndim) throw new RangeError("axes don't match array");
  const perm = axes.map((ax) => normalizeAxis(ax, ndim));
  if (new Set(perm).size !== ndim) throw new RangeError("repeated axis in transpose");
  return perm;
}

export function transpose(a: Operand, axes?: readonly number[] | null): NDArray {
  const b = buf(a);
  const perm = permutation(b.shape.length, axes);
  const own = contiguousStrides(b.shape);
  const shape = perm.map((p) => b.shape[p]);
  const strides = perm.map((p) => own[p]);
  return new NDArray(gather(b.data, 0, strides, shape), shape, dtypeOf(a));
}

function inversePermutation(ndim: number, axes?: readonly number[] | null): number[] {
  const perm = permutation(ndim, axes);
  const inv = new Array<number>(ndim);
  for (let i = 0; i < ndim; i++) inv[perm[i]] = i;
  return inv;
}

export function expandDims(a: Operand, axis: number): NDArray {
  const shape = [...shapeOf(a)];
  shape.splice(normalizeAxis(axis, shape.length + 1), 0, 1);
  return relabel(a, shape);
}

export function squeeze(a: Operand, axis?: number | null): NDArray {
  const shape = shapeOf(a);
  if (axis === undefined || axis === null) return relabel(a, shape.filter((d) => d !== 1));
  const ax = normalizeAxis(axis, shape.length);
  if (shape[ax] !== 1) throw new RangeError("cannot select an axis to squeeze out which has size not equal to one");
  return relabel(a, shape.filter((_d, i) => i !== ax));
}

export function copy(a: Operand): NDArray {
  return relabel(a, shapeOf(a));
}

/**
 * numpy's astype for the float types only: values are always float64 here, so
 * "float64" and "float32" both give a float64 copy (a bool array's 0/1 as
 * numbers); any other dtype is refused rather than silently kept float64.
 * Differentiable as a copy: it changes no value, so its derivative is the identity.
 */
export function astype(a: Operand, dtype: string): NDArray {
  if (dtype !== "float64" && dtype !== "float32") {
    const hint = dtype === "bool" ? "; np.notEqual(x, 0) gives a bool array" : "";
    throw new TypeError(`astype: only "float64" and "float32" are supported (both give float64), got ${JSON.stringify(dtype)}${hint}`);
  }
  const b = buf(a);
  return new NDArray(b.data.slice(), b.shape);
}

function entry(name: string, primal: NdOp["primal"], rules: Pick<NdOp, "jvp" | "vjp">): NdOp {
  return { name, diff: [0], method: true, returns: "ndarray", primal, ...rules };
}

export const shapeOps: readonly NdOp[] = [
  entry("reshape", reshape, {
    jvp: (_i, t, _args, out: NDArray) => relabel(t, out.shape),
    vjp: (_i, g, args) => relabelBack(g, args[0]),
  }),
  entry("transpose", transpose, {
    jvp: (_i, t, args) => transpose(t, args[1]),
    vjp: (_i, g, args) => {
      const back = transpose(g, inversePermutation(shapeOf(args[0]).length, args[1]));
      return typeof args[0] === "number" ? back.data[0] : back;
    },
  }),
  entry("expandDims", expandDims, {
    jvp: (_i, t, _args, out: NDArray) => relabel(t, out.shape),
    vjp: (_i, g, args) => relabelBack(g, args[0]),
  }),
  entry("squeeze", squeeze, {
    jvp: (_i, t, _args, out: NDArray) => relabel(t, out.shape),
    vjp: (_i, g, args) => relabelBack(g, args[0]),
  }),
  entry("astype", astype, {
    jvp: (_i, t, _args, out: NDArray) => relabel(t, out.shape),
    vjp: (_i, g, args) => relabelBack(g, args[0]),
  }),
  entry("copy", copy, {
    jvp: (_i, t, _args, out: NDArray) => relabel(t, out.shape),
    vjp: (_i, g, args) => relabelBack(g, args[0]),
  }),
];
