// clip(x, lo, hi) = minimum(maximum(x, lo), hi), numpy's order (so lo > hi
// gives hi everywhere); either bound may be null (not both). Bounds
// broadcast like any operand and are differentiable too.
// Derivative (JAX's jnp.clip, which is this same composition): 1 for x
// strictly inside, 0 outside, and at a bound (x == lo or x == hi) 1/2 to x
// and 1/2 to the bound, since maximum/minimum split a tie evenly.

import { NDArray } from "../ndarray.js";
import { broadcastTo } from "../operand.js";
import { maximum, maximumOp, minimum, minimumOp } from "./binary.js";
import type { NdOp, Operand } from "../types.js";

type Bound = Operand | null | undefined;

/** The first stage's result: x raised to lo (x itself without a lower bound). */
function raised(x: Operand, lo: Bound): Operand {
  return lo === null || lo === undefined ? x : maximum(x, lo);
}

export function clip(x: Operand, lo: Bound, hi?: Bound): NDArray {
  const noLo = lo === null || lo === undefined;
  const noHi = hi === null || hi === undefined;
  if (noLo && noHi) throw new TypeError("clip: one of lo or hi must be given");
  const m = raised(x, lo);
  return noHi ? (m as NDArray) : minimum(m, hi);
}

function jvp(i: number, t: Operand, args: readonly any[], out: NDArray): Operand {
  const [x, lo, hi] = args as [Operand, Bound, Bound];
  const m = raised(x, lo);
  if (i === 2) return minimumOp.jvp(1, t, [m, hi], out);
  const noLo = lo === null || lo === undefined;
  const tm = noLo ? t : maximumOp.jvp(i, t, [x, lo], m);
  if (hi === null || hi === undefined) return broadcastTo(tm, out.shape);
  return minimumOp.jvp(0, tm, [m, hi], out);
}

function vjp(i: number, g: Operand, args: readonly any[], out: NDArray): Operand {
  const [x, lo, hi] = args as [Operand, Bound, Bound];
  const m = raised(x, lo);
  if (i === 2) return minimumOp.vjp(1, g, [m, hi], out);
  const gm = hi === null || hi === undefined ? g : minimumOp.vjp(0, g, [m, hi], out);
  if (lo === null || lo === undefined) return gm;
  return maximumOp.vjp(i, gm, [x, lo], m);
}

export const clipOps: readonly NdOp[] = [
  { name: "clip", diff: [0, 1, 2], method: true, returns: "ndarray", primal: clip, jvp, vjp },
];
