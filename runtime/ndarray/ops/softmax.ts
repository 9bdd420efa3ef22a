// logsumexp, softmax and logSoftmax over the axes of `axis` (see axes.ts;
// softmax and logSoftmax default to the last axis, as MXNet's), with their
// registry entries. All three subtract the max before exponentiating, so
// large inputs do not overflow; a max that is not finite (every entry -inf,
// or an inf) is replaced by 0 there, as scipy's logsumexp does.
// Derivatives, with s = softmax(x) over the same axes:
//   d logsumexp = sum(s dx);  d softmax = s (dx - sum(s dx));
//   d logSoftmax = dx - sum(s dx).

import { NDArray } from "../ndarray.js";
import { buf } from "../operand.js";
import { mul, sub } from "./binary.js";
import { exp } from "./unary.js";
import { max, spread, sum } from "./reduce.js";
import type { Axis } from "./axes.js";
import type { NdOp, Operand } from "../types.js";

export function logsumexp(a: Operand, axis?: Axis, keepdims = false): NDArray {
  const m = max(a, axis, true);
  for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i])) m.data[i] = 0;
  const s = sum(exp(sub(a, m)), axis, keepdims);
  // s and m hold the same elements in the same order (m only keeps size-1 axes).
  for (let i = 0; i < s.data.length; i++) s.data[i] = Math.log(s.data[i]) + m.data[i];
  return s;
}

export function softmax(a: Operand, axis: Axis = -1): NDArray {
  return exp(logSoftmax(a, axis));
}

export function logSoftmax(a: Operand, axis: Axis = -1): NDArray {
  return sub(a, logsumexp(a, axis, true));
}

/** softmax/logSoftmax's axis argument: -1 when omitted (null is every axis, not the default). */
function axisOf(args: readonly any[]): Axis {
  return args[1] === undefined ? -1 : args[1];
}

/** The adjoint in operand a's kind: a number for a number. */
function back(a: Operand, r: NDArray): Operand {
  return typeof a === "number" ? r.data[0] : r;
}

/** s * (v - sum(s v)) over the axes, in s's shape. */
function centred(s: NDArray, v: Operand, axis: Axis): NDArray {
  return mul(s, sub(v, sum(mul(s, v), axis, true)));
}

export const softmaxOps: readonly NdOp[] = [
  {
    name: "logsumexp",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: logsumexp,
    jvp: (_i, t, args) => sum(mul(softmax(args[0], args[1] ?? null), t), args[1], args[2]),
    vjp: (_i, g, args) => spread(g, args, 1, softmax(args[0], args[1] ?? null)),
  },
  {
    name: "softmax",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: softmax,
    jvp: (_i, t, args, out: NDArray) => centred(out, t, axisOf(args)),
    vjp: (_i, g, args, out: NDArray) => back(args[0], centred(out, g, axisOf(args))),
  },
  {
    name: "logSoftmax",
    diff: [0],
    method: true,
    returns: "ndarray",
    primal: logSoftmax,
    jvp: (_i, t, args, out: NDArray) => {
      const axis = axisOf(args);
      return sub(t, sum(mul(exp(out), t), axis, true));
    },
    vjp: (_i, g, args, out: NDArray) => {
      const axis = axisOf(args);
      return back(args[0], sub(g, mul(exp(out), sum(g, axis, true))));
    },
  },
];
