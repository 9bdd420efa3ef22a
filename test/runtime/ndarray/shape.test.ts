// numpy semantics of the shape ops: reshape (with -1), expandDims, squeeze,
// concat, stack, slice, index and item. Expected values are worked by hand.

import { describe, expect, test } from "vitest";
import { np } from "../../../runtime/ndarray/index.js";

describe("reshape, expandDims, squeeze", () => {
  test("reshape keeps row-major order and infers one -1", () => {
    const a = np.arange(6);
    expect(np.reshape(a, [2, -1]).toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(a.reshape([-1, 2]).shape).toEqual([3, 2]);
    expect(a.reshape([3, 2]).reshape(-1).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.reshape(6).shape).toEqual([6]);
    expect(np.reshape(7, [1, 1]).toArray()).toEqual([[7]]);
    expect(np.array([[5]]).reshape([]).shape).toEqual([]);
    expect(np.zeros([0, 3]).reshape([-1, 3]).shape).toEqual([0, 3]);
  });

  test("reshape errors", () => {
    const a = np.arange(6);
    expect(() => a.reshape([4])).toThrow(/cannot reshape array of size 6 into shape \(4,\)/);
    expect(() => a.reshape([-1, -1])).toThrow(/one unknown/);
    expect(() => a.reshape([4, -1])).toThrow(/cannot reshape/);
  });

  test("expandDims and squeeze", () => {
    const v = np.array([1, 2]);
    expect(np.expandDims(v, 0).toArray()).toEqual([[1, 2]]);
    expect(v.expandDims(-1).toArray()).toEqual([[1], [2]]);
    expect(np.expandDims(3, 0).shape).toEqual([1]);
    expect(() => v.expandDims(3)).toThrow(/out of bounds/);
    const c = np.ones([1, 3, 1]);
    expect(np.squeeze(c).shape).toEqual([3]);
    expect(c.squeeze(0).shape).toEqual([3, 1]);
    expect(c.squeeze(-1).shape).toEqual([1, 3]);
    expect(() => c.squeeze(1)).toThrow(/size not equal to one/);
    expect(np.squeeze(np.ones([1, 1])).shape).toEqual([]);
  });

  test("structural ops keep the bool dtype", () => {
    const b = np.greater(np.arange(4), 1);
    expect(b.reshape([2, 2]).dtype).toBe("bool");
    expect(b.reshape([2, 2]).T.dtype).toBe("bool");
    expect(b.slice([1], [3]).toArray()).toEqual([false, true]);
    expect(np.concat([b, b]).dtype).toBe("bool");
    expect(np.concat([b, np.arange(4)]).dtype).toBe("float64");
  });
});

describe("concat and stack", () => {
  test("concat along an existing axis", () => {
    const a = np.array([[1, 2]]);
    const b = np.array([[3, 4], [5, 6]]);
    expect(np.concat([a, b]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(np.concat([np.array([[1], [2]]), b], 1).toArray()).toEqual([[1, 3, 4], [2, 5, 6]]);
    expect(np.concat([np.array([[1], [2]]), b], -1).shape).toEqual([2, 3]);
    expect(np.concat([np.array([1]), np.array([2, 3]), np.array([4])]).toArray()).toEqual([1, 2, 3, 4]);
    expect(() => np.concat([a, b], 1)).toThrow(/differ outside axis/);
    expect(() => np.concat([np.array(1), np.array(2)])).toThrow(/zero-dimensional/);
    expect(() => np.concat([])).toThrow(/non-empty/);
  });

  test("stack along a new axis", () => {
    const a = np.array([1, 2]);
    const b = np.array([3, 4]);
    expect(np.stack([a, b]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(np.stack([a, b], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(np.stack([a, b], -1).toArray()).toEqual([[1, 3], [2, 4]]);
    const m = np.array([[1, 2], [3, 4]]);
    const n = np.array([[5, 6], [7, 8]]);
    expect(np.stack([m, n]).toArray()).toEqual([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    expect(np.stack([m, n], 1).toArray()).toEqual([[[1, 2], [5, 6]], [[3, 4], [7, 8]]]);
    expect(np.stack([m, n], 2).toArray()).toEqual([[[1, 5], [2, 6]], [[3, 7], [4, 8]]]);
    expect(np.stack([1, 2, 3]).toArray()).toEqual([1, 2, 3]);
    expect(() => np.stack([a, np.array([1, 2, 3])])).toThrow(/same shape/);
    expect(() => np.stack([a, b], 2)).toThrow(/out of bounds/);
  });
});

describe("slice, index, item", () => {
  const a = np.arange(20).reshape([4, 5]);

  test("slice takes per-axis half-open ranges", () => {
    expect(np.slice(a, [1, 2], [3, 5]).toArray()).toEqual([[7, 8, 9], [12, 13, 14]]);
    expect(a.slice([1, -3], [3, 5]).toArray()).toEqual([[7, 8, 9], [12, 13, 14]]);
    expect(a.slice([0], [2]).shape).toEqual([2, 5]);
    expect(a.slice([-1, 0], [4, 1]).toArray()).toEqual([[15]]);
  });

  test("slice bounds clamp like Python and may give empty axes", () => {
    expect(a.slice([2], [100]).shape).toEqual([2, 5]);
    expect(a.slice([-100], [1]).toArray()).toEqual([[0, 1, 2, 3, 4]]);
    expect(a.slice([3], [1]).shape).toEqual([0, 5]);
    expect(() => a.slice([0, 0, 0], [1, 1, 1])).toThrow(/too many indices/);
    expect(() => a.slice([0], [1, 2])).toThrow(/same length/);
  });

  test("index drops axis 0 and accepts negative positions", () => {
    expect(np.index(a, 1).toArray()).toEqual([5, 6, 7, 8, 9]);
    expect(a.index(-1).toArray()).toEqual([15, 16, 17, 18, 19]);
    expect(np.index(np.array([4, 5]), 1).shape).toEqual([]);
    expect(() => np.index(a, 4)).toThrow(/out of bounds/);
    expect(() => np.index(a, 1.5)).toThrow(/out of bounds/);
  });

  test("item gives a JS number", () => {
    expect(np.item(np.array([[[3]]]))).toBe(3);
    expect(np.item(2)).toBe(2);
    expect(() => np.item(np.array([1, 2]))).toThrow(/size 1/);
  });

  test("copy is equal but independent", () => {
    const c = np.copy(a);
    expect(c.toArray()).toEqual(a.toArray());
    c.data[0] = -1;
    expect(a.data[0]).toBe(0);
  });
});
