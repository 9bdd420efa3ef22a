// numpy semantics of reductions (axis, negative axis, keepdims) and of
// dot/matmul/norm for every rank pair. Expected values are worked by hand.

import { describe, expect, test } from "vitest";
import { np } from "../../../runtime/ndarray/index.js";

const x = np.array([[1, 2, 3], [4, 5, 6]]);

describe("reductions", () => {
  test("over all elements give 0-d arrays, or all-ones shapes with keepdims", () => {
    const s = np.sum(x);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(21);
    expect(np.sum(x, null, true).toArray()).toEqual([[21]]);
    expect(np.mean(x).item()).toBe(3.5);
    expect(np.max(x).item()).toBe(6);
    expect(np.min(x).item()).toBe(1);
    expect(np.sum(5).item()).toBe(5);
  });

  test("along one axis, with and without keepdims", () => {
    expect(np.sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(np.sum(x, 1).toArray()).toEqual([6, 15]);
    expect(np.sum(x, -1, true).toArray()).toEqual([[6], [15]]);
    expect(np.sum(x, 0, true).shape).toEqual([1, 3]);
    expect(np.mean(x, 0).toArray()).toEqual([2.5, 3.5, 4.5]);
    expect(np.mean(x, -1, true).toArray()).toEqual([[2], [5]]);
    expect(np.max(x, 1).toArray()).toEqual([3, 6]);
    expect(np.max(x, 0, true).toArray()).toEqual([[4, 5, 6]]);
    expect(np.min(x, 0).toArray()).toEqual([1, 2, 3]);
    expect(np.min(x, -2).toArray()).toEqual([1, 2, 3]);
  });

  test("middle axis of a 3-D array", () => {
    const a = np.arange(24).reshape([2, 3, 4]);
    expect(a.sum(1).toArray()).toEqual([[12, 15, 18, 21], [48, 51, 54, 57]]);
    expect(a.max(1).toArray()).toEqual([[8, 9, 10, 11], [20, 21, 22, 23]]);
    expect(a.sum(1, true).shape).toEqual([2, 1, 4]);
  });

  test("methods, NaN and edge cases", () => {
    expect(x.sum(0).toArray()).toEqual([5, 7, 9]);
    expect(x.mean().item()).toBe(3.5);
    expect(np.max(np.array([1, NaN, 3])).item()).toBeNaN();
    expect(np.min(np.array([NaN, 1])).item()).toBeNaN();
    expect(np.max(np.array([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(np.sum(np.zeros([0])).item()).toBe(0);
    expect(np.mean(np.zeros([0])).item()).toBeNaN();
    expect(() => np.max(np.zeros([0]))).toThrow(/zero-size/);
    expect(np.sum(np.zeros([0, 3]), 0).toArray()).toEqual([0, 0, 0]);
    expect(() => np.sum(x, 2)).toThrow(/axis 2 is out of bounds for array of dimension 2/);
    expect(() => np.sum(x, -3)).toThrow(/out of bounds/);
  });
});

describe("dot", () => {
  const m = np.array([[1, 2], [3, 4]]);
  test("1-D . 1-D is the inner product as a 0-d array", () => {
    const r = np.dot(np.array([1, 2, 3]), np.array([4, 5, 6]));
    expect(r.shape).toEqual([]);
    expect(r.item()).toBe(32);
  });

  test("2-D . 2-D, 2-D . 1-D and 1-D . 2-D", () => {
    expect(np.dot(m, np.array([[5, 6], [7, 8]])).toArray()).toEqual([[19, 22], [43, 50]]);
    expect(np.dot(m, np.array([1, 1])).toArray()).toEqual([3, 7]);
    expect(np.dot(np.array([1, 1]), m).toArray()).toEqual([4, 6]);
    expect(m.dot(np.array([[1, 0, 2], [0, 1, 3]])).toArray()).toEqual([[1, 2, 8], [3, 4, 18]]);
  });

  test("scalars multiply; N-D contracts last axis with second-to-last", () => {
    expect(np.dot(2, np.array([1, 2])).toArray()).toEqual([2, 4]);
    expect(np.dot(m, np.array(3)).toArray()).toEqual([[3, 6], [9, 12]]);
    expect(np.dot(np.ones([2, 3, 4]), np.ones([4, 5])).shape).toEqual([2, 3, 5]);
    expect(np.dot(np.ones([2, 3, 4]), np.ones([6, 4, 5])).shape).toEqual([2, 3, 6, 5]);
    expect(np.dot(np.ones([2, 3, 4]), np.ones([4])).shape).toEqual([2, 3]);
    // dot(a, b)[i, j, k] = sum_p a[i, p] * b[j, p, k]
    const a = np.arange(6).reshape([2, 3]);
    const b = np.arange(12).reshape([2, 3, 2]);
    expect(np.dot(a, b).toArray()).toEqual([
      [[10, 13], [28, 31]],
      [[28, 40], [100, 112]],
    ]);
  });

  test("misaligned shapes throw", () => {
    expect(() => np.dot(np.ones([2, 3]), np.ones([2, 3]))).toThrow(/not aligned/);
    expect(() => np.dot(np.ones([3]), np.ones([4]))).toThrow(/not aligned/);
  });
});

describe("matmul", () => {
  test("2-D and promoted 1-D operands", () => {
    const m = np.array([[1, 2], [3, 4]]);
    expect(np.matmul(m, m).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(np.matmul(np.array([1, 1]), m).toArray()).toEqual([4, 6]);
    expect(np.matmul(m, np.array([1, 1])).toArray()).toEqual([3, 7]);
    const s = np.matmul(np.array([1, 2]), np.array([3, 4]));
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(11);
  });

  test("batched and broadcast leading dims", () => {
    const a = np.arange(12).reshape([2, 2, 3]);
    const r = np.matmul(a, np.eye(3));
    expect(r.toArray()).toEqual(a.toArray());
    expect(np.matmul(np.ones([2, 3, 4]), np.ones([2, 4, 5])).shape).toEqual([2, 3, 5]);
    expect(np.matmul(np.ones([2, 1, 3, 4]), np.ones([3, 4, 2])).shape).toEqual([2, 3, 3, 2]);
    expect(np.matmul(np.ones([4]), np.ones([2, 4, 3])).shape).toEqual([2, 3]);
    expect(np.matmul(np.ones([2, 3, 4]), np.ones([4])).shape).toEqual([2, 3]);
    // Second batch of b scaled by 2: each batch uses its own block.
    const b = np.stack([np.eye(3), np.mul(np.eye(3), 2)]);
    expect(np.matmul(np.ones([1, 3]), b).toArray()).toEqual([[[1, 1, 1]], [[2, 2, 2]]]);
  });

  test("errors", () => {
    expect(() => np.matmul(2, np.ones([2]))).toThrow(/enough dimensions/);
    expect(() => np.matmul(np.ones([2, 3]), np.ones([2, 3]))).toThrow(/core dimension/);
    expect(() => np.matmul(np.ones([2, 2, 3]), np.ones([3, 3, 2]))).toThrow(/broadcast/);
  });
});

describe("transpose and norm", () => {
  test("transpose reverses axes by default or permutes", () => {
    const a = np.arange(6).reshape([2, 3]);
    expect(a.T.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(np.transpose(a).toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    const b = np.arange(24).reshape([2, 3, 4]);
    const p = np.transpose(b, [1, 2, 0]);
    expect(p.shape).toEqual([3, 4, 2]);
    // p[i, j, k] = b[k, i, j]
    expect(p.get(2).get(1).toArray()).toEqual([9, 21]);
    expect(np.transpose(b, [-1, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(() => np.transpose(b, [0, 0, 1])).toThrow(/repeated/);
    expect(() => np.transpose(b, [0, 1])).toThrow(/don't match/);
  });

  test("norm is the 2-norm of all elements", () => {
    expect(np.linalg.norm(np.array([3, 4])).item()).toBe(5);
    expect(np.linalg.norm(np.array([[1, 2], [2, 4]])).item()).toBe(5);
    expect(np.linalg.norm(-2).item()).toBe(2);
    expect(np.linalg.norm(np.zeros([3])).item()).toBe(0);
    expect(np.array([3, 4]).norm().shape).toEqual([]);
  });
});
