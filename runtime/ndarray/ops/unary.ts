// Elementwise unary ops and their registry entries. Each op is a primal map f
// and a local derivative d(x, y) given the input x and the output y = f(x);
// since the Jacobian is diagonal, jvp and vjp are both "multiply by d".
// Kink conventions (as in JAX): abs'(0) = sign(0) = 0 and relu'(0) = 0;
// sign's derivative is 0 everywhere (piecewise constant; also at its jump).
// sqrt'(0) and log'(0) are left infinite, as the formulas give.
// Operands may be JS numbers (0-d); bool arrays are read as 0/1 and every
// result is float64.

import { NDArray } from "../ndarray.js";
import { broadcastTo, buf, sumAll } from "../operand.js";
import type { NdOp, Operand } from "../types.js";

// Whole-array loops, one literal per op so each is optimised on its own (a
// shared loop calling a per-element callback goes megamorphic and boxes).
/** out[i] = f(x[i]) */
type Map1 = (x: Float64Array, out: Float64Array) => void;
/** out[i] = s[i] * f'(x[i]) given y[i] = f(x[i]) */
type DMap = (s: Float64Array, x: Float64Array, y: Float64Array, out: Float64Array) => void;

function mapper(f: Map1): (a: Operand) => NDArray {
  return (a: Operand): NDArray => {
    const b = buf(a);
    const out = new Float64Array(b.data.length);
    f(b.data, out);
    return new NDArray(out, b.shape);
  };
}

/** s * f'(x), where s (a tangent or cotangent) is brought to the output's shape first. */
function scaleByDeriv(s: Operand, x: Operand, y: NDArray, d: DMap): NDArray {
  const sd = typeof s === "number" || s.size !== y.size ? broadcastTo(s, y.shape).data : s.data;
  const out = new Float64Array(y.size);
  d(sd, buf(x).data, y.data, out);
  return new NDArray(out, y.shape);
}

function entry(name: string, primal: (a: Operand) => NDArray, d: DMap): NdOp {
  return {
    name,
    diff: [0],
    method: true,
    returns: "ndarray",
    primal,
    jvp: (_i, t, args, out: NDArray) => scaleByDeriv(t, args[0], out, d),
    vjp: (_i, g, args, out: NDArray) => {
      const r = scaleByDeriv(g, args[0], out, d);
      return typeof args[0] === "number" ? sumAll(r) : r;
    },
  };
}

export const neg = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = -x[i]; });
export const square = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i] * x[i]; });
export const exp = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.exp(x[i]); });
export const log = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.log(x[i]); });
export const sqrt = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]); });
export const sin = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.sin(x[i]); });
export const cos = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.cos(x[i]); });
export const tanh = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.tanh(x[i]); });
export const sigmoid = mapper((x, o) => {
  // Two branches so exp never overflows: its argument is always <= 0.
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v >= 0) o[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      o[i] = e / (1 + e);
    }
  }
});
export const relu = mapper((x, o) => {
  // NaN passes through (v !== v), like numpy's maximum(x, 0).
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    o[i] = v > 0 || v !== v ? v : 0;
  }
});
export const log1p = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.log1p(x[i]); });
// sign(0) = 0 (also -0 gives 0); NaN stays NaN, as numpy.
export const sign = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i] > 0 ? 1 : x[i] < 0 ? -1 : x[i] === 0 ? 0 : NaN; });
export const abs = mapper((x, o) => { for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]); });

export const unaryOps: readonly NdOp[] = [
  entry("neg", neg, (s, _x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = -s[i]; }),
  entry("square", square, (s, x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = 2 * x[i] * s[i]; }),
  entry("exp", exp, (s, _x, y, o) => { for (let i = 0; i < o.length; i++) o[i] = s[i] * y[i]; }),
  entry("log", log, (s, x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = s[i] / x[i]; }),
  entry("sqrt", sqrt, (s, _x, y, o) => { for (let i = 0; i < o.length; i++) o[i] = (0.5 * s[i]) / y[i]; }),
  entry("sin", sin, (s, x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = s[i] * Math.cos(x[i]); }),
  entry("cos", cos, (s, x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = -s[i] * Math.sin(x[i]); }),
  entry("tanh", tanh, (s, _x, y, o) => { for (let i = 0; i < o.length; i++) o[i] = s[i] * (1 - y[i] * y[i]); }),
  entry("sigmoid", sigmoid, (s, _x, y, o) => { for (let i = 0; i < o.length; i++) o[i] = s[i] * y[i] * (1 - y[i]); }),
  entry("relu", relu, (s, x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = x[i] > 0 ? s[i] : 0; }),
  entry("log1p", log1p, (s, x, _y, o) => { for (let i = 0; i < o.length; i++) o[i] = s[i] / (1 + x[i]); }),
  entry("sign", sign, (_s, _x, _y, o) => o.fill(0)),
  // sign(x) with sign(0) = 0; NaN stays NaN.
  entry("abs", abs, (s, x, _y, o) => {
    for (let i = 0; i < o.length; i++) {
      const v = x[i];
      o[i] = v > 0 ? s[i] : v < 0 ? -s[i] : v === 0 ? 0 : NaN;
    }
  }),
];
