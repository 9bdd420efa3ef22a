// dot, matmul and linalg.norm with their registry entries.
// dot follows numpy for every rank pair: a 0-d operand (or number) means
// multiply; otherwise it contracts a's last axis with b's last axis (b 1-D) or
// b's second-to-last axis (b N-D), so out.shape = a.shape[:-1] + b.shape[:-2]
// + b.shape[-1:]. Hence 1-D.1-D -> 0-d, 2-D.2-D -> matmul, 2-D.1-D -> [n],
// 1-D.2-D -> [m]. With a viewed as P x K and b as Q blocks of K x M, one gemm
// per block covers all cases, and the adjoints are gemmNT/gemmTN on the same
// blocks.
// matmul follows numpy's matmul: 1-D operands are promoted (a row, b column)
// and the added axis dropped from the result; leading batch axes broadcast,
// and their adjoints accumulate into shared blocks through the gemm kernels.
// norm is the 2-norm of all elements (Frobenius for matrices) as a 0-d array;
// its derivative at 0 is taken as 0 (the subgradient of smallest norm).

import { NDArray } from "../ndarray.js";
import { broadcastShapes, broadcastStrides, sizeOf, type Shape } from "../layout.js";
import { gemm, gemmNT, gemmTN } from "../kernels/matmul.js";
import { gather } from "../kernels/strided.js";
import { adjointFresh, asArray, buf, sumAll } from "../operand.js";
import { mul } from "./binary.js";
import type { NdOp, Operand } from "../types.js";

function fmt(s: Shape): string {
  return `(${s.join(",")}${s.length === 1 ? "," : ""})`;
}

interface DotPlan {
  P: number;
  K: number;
  Q: number;
  M: number;
  out: Shape;
}

function dotPlan(a: Shape, b: Shape): DotPlan {
  const K = a[a.length - 1];
  const bk = b.length === 1 ? 0 : b.length - 2;
  if (b[bk] !== K) {
    throw new RangeError(`shapes ${fmt(a)} and ${fmt(b)} not aligned: ${K} (dim ${a.length - 1}) != ${b[bk]} (dim ${bk})`);
  }
  const M = b.length === 1 ? 1 : b[b.length - 1];
  const lead = a.slice(0, -1);
  const out = b.length === 1 ? lead : [...lead, ...b.slice(0, -2), M];
  return { P: sizeOf(lead), K, Q: b.length === 1 ? 1 : sizeOf(b.slice(0, -2)), M, out };
}

function isScalarLike(x: Operand): boolean {
  return typeof x === "number" || x.ndim === 0;
}

export function dot(a: Operand, b: Operand): NDArray {
  if (isScalarLike(a) || isScalarLike(b)) return mul(a, b);
  const A = asArray(a);
  const B = asArray(b);
  const { P, K, Q, M, out } = dotPlan(A.shape, B.shape);
  const c = new Float64Array(P * Q * M);
  for (let q = 0; q < Q; q++) gemm(P, K, M, A.data, 0, K, B.data, q * K * M, M, c, q * M, Q * M);
  return new NDArray(c, out);
}

function dotVjp(i: number, g: Operand, args: readonly any[]): Operand {
  const [a, b] = args as [Operand, Operand];
  if (isScalarLike(a) || isScalarLike(b)) return adjointFresh(mul(g, args[1 - i]), args[i]);
  const A = asArray(a);
  const B = asArray(b);
  const G = buf(g).data;
  const { P, K, Q, M } = dotPlan(A.shape, B.shape);
  if (i === 0) {
    const ga = new Float64Array(A.size);
    for (let q = 0; q < Q; q++) gemmNT(P, M, K, G, q * M, Q * M, B.data, q * K * M, M, ga, 0, K);
    return new NDArray(ga, A.shape);
  }
  const gb = new Float64Array(B.size);
  for (let q = 0; q < Q; q++) gemmTN(P, K, M, A.data, 0, K, G, q * M, Q * M, gb, q * K * M, M);
  return new NDArray(gb, B.shape);
}

interface MatmulPlan {
  n: number;
  k: number;
  m: number;
  /** Element offset of each batch's block in a and in b, in output batch order. */
  aOff: Float64Array;
  bOff: Float64Array;
  out: Shape;
}

function batchOffsets(own: Shape, batch: Shape, block: number): Float64Array {
  const iota = new Float64Array(sizeOf(own));
  for (let i = 0; i < iota.length; i++) iota[i] = i * block;
  return gather(iota, 0, broadcastStrides(own, batch), batch);
}

function matmulPlan(a: Shape, b: Shape): MatmulPlan {
  if (a.length === 0 || b.length === 0) {
    throw new RangeError(`matmul: operand ${a.length === 0 ? 0 : 1} does not have enough dimensions (needs at least 1)`);
  }
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const n = a2[a2.length - 2];
  const k = a2[a2.length - 1];
  const m = b2[b2.length - 1];
  if (b2[b2.length - 2] !== k) {
    throw new RangeError(`matmul: mismatch in its core dimension: ${fmt(a)} @ ${fmt(b)} (${k} != ${b2[b2.length - 2]})`);
  }
  const batchA = a2.slice(0, -2);
  const batchB = b2.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  const out = [...batch];
  if (a.length > 1) out.push(n);
  if (b.length > 1) out.push(m);
  return { n, k, m, aOff: batchOffsets(batchA, batch, n * k), bOff: batchOffsets(batchB, batch, k * m), out };
}

export function matmul(a: Operand, b: Operand): NDArray {
  const A = asArray(a);
  const B = asArray(b);
  const { n, k, m, aOff, bOff, out } = matmulPlan(A.shape, B.shape);
  const c = new Float64Array(aOff.length * n * m);
  for (let t = 0; t < aOff.length; t++) gemm(n, k, m, A.data, aOff[t], k, B.data, bOff[t], m, c, t * n * m, m);
  return new NDArray(c, out);
}

function matmulVjp(i: number, g: Operand, args: readonly any[]): Operand {
  const A = asArray(args[0]);
  const B = asArray(args[1]);
  const G = buf(g).data;
  const { n, k, m, aOff, bOff } = matmulPlan(A.shape, B.shape);
  if (i === 0) {
    const ga = new Float64Array(A.size);
    for (let t = 0; t < aOff.length; t++) gemmNT(n, m, k, G, t * n * m, m, B.data, bOff[t], m, ga, aOff[t], k);
    return new NDArray(ga, A.shape);
  }
  const gb = new Float64Array(B.size);
  for (let t = 0; t < aOff.length; t++) gemmTN(n, k, m, A.data, aOff[t], k, G, t * n * m, m, gb, bOff[t], m);
  return new NDArray(gb, B.shape);
}

export function norm(a: Operand): NDArray {
  const d = buf(a).data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return new NDArray(Float64Array.of(Math.sqrt(s)), []);
}

function normJvp(_i: number, t: Operand, args: readonly any[], out: NDArray): Operand {
  const r = out.data[0];
  const x = buf(args[0]).data;
  const td = buf(t).data;
  let s = 0;
  if (r !== 0) for (let i = 0; i < x.length; i++) s += x[i] * td[i];
  return new NDArray(Float64Array.of(r === 0 ? 0 : s / r), []);
}

function normVjp(_i: number, g: Operand, args: readonly any[], out: NDArray): Operand {
  const r = out.data[0];
  const scale = r === 0 ? 0 : sumAll(g) / r;
  const a: Operand = args[0];
  if (typeof a === "number") return a * scale;
  const ga = new Float64Array(a.size);
  for (let i = 0; i < ga.length; i++) ga[i] = a.data[i] * scale;
  return new NDArray(ga, a.shape);
}

export const linalgOps: readonly NdOp[] = [
  {
    name: "dot",
    diff: [0, 1],
    method: true,
    returns: "ndarray",
    primal: dot,
    jvp: (i, t, args) => (i === 0 ? dot(t, args[1]) : dot(args[0], t)),
    vjp: dotVjp,
  },
  {
    name: "matmul",
    diff: [0, 1],
    method: true,
    returns: "ndarray",
    primal: matmul,
    jvp: (i, t, args) => (i === 0 ? matmul(t, args[1]) : matmul(args[0], t)),
    vjp: matmulVjp,
  },
  { name: "norm", diff: [0], method: true, returns: "ndarray", npPath: "linalg.norm", primal: norm, jvp: normJvp, vjp: normVjp },
];
