// The documented derivative conventions at non-smooth points, which the
// finite-difference table deliberately avoids: abs'(0) = 0, relu'(0) = 0,
// max/min ties split the cotangent equally (JAX), maximum/minimum ties give
// each side half, the norm's derivative at 0 is 0, and pow's special cases;
// clip at a bound (half, as jnp.clip), prod at zeros, std where every entry
// is equal, and sign's zero derivative.

import { describe, expect, test } from "vitest";
import { ndOps, np, type NDArray } from "../../../runtime/ndarray/index.js";

function vjp(name: string, i: number, g: unknown, args: unknown[]): NDArray | number {
  const op = ndOps[name];
  return op.vjp(i, g as any, args, op.primal(...args)) as NDArray | number;
}

function jvp(name: string, i: number, t: unknown, args: unknown[]): NDArray | number {
  const op = ndOps[name];
  return op.jvp(i, t as any, args, op.primal(...args)) as NDArray | number;
}

const values = (x: NDArray | number): unknown => (typeof x === "number" ? x : x.toArray());

describe("derivative conventions at kinks", () => {
  test("abs'(0) = 0 (sign(0))", () => {
    const x = np.array([0, -1, 2]);
    expect(values(vjp("abs", 0, np.ones([3]), [x]))).toEqual([0, -1, 1]);
    expect(values(jvp("abs", 0, np.ones([3]), [x]))).toEqual([0, -1, 1]);
    expect(vjp("abs", 0, np.array(1), [0])).toBe(0);
  });

  test("relu'(0) = 0", () => {
    const x = np.array([0, -1, 2]);
    expect(values(vjp("relu", 0, np.ones([3]), [x]))).toEqual([0, 0, 1]);
    expect(values(jvp("relu", 0, np.ones([3]), [x]))).toEqual([0, 0, 1]);
  });

  test("max/min over tied entries split the cotangent equally", () => {
    expect(values(vjp("max", 0, np.array(1), [np.array([1, 3, 3])]))).toEqual([0, 0.5, 0.5]);
    expect(values(vjp("min", 0, np.array(6), [np.array([2, 2, 2, 5])]))).toEqual([2, 2, 2, 0]);
    const m = np.array([[3, 3, 1], [2, 5, 5]]);
    expect(values(vjp("max", 0, np.array([1, 2]), [m, 1]))).toEqual([[0.5, 0.5, 0], [0, 1, 1]]);
    expect(values(vjp("max", 0, np.array([[1], [2]]), [m, -1, true]))).toEqual([[0.5, 0.5, 0], [0, 1, 1]]);
    // The tangent is the mean of the tied entries' tangents.
    const t = np.array([[1, 3, 100], [100, 2, 6]]);
    expect(values(jvp("max", 0, t, [m, 1]))).toEqual([2, 4]);
    expect(values(jvp("min", 0, np.array([4, 1, 1]), [np.array([0, 0, 1])]))).toEqual(2.5);
  });

  test("maximum/minimum at a tie give each side half", () => {
    const a = np.array([1, 2]);
    const b = np.array([2, 2]);
    expect(values(vjp("maximum", 0, np.ones([2]), [a, b]))).toEqual([0, 0.5]);
    expect(values(vjp("maximum", 1, np.ones([2]), [a, b]))).toEqual([1, 0.5]);
    expect(values(vjp("minimum", 0, np.ones([2]), [a, b]))).toEqual([1, 0.5]);
    expect(values(vjp("minimum", 1, np.ones([2]), [a, b]))).toEqual([0, 0.5]);
    expect(vjp("maximum", 0, np.array(1), [3, 3])).toBe(0.5);
    // A broadcast scalar tied with every entry collects half of each.
    expect(vjp("maximum", 1, np.ones([3]), [np.array([2, 2, 1]), 2])).toBe(2);
  });

  test("norm at 0 has derivative 0", () => {
    const z = np.zeros([2, 2]);
    expect(values(vjp("norm", 0, np.array(1), [z]))).toEqual([[0, 0], [0, 0]]);
    expect(values(jvp("norm", 0, np.ones([2, 2]), [z]))).toEqual(0);
    expect(vjp("norm", 0, np.array(1), [0])).toBe(0);
  });

  test("pow: d/da is 0 where b == 0, d/db is 0 where a == 0", () => {
    expect(values(vjp("pow", 0, np.ones([2]), [np.array([0, 2]), 0]))).toEqual([0, 0]);
    expect(values(vjp("pow", 1, np.ones([2]), [np.array([0, 0]), np.array([2, 3])]))).toEqual([0, 0]);
    expect(values(vjp("pow", 0, np.ones([1]), [np.array([0]), 2]))).toEqual([0]);
  });

  test("sqrt and log keep their infinite slopes at 0", () => {
    expect(values(vjp("sqrt", 0, np.ones([1]), [np.array([0])]))).toEqual([Infinity]);
    expect(values(vjp("log", 0, np.ones([1]), [np.array([0])]))).toEqual([Infinity]);
  });

  test("clip: 1 inside, 0 outside, half to x and half to the bound at a bound (jnp.clip)", () => {
    const x = np.array([-2, 0, 0.5, 1, 3]);
    expect(values(vjp("clip", 0, np.ones([5]), [x, 0, 1]))).toEqual([0, 0.5, 1, 0.5, 0]);
    expect(values(jvp("clip", 0, np.ones([5]), [x, 0, 1]))).toEqual([0, 0.5, 1, 0.5, 0]);
    expect(vjp("clip", 1, np.ones([5]), [x, 0, 1])).toBe(1.5);
    expect(vjp("clip", 2, np.ones([5]), [x, 0, 1])).toBe(1.5);
    // One-sided: a null bound is no bound.
    expect(values(np.clip(x, null, 1))).toEqual([-2, 0, 0.5, 1, 1]);
    expect(values(vjp("clip", 0, np.ones([5]), [x, 0, null]))).toEqual([0, 0.5, 1, 1, 1]);
    expect(() => np.clip(x, null, null)).toThrow(/one of lo or hi/);
  });

  test("prod's partials are the products of the other entries, also at zeros", () => {
    expect(values(vjp("prod", 0, np.array(1), [np.array([0, 2, 3])]))).toEqual([6, 0, 0]);
    expect(values(vjp("prod", 0, np.array(1), [np.array([0, 2, 0])]))).toEqual([0, 0, 0]);
    expect(values(vjp("prod", 0, np.array([1, 10]), [np.array([[0, 4], [5, 0]]), 1]))).toEqual([[4, 0], [0, 50]]);
    expect(values(jvp("prod", 0, np.array([1, 1, 1]), [np.array([0, 2, 3])]))).toEqual(6);
  });

  test("std where every entry is equal has derivative 0 (a subgradient, as norm at 0)", () => {
    const c = np.array([[2, 2, 2], [1, 2, 3]]);
    const g = vjp("std", 0, np.array([1, 1]), [c, 1]) as NDArray;
    expect(g.toArray()).toEqual([[0, 0, 0], expect.any(Array)]);
    expect(values(jvp("std", 0, np.ones([2, 3]), [c, 1]))).toEqual([0, 0]);
    expect(vjp("std", 0, np.array(1), [4])).toBe(0);
  });

  test("sign has derivative 0 everywhere, at 0 too", () => {
    expect(values(vjp("sign", 0, np.ones([3]), [np.array([-1, 0, 2])]))).toEqual([0, 0, 0]);
    expect(values(jvp("sign", 0, np.ones([3]), [np.array([-1, 0, 2])]))).toEqual([0, 0, 0]);
  });

  test("take and index with repeated positions accumulate; pick scatters into the picked entries", () => {
    const x = np.zeros([3, 2]);
    expect(values(vjp("take", 0, np.ones([3, 2]), [x, [2, 0, 2], 0]))).toEqual([[1, 1], [0, 0], [2, 2]]);
    expect(values(vjp("index", 0, np.array([[1, 2], [3, 4]]), [x, [1, 1]]))).toEqual([[0, 0], [4, 6], [0, 0]]);
    expect(values(vjp("pick", 0, np.array([5, 6, 7]), [x, [1, 0, 1]]))).toEqual([[0, 5], [6, 0], [0, 7]]);
  });

  test("where sends nothing to the branch that was not taken", () => {
    const c = np.array([true, false]);
    expect(values(vjp("where", 1, np.array([5, 7]), [c, np.array([1, 1]), 0]))).toEqual([5, 0]);
    expect(vjp("where", 2, np.array([5, 7]), [c, np.array([1, 1]), 0])).toBe(7);
  });
});
