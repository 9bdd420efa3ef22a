// numpy/MXNet semantics of the ops the book's later chapters use: axis lists
// in reductions, prod/var/std, logsumexp/softmax/logSoftmax (and their
// stability), log1p, sign, clip, take/index/pick, argmax/argmin, oneHot,
// astype, and np.random's integer draws. Expected values are worked by hand
// (or are what numpy prints for the same call).

import { describe, expect, test } from "vitest";
import { NDArray, np } from "../../../runtime/ndarray/index.js";

const x = np.array([[1, 2, 3], [4, 5, 6]]);
const cube = np.arange(24).reshape([2, 3, 4]);

function close(a: NDArray, b: unknown, digits = 12): void {
  const want = np.array(b as number[]);
  expect(a.shape).toEqual(want.shape);
  a.data.forEach((v, i) => expect(v).toBeCloseTo(want.data[i], digits));
}

describe("axis arguments", () => {
  test("reductions take a list of axes, adjacent or not, with keepdims", () => {
    expect(np.sum(cube, [0, 1]).toArray()).toEqual([60, 66, 72, 78]);
    // cube[i][j][k] = 12 i + 4 j + k, so the sum over i and k is 60 + 32 j.
    expect(np.sum(cube, [0, 2]).toArray()).toEqual([60, 92, 124]);
    expect(np.sum(cube, [2, 0], true).toArray()).toEqual([[[60], [92], [124]]]);
    expect(np.max(cube, [0, 2]).toArray()).toEqual([15, 19, 23]);
    expect(np.mean(cube, [-1, 0]).toArray()).toEqual([7.5, 11.5, 15.5]);
    expect(cube.min([0, 1, 2]).item()).toBe(0);
    // An empty list reduces nothing; null is every axis.
    expect(np.sum(x, []).toArray()).toEqual(x.toArray());
    expect(np.sum(x, null).item()).toBe(21);
  });

  test("bad axis lists and a list where one axis is expected say what is accepted", () => {
    expect(() => np.sum(x, [0, 0])).toThrow(/duplicate value in 'axis'/);
    expect(() => np.sum(x, [0, 2])).toThrow(/axis 2 is out of bounds for array of dimension 2/);
    const oneAxis = /axis must be one integer here, got the list \[0, 1\]; a list of axes is accepted by the reductions sum, mean, max, min, prod, var, std and logsumexp/;
    expect(() => np.argmax(x, [0, 1] as any)).toThrow(oneAxis);
    expect(() => np.expandDims(x, [0, 1] as any)).toThrow(oneAxis);
    expect(() => np.take(x, [0], [0, 1] as any)).toThrow(oneAxis);
  });
});

describe("prod, var, std", () => {
  test("prod", () => {
    expect(np.prod(x).item()).toBe(720);
    expect(np.prod(x, 0).toArray()).toEqual([4, 10, 18]);
    expect(x.prod(1, true).toArray()).toEqual([[6], [120]]);
    expect(np.prod(np.zeros([0])).item()).toBe(1);
  });

  test("var and std are numpy's (population by default, ddof as the 4th argument)", () => {
    const v = np.array([1, 2, 3, 4]);
    expect(np.var(v).item()).toBe(1.25);
    expect(np.std(v).item()).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(np.var(v, null, false, 1).item()).toBeCloseTo(5 / 3, 15);
    expect(np.var(x, 0).toArray()).toEqual([2.25, 2.25, 2.25]);
    close(x.std(1, true), [[Math.sqrt(2 / 3)], [Math.sqrt(2 / 3)]], 14);
    expect(np.std(cube, [0, 2]).shape).toEqual([3]);
  });
});

describe("logsumexp, softmax, logSoftmax", () => {
  test("values, and no overflow for large inputs", () => {
    close(np.logsumexp(np.array([1, 2, 3])), Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 14);
    close(np.logsumexp(np.array([1000, 1000])), 1000 + Math.log(2), 10);
    expect(np.logsumexp(np.array([-Infinity, -Infinity])).item()).toBe(-Infinity);
    close(np.logsumexp(x, 1, true), [[Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))], [Math.log(Math.exp(4) + Math.exp(5) + Math.exp(6))]], 12);
    close(np.softmax(np.array([1000, 0])), [1, 0]);
    close(np.logSoftmax(np.array([1000, 0])), [0, -1000]);
  });

  test("softmax along the last axis by default, any axis (or all) when given", () => {
    const s = np.softmax(x);
    close(np.sum(s, -1), [1, 1], 15);
    close(s.index(0), s.index(1).toArray(), 15); // shift-invariant: rows differ by 3
    close(np.sum(np.softmax(x, 0), 0), [1, 1, 1], 15);
    close(np.sum(np.softmax(x, null)), 1, 15);
    close(x.logSoftmax(), np.log(np.softmax(x)).toArray(), 14);
  });
});

describe("elementwise additions", () => {
  test("log1p is accurate near 0; sign is -1, 0, 1 (NaN stays NaN)", () => {
    expect(np.log1p(np.array([1e-20])).item()).toBe(1e-20);
    expect(np.sign(np.array([-2, 0, 3, NaN])).toArray()).toEqual([-1, 0, 1, NaN]);
  });

  test("clip broadcasts its bounds; lo > hi gives hi (numpy's order)", () => {
    expect(np.clip(x, 2, 5).toArray()).toEqual([[2, 2, 3], [4, 5, 5]]);
    expect(x.clip(np.array([3, 1, 1]), 4).toArray()).toEqual([[3, 2, 3], [4, 4, 4]]);
    expect(np.clip(x, 5, 2).toArray()).toEqual([[2, 2, 2], [2, 2, 2]]);
    expect(np.clip(x, 4).toArray()).toEqual([[4, 4, 4], [4, 5, 6]]);
  });
});

describe("take, index with integer arrays, pick", () => {
  test("take along an axis or over the flattened array; negative positions count from the end", () => {
    expect(np.take(x, [0, 5, -1]).toArray()).toEqual([1, 6, 6]);
    expect(np.take(x, [2, 0, 2], 1).toArray()).toEqual([[3, 1, 3], [6, 4, 6]]);
    expect(x.take([[1], [0]], 0).toArray()).toEqual([[[4, 5, 6]], [[1, 2, 3]]]);
    expect(np.take(x, 1, 1).toArray()).toEqual([2, 5]);
    expect(() => np.take(x, [3], 0)).toThrow(/index 3 is out of bounds for axis 0 with size 2/);
    expect(() => np.take(x, [0.5])).toThrow(/index 0.5 is out of bounds/);
  });

  test("index / get with an integer array or list takes rows (numpy's x[[1, 0]])", () => {
    expect(x.get([1, 0, 1]).toArray()).toEqual([[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
    expect(np.index(x, np.array([1])).toArray()).toEqual([[4, 5, 6]]);
    expect(() => x.get(np.array([true, false]))).toThrow(/boolean arrays are not accepted as indices/);
  });

  test("pick: one entry per row along the axis (MXNet's pick, y_hat[range(n), y])", () => {
    const yHat = np.array([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]);
    expect(np.pick(yHat, np.array([0, 2])).toArray()).toEqual([0.1, 0.5]);
    expect(yHat.pick([0, 2], -1, true).toArray()).toEqual([[0.1], [0.5]]);
    expect(np.pick(yHat, [1, 0, 1], 0).toArray()).toEqual([0.3, 0.3, 0.5]);
    expect(() => np.pick(yHat, [0, 3])).toThrow(/index 3 is out of bounds for axis 1 with size 3/);
    expect(() => np.pick(yHat, [0, 1, 2])).toThrow(/pick: index of shape \[3\] must have the array's shape without axis 1: \[2\]/);
  });
});

describe("integer results", () => {
  test("argmax/argmin: flattened without an axis, first occurrence wins, NaN counts as the extremum", () => {
    expect(np.argmax(x).item()).toBe(5);
    expect(np.argmin(x).item()).toBe(0);
    expect(np.argmax(np.array([[1, 9, 9], [7, 2, 7]]), 1).toArray()).toEqual([1, 0]);
    expect(x.argmin(0, true).toArray()).toEqual([[0, 0, 0]]);
    expect(np.argmax(np.array([1, NaN, 5, NaN])).item()).toBe(1);
    expect(np.argmin(np.array([3, 1, 1])).item()).toBe(1);
    expect(() => np.argmax(np.zeros([0]))).toThrow(/empty sequence/);
  });

  test("oneHot adds a last axis; an index outside [0, depth) gives zeros", () => {
    expect(np.oneHot(np.array([0, 2, 3]), 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 0]]);
    expect(np.oneHot([[1], [0]], 2).shape).toEqual([2, 1, 2]);
    expect(() => np.oneHot([0.5], 2)).toThrow(/integers/);
  });

  test("astype: float64/float32 copy (bool becomes 0/1); other dtypes are refused", () => {
    const b = np.greater(x, 2).astype("float32");
    expect(b.dtype).toBe("float64");
    expect(b.toArray()).toEqual([[0, 0, 1], [1, 1, 1]]);
    expect(() => x.astype("int32")).toThrow(/only "float64" and "float32" are supported/);
    expect(() => x.astype("bool")).toThrow(/np.notEqual\(x, 0\)/);
  });
});

describe("np.random integer draws", () => {
  test("rand, randn and randint: shapes, ranges and seeding", () => {
    np.random.seed(3);
    const a = np.random.randint(2, 5, [1000]);
    expect(a.data.every((v) => Number.isInteger(v) && v >= 2 && v < 5)).toBe(true);
    expect(new Set(a.data).size).toBe(3);
    expect(np.random.randint(4, null, 50).data.every((v) => v >= 0 && v < 4)).toBe(true);
    expect(np.random.randint(3).shape).toEqual([]);
    expect(np.random.choice(3, null).shape).toEqual([]);
    expect(() => np.random.randint(3, 3)).toThrow(/low >= high/);
    expect(np.random.rand(2, 3).shape).toEqual([2, 3]);
    expect(np.random.randn().shape).toEqual([]);
    // The shape as one list too, as the other creators take it; the same draws either way.
    np.random.seed(5);
    const listed = np.random.randn([5, 4]);
    np.random.seed(5);
    expect(listed.toArray()).toEqual(np.random.randn(5, 4).toArray());
    expect(np.random.rand([2, 3]).shape).toEqual([2, 3]);
    np.random.seed(3);
    expect(np.random.randint(2, 5, [1000]).toArray()).toEqual(a.toArray());
  });

  test("shuffle reorders rows in place; permutation returns a shuffled copy", () => {
    np.random.seed(11);
    const m = np.arange(12).reshape([6, 2]);
    np.random.shuffle(m);
    const rows = m.toArray() as number[][];
    expect(rows.map((r) => r[0]).sort((p, q) => p - q)).toEqual([0, 2, 4, 6, 8, 10]);
    rows.forEach((r) => expect(r[1]).toBe(r[0] + 1));
    const p = np.random.permutation(10);
    expect(Array.from(p.data).sort((u, v) => u - v)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const src = np.arange(5);
    const q = np.random.permutation(src);
    expect(src.toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(q.data).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  test("choice: with and without replacement, with probabilities", () => {
    np.random.seed(5);
    expect(np.random.choice(5, [3, 2]).shape).toEqual([3, 2]);
    const picked = np.random.choice([10, 20, 30], 2000, true, [0.2, 0, 0.8]);
    expect(picked.data.includes(20)).toBe(false);
    const share = picked.data.filter((v) => v === 30).length / 2000;
    expect(share).toBeGreaterThan(0.75);
    expect(share).toBeLessThan(0.85);
    const distinct = np.random.choice(6, 6, false);
    expect(Array.from(distinct.data).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const weighted = np.random.choice(4, 2, false, [0.5, 0, 0.5, 0]);
    expect(Array.from(weighted.data).sort()).toEqual([0, 2]);
    expect(() => np.random.choice(3, 4, false)).toThrow(/larger sample/);
    expect(() => np.random.choice(3, 1, true, [0.5, 0.5, 0.5])).toThrow(/do not sum to 1/);
  });
});
