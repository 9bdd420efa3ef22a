// Broadcasting binary arithmetic and its registry entries.
// Every jvp result has the output's shape (a tangent of a smaller operand is
// broadcast up); every vjp result is summed back to its operand's shape
// (adjointFor / adjointFresh), and is a number for a number operand.
// Conventions at non-smooth points, all JAX's:
//   maximum/minimum at a tie give each side half the cotangent;
//   pow: d/da is 0 where b == 0 (avoids 0 * inf at a == 0), d/db is 0 where a == 0.

import { NDArray } from "../ndarray.js";
import { binaryMap, type Row2 } from "../kernels/strided.js";
import { adjointFor, adjointFresh, broadcastTo, buf, tangentFor, wrap } from "../operand.js";
import type { NdOp, Operand } from "../types.js";

// Row kernels (see Row2): out[k] = f(a[i], b[j]) while k, i, j advance by 1, sa, sb.
const addRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] + b[j]; };
const subRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] - b[j]; };
const mulRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] * b[j]; };
const divRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] / b[j]; };
const powRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = Math.pow(a[i], b[j]); };
// NaN wins, as in numpy: the comparison is false for a NaN x, so x !== x tests it.
const maxRow: Row2 = (o, k, a, i, si, b, j, sj, n) => {
  for (const e = k + n; k < e; k++, i += si, j += sj) {
    const x = a[i];
    const y = b[j];
    o[k] = x > y || x !== x ? x : y;
  }
};
const minRow: Row2 = (o, k, a, i, si, b, j, sj, n) => {
  for (const e = k + n; k < e; k++, i += si, j += sj) {
    const x = a[i];
    const y = b[j];
    o[k] = x < y || x !== x ? x : y;
  }
};

function binary(row: Row2): (a: Operand, b: Operand) => NDArray {
  return (a: Operand, b: Operand): NDArray => wrap(binaryMap(buf(a), buf(b), row));
}

export const add = binary(addRow);
export const sub = binary(subRow);
export const mul = binary(mulRow);
export const div = binary(divRow);
export const pow = binary(powRow);
export const maximum = binary(maxRow);
export const minimum = binary(minRow);

// Local derivatives used by the rules, as row kernels over (a, b) or (a, out).
/** d(a^b)/da = b * a^(b-1), taken as 0 where b == 0. */
const dPowBase: Row2 = (o, k, a, i, si, b, j, sj, n) => {
  for (const e = k + n; k < e; k++, i += si, j += sj) {
    const y = b[j];
    o[k] = y === 0 ? 0 : y * Math.pow(a[i], y - 1);
  }
};
/** d(a^b)/db = log(a) * a^b, taken as 0 where a == 0. */
const dPowExp: Row2 = (o, k, a, i, si, b, j, sj, n) => {
  for (const e = k + n; k < e; k++, i += si, j += sj) {
    const x = a[i];
    o[k] = x === 0 ? 0 : Math.log(x) * b[j];
  }
};
/** 1 where the input equals the output (it was chosen), else 0. */
const chosenRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] === b[j] ? 1 : 0; };
/** Halves a share where the other side tied too. */
const tieRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = b[j] !== 0 ? a[i] * 0.5 : a[i]; };

/** 1 where x chose the output, 0.5 where x and y tie, else 0 (broadcast to the output shape). */
function chooserShare(x: Operand, other: Operand, out: NDArray): NDArray {
  const mine = binaryMap(buf(x), out, chosenRow);
  const theirs = binaryMap(buf(other), out, chosenRow);
  return wrap(binaryMap(mine, theirs, tieRow));
}

function shareOf(i: number, args: readonly any[], out: NDArray): NDArray {
  return i === 0 ? chooserShare(args[0], args[1], out) : chooserShare(args[1], args[0], out);
}

function op(name: string, primal: (a: Operand, b: Operand) => NDArray, rules: Pick<NdOp, "jvp" | "vjp">): NdOp {
  return { name, diff: [0, 1], method: true, returns: "ndarray", primal, ...rules };
}

const chooserRules: Pick<NdOp, "jvp" | "vjp"> = {
  jvp: (i, t, args, out: NDArray) => mul(t, shareOf(i, args, out)),
  vjp: (i, g, args, out: NDArray) => adjointFresh(mul(g, shareOf(i, args, out)), args[i]),
};

/** Named because clip is maximum then minimum and reuses their rules. */
export const maximumOp = op("maximum", maximum, chooserRules);
export const minimumOp = op("minimum", minimum, chooserRules);

export const binaryOps: readonly NdOp[] = [
  op("add", add, {
    jvp: (_i, t, _args, out: NDArray) => broadcastTo(t, out.shape),
    vjp: (i, g, args) => adjointFor(g, args[i]),
  }),
  op("sub", sub, {
    jvp: (i, t, _args, out: NDArray) => (i === 0 ? broadcastTo(t, out.shape) : tangentFor(mul(t, -1), out)),
    vjp: (i, g, args) => (i === 0 ? adjointFor(g, args[0]) : adjointFresh(mul(g, -1), args[1])),
  }),
  op("mul", mul, {
    jvp: (i, t, args) => (i === 0 ? mul(t, args[1]) : mul(args[0], t)),
    vjp: (i, g, args) => adjointFresh(mul(g, args[1 - i]), args[i]),
  }),
  op("div", div, {
    // d(a/b) = da/b - db*out/b
    jvp: (i, t, args, out: NDArray) => (i === 0 ? div(t, args[1]) : div(mul(t, out), args[1]).neg()),
    vjp: (i, g, args, out: NDArray) =>
      i === 0 ? adjointFresh(div(g, args[1]), args[0]) : adjointFresh(div(mul(g, out), args[1]).neg(), args[1]),
  }),
  op("pow", pow, {
    jvp: (i, t, args, out: NDArray) =>
      i === 0 ? mul(t, wrap(binaryMap(buf(args[0]), buf(args[1]), dPowBase))) : mul(t, wrap(binaryMap(buf(args[0]), out, dPowExp))),
    vjp: (i, g, args, out: NDArray) =>
      i === 0
        ? adjointFresh(mul(g, wrap(binaryMap(buf(args[0]), buf(args[1]), dPowBase))), args[0])
        : adjointFresh(mul(g, wrap(binaryMap(buf(args[0]), out, dPowExp))), args[1]),
  }),
  maximumOp,
  minimumOp,
];
