// var and std over the axes of `axis` (see axes.ts), numpy's: the mean
// squared deviation from the mean, divided by n - ddof (ddof 0 by default:
// the population variance), and its square root; with their registry entries.
// Derivatives: d var = 2/(n - ddof) * sum((x - mean) dx) (the mean's own
// change drops out since the deviations sum to 0); d std = d var / (2 std).
// Where std is 0 (every entry equal) its derivative is taken as 0, a
// subgradient, as norm's at 0 (JAX's jnp.std gives NaN there).

import { NDArray } from "../ndarray.js";
import { buf, shapeOf } from "../operand.js";
import { sub } from "./binary.js";
import { plan, type Axis } from "./axes.js";
import { mean, spread, sum } from "./reduce.js";
import type { NdOp, Operand } from "../types.js";

/** x minus its mean over the axes, in x's shape. */
function deviations(a: Operand, axis: Axis): NDArray {
  return sub(a, mean(a, axis, true));
}

/** n - ddof: what the squared deviations are divided by. */
function divisor(a: Operand, axis: Axis, ddof: number): number {
  return plan(shapeOf(a), axis, false).n - ddof;
}

export function variance(a: Operand, axis?: Axis, keepdims = false, ddof = 0): NDArray {
  const d = deviations(a, axis).data;
  for (let i = 0; i < d.length; i++) d[i] *= d[i];
  const s = sum(new NDArray(d, shapeOf(a)), axis, keepdims);
  const m = divisor(a, axis, ddof);
  for (let i = 0; i < s.data.length; i++) s.data[i] /= m;
  return s;
}

export function std(a: Operand, axis?: Axis, keepdims = false, ddof = 0): NDArray {
  const v = variance(a, axis, keepdims, ddof);
  for (let i = 0; i < v.data.length; i++) v.data[i] = Math.sqrt(v.data[i]);
  return v;
}

/** sum((x - mean) t) over the axes: the shared part of both tangents. */
function deviationDot(t: Operand, args: readonly any[]): NDArray {
  const d = deviations(args[0], args[1]);
  const td = buf(t).data;
  for (let i = 0; i < d.data.length; i++) d.data[i] *= td[i];
  return sum(d, args[1], args[2]);
}

/** Per output element: 1 / ((n - ddof) std), or 0 where std is 0. */
function stdScale(args: readonly any[], out: NDArray): Float64Array {
  const m = divisor(args[0], args[1], args[3] ?? 0);
  return out.data.map((s) => (s > 0 ? 1 / (m * s) : 0));
}

function times(x: NDArray, by: Float64Array): NDArray {
  for (let i = 0; i < x.data.length; i++) x.data[i] *= by[i];
  return x;
}

export const momentOps: readonly NdOp[] = [
  {
    name: "var",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: variance,
    jvp: (_i, t, args) => {
      const s = deviationDot(t, args);
      const m = divisor(args[0], args[1], args[3] ?? 0);
      for (let i = 0; i < s.data.length; i++) s.data[i] *= 2 / m;
      return s;
    },
    vjp: (_i, g, args) => spread(g, args, 2 / divisor(args[0], args[1], args[3] ?? 0), deviations(args[0], args[1])),
  },
  {
    name: "std",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: std,
    jvp: (_i, t, args, out: NDArray) => times(deviationDot(t, args), stdScale(args, out)),
    vjp: (_i, g, args, out: NDArray) =>
      spread(times(new NDArray(buf(g).data.slice(), out.shape), stdScale(args, out)), args, 1, deviations(args[0], args[1])),
  },
];
