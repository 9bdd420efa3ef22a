// Reductions sum/mean/max/min over all elements (axis null/undefined) or one
// axis (negative allowed), with numpy's keepdims, and their registry entries.
// The reduced value always comes back as an NDArray (0-d for a full
// reduction), so the output kind does not depend on arguments.
// max/min adjoint convention (JAX's): the cotangent of each output element is
// split equally among all inputs that tie for the max/min; the tangent is the
// mean of the tied inputs' tangents. A unique extremum gets all of it.

import { NDArray } from "../ndarray.js";
import { normalizeAxis, sizeOf, splitAt, type Shape } from "../layout.js";
import { chooseAxis, chooserJvp, chooserVjp, sumAxis } from "../kernels/reduce.js";
import { broadcastTo, buf, shapeOf } from "../operand.js";
import type { NdOp, Operand } from "../types.js";

export type Axis = number | null | undefined;

interface Plan {
  outer: number;
  n: number;
  inner: number;
  /** The result's shape. */
  out: Shape;
  /** The result's shape with the reduced axes kept as 1 (for broadcasting back). */
  kept: Shape;
}

function plan(shape: Shape, axis: Axis, keepdims: boolean): Plan {
  if (axis === null || axis === undefined) {
    const kept = shape.map(() => 1);
    return { outer: 1, n: sizeOf(shape), inner: 1, out: keepdims ? kept : [], kept };
  }
  const ax = normalizeAxis(axis, shape.length);
  const [outer, n, inner] = splitAt(shape, ax);
  const kept = shape.map((d, i) => (i === ax ? 1 : d));
  return { outer, n, inner, out: keepdims ? kept : shape.filter((_d, i) => i !== ax), kept };
}

export function sum(a: Operand, axis?: Axis, keepdims = false): NDArray {
  const b = buf(a);
  const p = plan(b.shape, axis, keepdims);
  return new NDArray(sumAxis(b.data, p.outer, p.n, p.inner), p.out);
}

export function mean(a: Operand, axis?: Axis, keepdims = false): NDArray {
  const b = buf(a);
  const p = plan(b.shape, axis, keepdims);
  const s = sumAxis(b.data, p.outer, p.n, p.inner);
  // n = 0 gives NaN, as numpy's mean of an empty slice does.
  for (let i = 0; i < s.length; i++) s[i] /= p.n;
  return new NDArray(s, p.out);
}

function chooser(sign: 1 | -1, what: string): (a: Operand, axis?: Axis, keepdims?: boolean) => NDArray {
  return (a: Operand, axis?: Axis, keepdims = false): NDArray => {
    const b = buf(a);
    const p = plan(b.shape, axis, keepdims);
    if (p.n === 0) throw new RangeError(`zero-size array to reduction operation ${what} which has no identity`);
    return new NDArray(chooseAxis(b.data, p.outer, p.n, p.inner, sign), p.out);
  };
}

export const max = chooser(1, "maximum");
export const min = chooser(-1, "minimum");

/** Broadcasts a reduced cotangent back over the reduced axes, times `scale`. */
function spread(g: Operand, args: readonly any[], scale: number): Operand {
  const a: Operand = args[0];
  const shape = shapeOf(a);
  const p = plan(shape, args[1], args[2] ?? false);
  const gb = buf(g).data;
  let data = gb;
  if (scale !== 1) {
    data = new Float64Array(gb.length);
    for (let i = 0; i < gb.length; i++) data[i] = gb[i] * scale;
  }
  const full = broadcastTo(new NDArray(data, p.kept), shape);
  return typeof a === "number" ? full.data[0] : full;
}

function chooserRules(): Pick<NdOp, "jvp" | "vjp"> {
  return {
    jvp: (_i, t, args, out: NDArray) => {
      const a = buf(args[0]);
      const p = plan(a.shape, args[1], args[2] ?? false);
      return new NDArray(chooserJvp(a.data, p.outer, p.n, p.inner, out.data, buf(t).data), p.out);
    },
    vjp: (_i, g, args, out: NDArray) => {
      const a = buf(args[0]);
      const p = plan(a.shape, args[1], args[2] ?? false);
      const ga = chooserVjp(a.data, p.outer, p.n, p.inner, out.data, buf(g).data);
      return typeof args[0] === "number" ? ga[0] : new NDArray(ga, a.shape);
    },
  };
}

function entry(name: string, primal: NdOp["primal"], rules: Pick<NdOp, "jvp" | "vjp">): NdOp {
  return { name, diff: [0], method: true, returns: "ndarray", primal, ...rules };
}

export const reduceOps: readonly NdOp[] = [
  entry("sum", sum, {
    jvp: (_i, t, args) => sum(t, args[1], args[2]),
    vjp: (_i, g, args) => spread(g, args, 1),
  }),
  entry("mean", mean, {
    jvp: (_i, t, args) => mean(t, args[1], args[2]),
    vjp: (_i, g, args) => spread(g, args, 1 / plan(shapeOf(args[0]), args[1], false).n),
  }),
  entry("max", max, chooserRules()),
  entry("min", min, chooserRules()),
];
