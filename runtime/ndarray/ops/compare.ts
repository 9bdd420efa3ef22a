// Comparisons (bool-dtype results, never differentiated), the logical
// reductions all/any/allclose (JS booleans) and `where`, whose condition is a
// static operand while both branches are differentiable.
// Invariants: bool arrays hold exactly 0/1; any array (or number) is accepted
// as a condition, nonzero meaning true (so NaN counts as true, as in numpy).

import { NDArray } from "../ndarray.js";
import { binaryMap, ternaryMap, type Row2, type Row3 } from "../kernels/strided.js";
import { adjointFresh, buf, tangentFor, wrap } from "../operand.js";
import type { NdOp, Operand } from "../types.js";

// Row kernels (see Row2): one literal loop per comparison.
const gtRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] > b[j] ? 1 : 0; };
const ltRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] < b[j] ? 1 : 0; };
const geRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] >= b[j] ? 1 : 0; };
const leRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] <= b[j] ? 1 : 0; };
const eqRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] === b[j] ? 1 : 0; };
const neRow: Row2 = (o, k, a, i, si, b, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = a[i] !== b[j] ? 1 : 0; };
/** s where the condition holds, else 0 (and the converse): where's derivative masks. */
const keepIfTrue: Row2 = (o, k, c, i, si, s, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = c[i] !== 0 ? s[j] : 0; };
const keepIfFalse: Row2 = (o, k, c, i, si, s, j, sj, n) => { for (const e = k + n; k < e; k++, i += si, j += sj) o[k] = c[i] !== 0 ? 0 : s[j]; };
const pickRow: Row3 = (o, k, c, i, si, a, j, sj, b, l, sl, n) => {
  for (const e = k + n; k < e; k++, i += si, j += sj, l += sl) o[k] = c[i] !== 0 ? a[j] : b[l];
};

function comparison(row: Row2): (a: Operand, b: Operand) => NDArray {
  return (a: Operand, b: Operand): NDArray => wrap(binaryMap(buf(a), buf(b), row), "bool");
}

export const greater = comparison(gtRow);
export const less = comparison(ltRow);
export const greaterEqual = comparison(geRow);
export const lessEqual = comparison(leRow);
export const equal = comparison(eqRow);
export const notEqual = comparison(neRow);

/** numpy where(cond, a, b): elementwise choice with three-way broadcasting. */
export function where(cond: Operand, a: Operand, b: Operand): NDArray {
  return wrap(ternaryMap(buf(cond), buf(a), buf(b), pickRow));
}

export function all(a: Operand): boolean {
  const d = buf(a).data;
  for (let i = 0; i < d.length; i++) if (d[i] === 0) return false;
  return true;
}

export function any(a: Operand): boolean {
  const d = buf(a).data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) return true;
  return false;
}

/** numpy allclose: |a - b| <= atol + rtol * |b| everywhere (broadcasting); NaN is never close. */
export function allclose(a: Operand, b: Operand, rtol = 1e-5, atol = 1e-8): boolean {
  // x === y first so equal infinities count as close.
  const closeRow: Row2 = (o, k, x, i, si, y, j, sj, n) => {
    for (const e = k + n; k < e; k++, i += si, j += sj) {
      o[k] = x[i] === y[j] || Math.abs(x[i] - y[j]) <= atol + rtol * Math.abs(y[j]) ? 1 : 0;
    }
  };
  return all(wrap(binaryMap(buf(a), buf(b), closeRow)));
}

function noRule(name: string): NdOp["jvp"] {
  return () => {
    throw new Error(`${name} is not differentiable`);
  };
}

/** An entry with no differentiable operand: its jvp and vjp throw. */
export function nonDiff(name: string, primal: (...args: any[]) => any, returns: NdOp["returns"], method: boolean): NdOp {
  return { name, diff: [], method, returns, primal, jvp: noRule(name), vjp: noRule(name) };
}

export const compareOps: readonly NdOp[] = [
  nonDiff("greater", greater, "bool", true),
  nonDiff("less", less, "bool", true),
  nonDiff("greaterEqual", greaterEqual, "bool", true),
  nonDiff("lessEqual", lessEqual, "bool", true),
  nonDiff("equal", equal, "bool", true),
  nonDiff("notEqual", notEqual, "bool", true),
  nonDiff("all", all, "boolean", true),
  nonDiff("any", any, "boolean", true),
  nonDiff("allclose", allclose, "boolean", false),
  {
    name: "where",
    diff: [1, 2],
    // Not a method: its operand 0 is the condition, which reads badly as a receiver.
    method: false,
    returns: "ndarray",
    primal: where,
    jvp: (i, t, args, out: NDArray) =>
      tangentFor(wrap(binaryMap(buf(args[0]), buf(t), i === 1 ? keepIfTrue : keepIfFalse)), out),
    vjp: (i, g, args) => adjointFresh(wrap(binaryMap(buf(args[0]), buf(g), i === 1 ? keepIfTrue : keepIfFalse)), args[i]),
  },
];
