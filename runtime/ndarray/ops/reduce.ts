// Reductions sum/mean/max/min/prod over all elements (axis null/undefined),
// one axis (negative allowed) or a list of axes (see axes.ts), with numpy's
// keepdims, and their registry entries. The reduced value always comes back
// as an NDArray (0-d for a full reduction), so the output kind does not
// depend on arguments.
// max/min adjoint convention (JAX's): the cotangent of each output element is
// split equally among all inputs that tie for the max/min; the tangent is the
// mean of the tied inputs' tangents. A unique extremum gets all of it.
// prod's partials are the products of the other entries (never out / x), so
// they are right where an entry is 0.

import { NDArray } from "../ndarray.js";
import { chooseAxis, chooserJvp, chooserVjp, prodAxis, prodOthers, sumAxis } from "../kernels/reduce.js";
import { broadcastTo, buf, shapeOf } from "../operand.js";
import { arrange, plan, restore, type Axis } from "./axes.js";
import type { NdOp, Operand } from "../types.js";

export type { Axis };

export function sum(a: Operand, axis?: Axis, keepdims = false): NDArray {
  const b = buf(a);
  const p = plan(b.shape, axis, keepdims);
  return new NDArray(sumAxis(arrange(b.data, b.shape, p), p.outer, p.n, p.inner), p.out);
}

export function mean(a: Operand, axis?: Axis, keepdims = false): NDArray {
  const b = buf(a);
  const p = plan(b.shape, axis, keepdims);
  const s = sumAxis(arrange(b.data, b.shape, p), p.outer, p.n, p.inner);
  // n = 0 gives NaN, as numpy's mean of an empty slice does.
  for (let i = 0; i < s.length; i++) s[i] /= p.n;
  return new NDArray(s, p.out);
}

export function prod(a: Operand, axis?: Axis, keepdims = false): NDArray {
  const b = buf(a);
  const p = plan(b.shape, axis, keepdims);
  return new NDArray(prodAxis(arrange(b.data, b.shape, p), p.outer, p.n, p.inner), p.out);
}

function chooser(sign: 1 | -1, what: string): (a: Operand, axis?: Axis, keepdims?: boolean) => NDArray {
  return (a: Operand, axis?: Axis, keepdims = false): NDArray => {
    const b = buf(a);
    const p = plan(b.shape, axis, keepdims);
    if (p.n === 0) throw new RangeError(`zero-size array to reduction operation ${what} which has no identity`);
    return new NDArray(chooseAxis(arrange(b.data, b.shape, p), p.outer, p.n, p.inner, sign), p.out);
  };
}

export const max = chooser(1, "maximum");
export const min = chooser(-1, "minimum");

/**
 * Broadcasts a reduced cotangent (args: operand, axis, keepdims) back over the
 * reduced axes, times `scale`, or times the array `by` of the operand's shape.
 */
export function spread(g: Operand, args: readonly any[], scale: number, by?: NDArray): Operand {
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
  if (by) for (let i = 0; i < full.data.length; i++) full.data[i] *= by.data[i];
  return typeof a === "number" ? full.data[0] : full;
}

function chooserRules(): Pick<NdOp, "jvp" | "vjp"> {
  return {
    jvp: (_i, t, args, out: NDArray) => {
      const a = buf(args[0]);
      const p = plan(a.shape, args[1], args[2] ?? false);
      const ta = arrange(buf(t).data, a.shape, p);
      return new NDArray(chooserJvp(arrange(a.data, a.shape, p), p.outer, p.n, p.inner, out.data, ta), p.out);
    },
    vjp: (_i, g, args, out: NDArray) => {
      const a = buf(args[0]);
      const p = plan(a.shape, args[1], args[2] ?? false);
      const ga = chooserVjp(arrange(a.data, a.shape, p), p.outer, p.n, p.inner, out.data, buf(g).data);
      return typeof args[0] === "number" ? ga[0] : new NDArray(restore(ga, a.shape, p), a.shape);
    },
  };
}

/** prod's partials: for each entry, the product of the others it was reduced with. */
function prodPartials(a: Operand, axis: Axis): NDArray {
  const b = buf(a);
  const p = plan(b.shape, axis, false);
  const d = prodOthers(arrange(b.data, b.shape, p), p.outer, p.n, p.inner);
  return new NDArray(restore(d, b.shape, p), b.shape);
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
  entry("prod", prod, {
    jvp: (_i, t, args) => {
      const d = prodPartials(args[0], args[1]);
      const td = buf(t).data;
      for (let i = 0; i < d.data.length; i++) d.data[i] *= td[i];
      return sum(d, args[1], args[2]);
    },
    vjp: (_i, g, args) => spread(g, args, 1, prodPartials(args[0], args[1])),
  }),
];
