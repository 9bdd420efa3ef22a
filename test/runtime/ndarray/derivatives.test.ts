// One table drives the derivative checks for every registry entry. For each
// row and each differentiable operand i it checks, on seeded random inputs:
//   - jvp(i, t) has the output's kind/shape and matches central differences;
//   - vjp(i, g) has operand i's kind/shape, satisfies <vjp(g), t> = <g, jvp(t)>,
//     and matches the finite-difference gradient of <g, f(x)> entry by entry.
// Inputs stay away from kinks and poles; the conventions at kinks are tested
// in conventions.test.ts. A differentiable op without a row fails the suite.

import { describe, expect, test } from "vitest";
import { ndOps, np, type NDArray, type Xoshiro128 } from "../../../runtime/ndarray/index.js";
import {
  awayFromZero, basis, centralDiff, expectClose, filled, flat, inner, kindOf, normalArray, randomLike, rng,
  uniformArray, type Value,
} from "./helpers.js";

type Shape = number[] | null; // null: a JS number operand
type Gen = (r: Xoshiro128, shape: Shape) => NDArray | number;

interface Row {
  op: string;
  label: string;
  args: (r: Xoshiro128) => unknown[];
}

const normal: Gen = (r, s) => (s === null ? r.nextNormal() : normalArray(r, s));
const positive: Gen = (r, s) => (s === null ? 0.5 + 1.5 * r.nextDouble() : uniformArray(r, s, 0.5, 2));
const nonzero: Gen = (r, s) => (s === null ? 0.7 + r.nextDouble() : awayFromZero(r, s, 0.5));
const exponent: Gen = (r, s) => (s === null ? -1.5 + 3.5 * r.nextDouble() : uniformArray(r, s, -1.5, 2));

/** Values that are pairwise at least 0.2 apart, in random order: no ties, even after an h-sized nudge. */
function distinctPool(r: Xoshiro128, n: number): number[] {
  const v = Array.from({ length: n }, (_x, k) => k * 0.25 - n * 0.125 + 0.03 * r.nextDouble());
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(r.nextDouble() * (k + 1));
    [v[k], v[j]] = [v[j], v[k]];
  }
  return v;
}

function fromPool(pool: number[], s: Shape): NDArray | number {
  return s === null ? pool.pop()! : filled(s, () => pool.pop()!);
}

const distinct: Gen = (r, s) => fromPool(distinctPool(r, s === null ? 1 : s.reduce((a, b) => a * b, 1)), s);

const broadcastPairs: [string, Shape, Shape][] = [
  ["[3,4] with [3,4]", [3, 4], [3, 4]],
  ["[3,1] with [1,4]", [3, 1], [1, 4]],
  ["[4] with [3,4]", [4], [3, 4]],
  ["[2,3,4] with [3,1]", [2, 3, 4], [3, 1]],
  ["number with [3,4]", null, [3, 4]],
  ["[3,4] with number", [3, 4], null],
  ["number with number", null, null],
];

function binaryRows(op: string, genA: Gen, genB: Gen): Row[] {
  return broadcastPairs.map(([label, sa, sb]) => ({ op, label, args: (r) => [genA(r, sa), genB(r, sb)] }));
}

/** maximum/minimum: both operands drawn from one pool so no pair of entries ties. */
function chooserRows(op: string): Row[] {
  const count = (s: Shape): number => (s === null ? 1 : s.reduce((a, b) => a * b, 1));
  return broadcastPairs.map(([label, sa, sb]) => ({
    op,
    label,
    args: (r) => {
      const pool = distinctPool(r, count(sa) + count(sb));
      return [fromPool(pool, sa), fromPool(pool, sb)];
    },
  }));
}

function unaryRows(op: string, gen: Gen): Row[] {
  return [
    { op, label: "[3,4]", args: (r) => [gen(r, [3, 4])] },
    { op, label: "number", args: (r) => [gen(r, null)] },
  ];
}

function reduceRows(op: string, gen: Gen): Row[] {
  return [
    { op, label: "all elements", args: (r) => [gen(r, [3, 4])] },
    { op, label: "all elements keepdims", args: (r) => [gen(r, [3, 4]), null, true] },
    { op, label: "axis 0", args: (r) => [gen(r, [3, 4]), 0] },
    { op, label: "axis -1 keepdims", args: (r) => [gen(r, [3, 4]), -1, true] },
    { op, label: "[2,3,4] axis 1", args: (r) => [gen(r, [2, 3, 4]), 1] },
    { op, label: "[2,3,4] axes [1,2] (adjacent)", args: (r) => [gen(r, [2, 3, 4]), [1, 2]] },
    { op, label: "[2,3,4] axes [2,0] keepdims (not adjacent)", args: (r) => [gen(r, [2, 3, 4]), [2, 0], true] },
    { op, label: "number", args: (r) => [gen(r, null)] },
  ];
}

/** Along-an-axis ops (softmax, logSoftmax): the axis forms they accept. */
function axisRows(op: string): Row[] {
  return [
    { op, label: "[3,4] default axis", args: (r) => [normal(r, [3, 4])] },
    { op, label: "[2,3,4] axis 1", args: (r) => [normal(r, [2, 3, 4]), 1] },
    { op, label: "[3,4] all axes", args: (r) => [normal(r, [3, 4]), null] },
    { op, label: "[2,3,4] axes [0,2]", args: (r) => [normal(r, [2, 3, 4]), [0, 2]] },
    { op, label: "[5] default axis", args: (r) => [normal(r, [5])] },
  ];
}

/** x, lo and hi from one pool, so no entry ties with a bound. */
function clipRow(label: string, sx: Shape, slo: Shape, shi: Shape): Row {
  const count = (s: Shape): number => (s === null ? 1 : s.reduce((a, b) => a * b, 1));
  return {
    op: "clip",
    label,
    args: (r) => {
      const pool = distinctPool(r, count(sx) + count(slo) + count(shi));
      return [fromPool(pool, sx), fromPool(pool, slo), fromPool(pool, shi)];
    },
  };
}

/** Normal samples with two entries set to exactly 0 (prod's partials there are not out / x). */
const withZeros: Gen = (r, s) => {
  const x = normal(r, s);
  if (typeof x === "number") return 0;
  x.data[1] = 0;
  x.data[x.size - 2] = 0;
  return x;
};

const cond = (r: Xoshiro128, s: number[]): NDArray => np.greater(normalArray(r, s), 0);

const table: Row[] = [
  ...unaryRows("neg", normal),
  ...unaryRows("square", normal),
  ...unaryRows("exp", normal),
  ...unaryRows("log", positive),
  ...unaryRows("sqrt", positive),
  ...unaryRows("sin", normal),
  ...unaryRows("cos", normal),
  ...unaryRows("tanh", normal),
  ...unaryRows("sigmoid", normal),
  ...unaryRows("relu", nonzero),
  ...unaryRows("abs", nonzero),
  ...unaryRows("log1p", (r, s) => (s === null ? -0.8 + 2.8 * r.nextDouble() : uniformArray(r, s, -0.8, 2))),
  ...unaryRows("sign", nonzero),
  ...binaryRows("add", normal, normal),
  ...binaryRows("sub", normal, normal),
  ...binaryRows("mul", normal, normal),
  ...binaryRows("div", normal, nonzero),
  ...binaryRows("pow", positive, exponent),
  ...chooserRows("maximum"),
  ...chooserRows("minimum"),
  { op: "where", label: "all [3,4]", args: (r) => [cond(r, [3, 4]), normal(r, [3, 4]), normal(r, [3, 4])] },
  { op: "where", label: "cond [3,1], a [1,4], b number", args: (r) => [cond(r, [3, 1]), normal(r, [1, 4]), normal(r, null)] },
  { op: "where", label: "cond [4], a [3,4], b [4]", args: (r) => [cond(r, [4]), normal(r, [3, 4]), normal(r, [4])] },
  { op: "where", label: "a number, b [2,3]", args: (r) => [cond(r, [2, 3]), normal(r, null), normal(r, [2, 3])] },
  ...reduceRows("sum", normal),
  ...reduceRows("mean", normal),
  ...reduceRows("max", distinct),
  ...reduceRows("min", distinct),
  ...reduceRows("prod", normal),
  { op: "prod", label: "[3,4] with zeros, all elements", args: (r) => [withZeros(r, [3, 4])] },
  { op: "prod", label: "[3,4] with zeros, axis 1", args: (r) => [withZeros(r, [3, 4]), 1] },
  ...reduceRows("var", normal),
  { op: "var", label: "[3,4] axis 0 ddof 1", args: (r) => [normal(r, [3, 4]), 0, false, 1] },
  ...reduceRows("std", normal),
  { op: "std", label: "[3,4] axis -1 ddof 1", args: (r) => [normal(r, [3, 4]), -1, true, 1] },
  ...reduceRows("logsumexp", normal),
  ...axisRows("softmax"),
  ...axisRows("logSoftmax"),
  clipRow("number bounds", [3, 4], null, null),
  clipRow("bounds [4] and [3,1]", [3, 4], [4], [3, 1]),
  clipRow("x number, bounds [2]", null, [2], [2]),
  clipRow("all numbers", null, null, null),
  { op: "dot", label: "1-D . 1-D", args: (r) => [normal(r, [4]), normal(r, [4])] },
  { op: "dot", label: "2-D . 2-D", args: (r) => [normal(r, [3, 4]), normal(r, [4, 2])] },
  { op: "dot", label: "2-D . 1-D", args: (r) => [normal(r, [3, 4]), normal(r, [4])] },
  { op: "dot", label: "1-D . 2-D", args: (r) => [normal(r, [4]), normal(r, [4, 2])] },
  { op: "dot", label: "3-D . 3-D", args: (r) => [normal(r, [2, 3, 4]), normal(r, [2, 4, 3])] },
  { op: "dot", label: "3-D . 1-D", args: (r) => [normal(r, [2, 3, 4]), normal(r, [4])] },
  { op: "dot", label: "number . 2-D", args: (r) => [normal(r, null), normal(r, [3, 2])] },
  { op: "dot", label: "2-D . 0-d", args: (r) => [normal(r, [3, 2]), normal(r, [])] },
  { op: "matmul", label: "2-D @ 2-D", args: (r) => [normal(r, [3, 4]), normal(r, [4, 2])] },
  { op: "matmul", label: "1-D @ 2-D", args: (r) => [normal(r, [4]), normal(r, [4, 2])] },
  { op: "matmul", label: "2-D @ 1-D", args: (r) => [normal(r, [3, 4]), normal(r, [4])] },
  { op: "matmul", label: "1-D @ 1-D", args: (r) => [normal(r, [4]), normal(r, [4])] },
  { op: "matmul", label: "batched [2,3,4] @ [4,2]", args: (r) => [normal(r, [2, 3, 4]), normal(r, [4, 2])] },
  { op: "matmul", label: "broadcast [2,1,3,4] @ [3,4,2]", args: (r) => [normal(r, [2, 1, 3, 4]), normal(r, [3, 4, 2])] },
  { op: "matmul", label: "[3] @ [2,3,2]", args: (r) => [normal(r, [3]), normal(r, [2, 3, 2])] },
  { op: "norm", label: "[3,4]", args: (r) => [normal(r, [3, 4])] },
  { op: "norm", label: "number", args: (r) => [nonzero(r, null)] },
  { op: "reshape", label: "[3,4] -> [2,-1]", args: (r) => [normal(r, [3, 4]), [2, -1]] },
  { op: "reshape", label: "number -> [1,1]", args: (r) => [normal(r, null), [1, 1]] },
  { op: "transpose", label: "[3,4] default", args: (r) => [normal(r, [3, 4])] },
  { op: "transpose", label: "[2,3,4] axes [1,2,0]", args: (r) => [normal(r, [2, 3, 4]), [1, 2, 0]] },
  { op: "transpose", label: "number", args: (r) => [normal(r, null)] },
  { op: "expandDims", label: "[3,4] axis 1", args: (r) => [normal(r, [3, 4]), 1] },
  { op: "expandDims", label: "[3,4] axis -1", args: (r) => [normal(r, [3, 4]), -1] },
  { op: "expandDims", label: "number axis 0", args: (r) => [normal(r, null), 0] },
  { op: "squeeze", label: "[3,1,4,1] all", args: (r) => [normal(r, [3, 1, 4, 1])] },
  { op: "squeeze", label: "[3,1,4] axis 1", args: (r) => [normal(r, [3, 1, 4]), 1] },
  { op: "copy", label: "[3,4]", args: (r) => [normal(r, [3, 4])] },
  { op: "copy", label: "number", args: (r) => [normal(r, null)] },
  { op: "slice", label: "[4,5] rows 1:3, cols -3:5", args: (r) => [normal(r, [4, 5]), [1, -3], [3, 5]] },
  { op: "slice", label: "[4,5] leading axis only", args: (r) => [normal(r, [4, 5]), [0], [2]] },
  { op: "slice", label: "[2,3,4] middle", args: (r) => [normal(r, [2, 3, 4]), [1, 0, 1], [2, 2, 3]] },
  { op: "index", label: "[3,4] i=1", args: (r) => [normal(r, [3, 4]), 1] },
  { op: "index", label: "[3,4] i=-1", args: (r) => [normal(r, [3, 4]), -1] },
  { op: "index", label: "[5] i=2", args: (r) => [normal(r, [5]), 2] },
  { op: "index", label: "[4,3] rows [2,0,2] (repeated)", args: (r) => [normal(r, [4, 3]), [2, 0, 2]] },
  { op: "index", label: "[4,3] rows [[1,-1],[0,1]]", args: (r) => [normal(r, [4, 3]), np.array([[1, -1], [0, 1]])] },
  { op: "take", label: "[4,5] axis 0, repeated", args: (r) => [normal(r, [4, 5]), [3, 0, 3], 0] },
  { op: "take", label: "[3,4] axis 1, 2-D indices", args: (r) => [normal(r, [3, 4]), [[1, 2], [0, 0]], 1] },
  { op: "take", label: "[3,4] flattened", args: (r) => [normal(r, [3, 4]), np.array([5, 11, 5, -1])] },
  { op: "take", label: "[3,4] one index, axis -1", args: (r) => [normal(r, [3, 4]), 2, -1] },
  { op: "take", label: "number", args: (r) => [normal(r, null), 0] },
  { op: "pick", label: "[4,3] default axis", args: (r) => [normal(r, [4, 3]), np.array([2, 0, 1, 2])] },
  { op: "pick", label: "[2,3,4] axis 1", args: (r) => [normal(r, [2, 3, 4]), np.array([[0, 2, 1, 1], [2, 2, 0, 1]]), 1] },
  { op: "pick", label: "[4,3] keepdims", args: (r) => [normal(r, [4, 3]), [[1], [0], [2], [2]], -1, true] },
  { op: "astype", label: "[3,4] float32", args: (r) => [normal(r, [3, 4]), "float32"] },
  { op: "astype", label: "number", args: (r) => [normal(r, null), "float64"] },
  { op: "item", label: "[1,1]", args: (r) => [normal(r, [1, 1])] },
  { op: "item", label: "number", args: (r) => [normal(r, null)] },
  { op: "concat", label: "axis 0", args: (r) => [[normal(r, [2, 3]), normal(r, [1, 3]), normal(r, [3, 3])], 0] },
  { op: "concat", label: "axis -1", args: (r) => [[normal(r, [2, 1]), normal(r, [2, 3])], -1] },
  { op: "concat", label: "default axis, 1-D", args: (r) => [[normal(r, [2]), normal(r, [3])]] },
  { op: "stack", label: "axis 0", args: (r) => [[normal(r, [2, 3]), normal(r, [2, 3])], 0] },
  { op: "stack", label: "axis -1", args: (r) => [[normal(r, [2, 3]), normal(r, [2, 3]), normal(r, [2, 3])], -1] },
  { op: "stack", label: "numbers", args: (r) => [[normal(r, null), normal(r, null), normal(r, null)]] },
];

/** The primal as a function of operand i alone. */
function alongOperand(op: (typeof ndOps)[string], args: readonly unknown[], i: number): (x: Value) => Value {
  return (x) => {
    const a = [...args];
    a[i] = x;
    return op.primal(...a) as Value;
  };
}

function checkOperand(row: Row, i: number, seed: number): void {
  const op = ndOps[row.op];
  const r = rng(seed);
  const args = row.args(r);
  const out = op.primal(...args) as Value;
  const x = args[i] as Value;
  const f = alongOperand(op, args, i);
  const what = `${row.op} (${row.label}) operand ${i}`;

  const t = randomLike(r, x);
  const jt = op.jvp(i, t as any, args, out) as Value;
  expect(kindOf(jt), `${what}: jvp kind`).toBe(kindOf(out));
  expectClose(flat(jt), centralDiff(f, x, t), 1e-6, `${what}: jvp vs finite differences`);

  const g = randomLike(r, out);
  const gx = op.vjp(i, g as any, args, out) as Value;
  expect(kindOf(gx), `${what}: vjp kind`).toBe(kindOf(x));

  const lhs = inner(gx, t);
  const rhs = inner(g, jt);
  expect(Math.abs(lhs - rhs), `${what}: <vjp(g), t> = <g, jvp(t)>`).toBeLessThanOrEqual(
    1e-10 * Math.max(1, Math.abs(lhs), Math.abs(rhs)),
  );

  const gFlat = flat(g);
  const fdGrad = flat(x).map((_v, k) => {
    const d = centralDiff(f, x, basis(x, k));
    return d.reduce((s, dj, j) => s + dj * gFlat[j], 0);
  });
  expectClose(flat(gx), fdGrad, 1e-6, `${what}: vjp vs finite-difference gradient`);
}

describe("derivative rules of every registry entry", () => {
  table.forEach((row, k) => {
    test(`${row.op}: ${row.label}`, () => {
      const op = ndOps[row.op];
      expect(op, `no registry entry named ${row.op}`).toBeDefined();
      expect(op.diff.length).toBeGreaterThan(0);
      for (const i of op.diff) checkOperand(row, i, 1000 + 17 * k + i);
    });
  });

  test("every differentiable registry entry has a table row", () => {
    const covered = new Set(table.map((row) => row.op));
    const missing = Object.values(ndOps)
      .filter((op) => op.diff.length > 0 && !covered.has(op.name))
      .map((op) => op.name);
    expect(missing).toEqual([]);
  });

  test("list operands: a null tangent means zero", () => {
    const r = rng(7);
    const a = normalArray(r, [2, 3]);
    const b = normalArray(r, [2, 3]);
    const tb = normalArray(r, [2, 3]);
    for (const name of ["concat", "stack"]) {
      const op = ndOps[name];
      const args = [[a, b], 0];
      const out = op.primal(...args);
      const withNull = op.jvp(0, [null, tb] as any, args, out) as NDArray;
      const withZeros = op.jvp(0, [np.zerosLike(a), tb] as any, args, out) as NDArray;
      expect(withNull.toArray()).toEqual(withZeros.toArray());
    }
  });

  test("non-differentiable entries refuse derivative calls", () => {
    for (const op of Object.values(ndOps)) {
      if (op.diff.length > 0) continue;
      expect(() => op.jvp(0, 1, [1, 1], null), op.name).toThrow(/not differentiable/);
      expect(() => op.vjp(0, 1, [1, 1], null), op.name).toThrow(/not differentiable/);
    }
  });
});
