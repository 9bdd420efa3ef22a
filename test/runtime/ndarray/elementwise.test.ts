// numpy semantics of elementwise ops: broadcasting in every direction, JS
// numbers as operands, unary values, comparisons, where and the logical
// reductions. Expected values are worked by hand.

import { describe, expect, test } from "vitest";
import { np } from "../../../runtime/ndarray/index.js";

const col = np.array([[0], [10], [20]]); // [3,1]
const row = np.array([[1, 2, 3, 4]]); // [1,4]
const sum34 = [[1, 2, 3, 4], [11, 12, 13, 14], [21, 22, 23, 24]];

describe("broadcasting", () => {
  test("[3,1] + [1,4] and [1,4] + [3,1]", () => {
    expect(np.add(col, row).toArray()).toEqual(sum34);
    expect(np.add(row, col).toArray()).toEqual(sum34);
    expect(np.sub(col, row).toArray()).toEqual([[-1, -2, -3, -4], [9, 8, 7, 6], [19, 18, 17, 16]]);
  });

  test("[4] + [3,4] and [3,4] + [4]", () => {
    const m = np.array([[0, 0, 0, 0], [10, 10, 10, 10], [20, 20, 20, 20]]);
    const v = np.array([1, 2, 3, 4]);
    expect(np.add(v, m).toArray()).toEqual(sum34);
    expect(np.add(m, v).toArray()).toEqual(sum34);
    expect(np.mul(m, v).toArray()).toEqual([[0, 0, 0, 0], [10, 20, 30, 40], [20, 40, 60, 80]]);
  });

  test("scalar with array and array with scalar keep operand order", () => {
    const v = np.array([1, 2, 4]);
    expect(np.sub(10, v).toArray()).toEqual([9, 8, 6]);
    expect(np.sub(v, 10).toArray()).toEqual([-9, -8, -6]);
    expect(np.div(1, v).toArray()).toEqual([1, 0.5, 0.25]);
    expect(np.div(v, 2).toArray()).toEqual([0.5, 1, 2]);
    expect(np.pow(2, v).toArray()).toEqual([2, 4, 16]);
    expect(np.pow(v, 2).toArray()).toEqual([1, 4, 16]);
    expect(np.add(np.array(5), v).toArray()).toEqual([6, 7, 9]);
  });

  test("two numbers give a 0-d array; 0-d with 0-d too", () => {
    const r = np.mul(3, 4);
    expect(r.shape).toEqual([]);
    expect(r.item()).toBe(12);
    expect(np.add(np.array(1), np.array(2)).shape).toEqual([]);
  });

  test("higher rank and size-1 axes on both sides", () => {
    const a = np.arange(24).reshape([2, 3, 4]);
    const r = np.add(a, np.array([[100], [200], [300]]));
    expect(r.shape).toEqual([2, 3, 4]);
    expect(r.get(1).get(2).toArray()).toEqual([320, 321, 322, 323]);
    expect(np.add(np.ones([2, 1, 3]), np.ones([4, 1])).shape).toEqual([2, 4, 3]);
    expect(np.add(np.ones([0, 3]), np.ones([3])).shape).toEqual([0, 3]);
  });

  test("incompatible shapes throw numpy's message", () => {
    expect(() => np.add(np.ones([3]), np.ones([4]))).toThrow(/could not be broadcast together with shapes \(3,\) \(4,\)/);
    expect(() => np.mul(np.ones([2, 3]), np.ones([3, 2]))).toThrow(/broadcast/);
  });

  test("methods use the receiver as operand 0", () => {
    const v = np.array([2, 4]);
    expect(v.sub(1).toArray()).toEqual([1, 3]);
    expect(v.div(np.array([[1], [2]])).toArray()).toEqual([[2, 4], [1, 2]]);
    expect(v.pow(0.5).toArray()).toEqual([Math.pow(2, 0.5), 2]);
  });

  test("bad operands are type errors", () => {
    expect(() => np.add("1" as any, 1)).toThrow(TypeError);
    expect(() => np.exp([1, 2] as any)).toThrow(TypeError);
  });
});

describe("unary and binary values", () => {
  test("unary functions", () => {
    const x = np.array([-1, 0, 2]);
    expect(np.neg(x).toArray()).toEqual([1, -0, -2]);
    expect(np.square(x).toArray()).toEqual([1, 0, 4]);
    expect(np.abs(x).toArray()).toEqual([1, 0, 2]);
    expect(np.relu(x).toArray()).toEqual([0, 0, 2]);
    expect(np.exp(0).item()).toBe(1);
    expect(np.log(Math.E).item()).toBe(1);
    expect(np.sqrt(np.array([4, 9])).toArray()).toEqual([2, 3]);
    expect(np.sin(0).item()).toBe(0);
    expect(np.cos(0).item()).toBe(1);
    expect(np.tanh(np.array([0, 1000])).toArray()).toEqual([0, 1]);
    expect(np.sigmoid(np.array([0, -1000, 1000])).toArray()).toEqual([0.5, 0, 1]);
    expect(np.sigmoid(2).item()).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(np.log(0).item()).toBe(-Infinity);
    expect(np.sqrt(-1).item()).toBeNaN();
  });

  test("maximum and minimum, with NaN propagating as in numpy", () => {
    expect(np.maximum(np.array([1, 5, 3]), 2).toArray()).toEqual([2, 5, 3]);
    expect(np.minimum(np.array([1, 5, 3]), np.array([[2], [4]])).toArray()).toEqual([[1, 2, 2], [1, 4, 3]]);
    expect(np.maximum(NaN, 1).item()).toBeNaN();
    expect(np.maximum(1, NaN).item()).toBeNaN();
    expect(np.minimum(NaN, 1).item()).toBeNaN();
    expect(np.relu(NaN).item()).toBeNaN();
  });

  test("bool arrays are read as 0/1 and arithmetic returns float64", () => {
    const b = np.greater(np.array([1, 2, 3]), 1.5);
    const r = np.add(b, 1);
    expect(r.dtype).toBe("float64");
    expect(r.toArray()).toEqual([1, 2, 2]);
  });
});

describe("comparisons and logic", () => {
  test("comparisons broadcast and give bool arrays", () => {
    const x = np.array([1, 2, 3]);
    const g = np.greater(x, 2);
    expect(g.dtype).toBe("bool");
    expect(g.toArray()).toEqual([false, false, true]);
    expect(np.less(x, 2).toArray()).toEqual([true, false, false]);
    expect(np.greaterEqual(x, 2).toArray()).toEqual([false, true, true]);
    expect(np.lessEqual(2, x).toArray()).toEqual([false, true, true]);
    expect(np.equal(x, np.array([[1], [3]])).toArray()).toEqual([[true, false, false], [false, false, true]]);
    expect(np.notEqual(x, 2).toArray()).toEqual([true, false, true]);
    expect(x.greater(1).toArray()).toEqual([false, true, true]);
    expect(np.equal(NaN, NaN).toArray()).toBe(false);
  });

  test("where picks elementwise with three-way broadcasting", () => {
    expect(np.where(np.array([true, false]), np.array([1, 2]), np.array([10, 20])).toArray()).toEqual([1, 20]);
    const x = np.array([[-1, 2], [3, -4]]);
    expect(np.where(np.greater(x, 0), x, 0).toArray()).toEqual([[0, 2], [3, 0]]);
    expect(np.where(np.array([[1], [0]]), np.array([1, 2, 3]), -1).toArray()).toEqual([[1, 2, 3], [-1, -1, -1]]);
    expect(np.where(1, 2, 3).shape).toEqual([]);
  });

  test("all, any, allclose", () => {
    expect(np.all(np.array([1, 2]))).toBe(true);
    expect(np.all(np.array([1, 0]))).toBe(false);
    expect(np.all(np.zeros([0]))).toBe(true);
    expect(np.any(np.array([0, 0]))).toBe(false);
    expect(np.any(np.array([0, NaN]))).toBe(true);
    expect(np.greater(np.array([1, 2]), 0).all()).toBe(true);
    expect(np.allclose(np.array([1, 2]), np.array([1 + 1e-9, 2]))).toBe(true);
    expect(np.allclose(np.array([1]), np.array([1.1]))).toBe(false);
    expect(np.allclose(np.array([1]), np.array([1.1]), 0.2)).toBe(true);
    expect(np.allclose(np.array([0]), np.array([1e-9]))).toBe(true);
    expect(np.allclose(np.array([0]), np.array([1e-7]))).toBe(false);
    expect(np.allclose(np.array([0]), np.array([1e-7]), 1e-5, 1e-6)).toBe(true);
    expect(np.allclose(np.array([NaN]), np.array([NaN]))).toBe(false);
    expect(np.allclose(np.array([Infinity]), Infinity)).toBe(true);
    expect(np.allclose(np.ones([2, 3]), 1)).toBe(true);
  });
});
