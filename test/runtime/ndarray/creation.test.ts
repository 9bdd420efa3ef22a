// numpy semantics of array creation, the NDArray basics (item, toArray, get,
// ownership) and np.random's determinism and moments.

import { describe, expect, test } from "vitest";
import { NDArray, np, Xoshiro128 } from "../../../runtime/ndarray/index.js";

describe("creation", () => {
  test("array from nested lists, numbers, booleans and arrays", () => {
    const a = np.array([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.size).toBe(6);
    expect(a.ndim).toBe(2);
    expect(a.dtype).toBe("float64");
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const s = np.array(2.5);
    expect(s.shape).toEqual([]);
    expect(s.toArray()).toBe(2.5);
    const b = np.array([true, false]);
    expect(b.dtype).toBe("bool");
    expect(b.toArray()).toEqual([true, false]);
    expect(np.array([]).shape).toEqual([0]);
    expect(np.array(Float64Array.of(1, 2)).toArray()).toEqual([1, 2]);
    expect(np.array([np.array([1, 2]), np.array([3, 4])]).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  test("array copies its input and rejects ragged nesting", () => {
    const a = np.array([1, 2]);
    const b = np.array(a);
    b.data[0] = 9;
    expect(a.toArray()).toEqual([1, 2]);
    expect(() => np.array([[1, 2], [3]])).toThrow(/rectangular/);
    expect(() => np.array([[1, 2], 3] as any)).toThrow(/rectangular/);
  });

  test("arange follows numpy's start/stop/step", () => {
    expect(np.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(np.arange(2, 5).toArray()).toEqual([2, 3, 4]);
    expect(np.arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(np.arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(np.arange(3, 1).shape).toEqual([0]);
    expect(() => np.arange(0, 1, 0)).toThrow();
  });

  test("zeros, ones, full, eye, linspace, zerosLike, onesLike", () => {
    expect(np.zeros(3).toArray()).toEqual([0, 0, 0]);
    expect(np.zeros([2, 1]).toArray()).toEqual([[0], [0]]);
    expect(np.ones([1, 2]).toArray()).toEqual([[1, 1]]);
    expect(np.full([2], 7).toArray()).toEqual([7, 7]);
    expect(np.full(2, true).dtype).toBe("bool");
    expect(np.eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(np.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(np.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(np.linspace(2, 3, 1).toArray()).toEqual([2]);
    expect(np.linspace(0, 1).size).toBe(50);
    expect(np.linspace(0, 0.3, 4).data[3]).toBe(0.3);
    expect(np.zerosLike(np.ones([2, 2])).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(np.onesLike(3).shape).toEqual([]);
    expect(np.onesLike(np.zeros([2])).toArray()).toEqual([1, 1]);
    expect(() => np.zeros([2, -1])).toThrow(/non-negative/);
  });
});

describe("NDArray basics", () => {
  test("constructor validates size and adopts the buffer", () => {
    const d = Float64Array.of(1, 2, 3, 4);
    const a = new NDArray(d, [2, 2]);
    expect(a.data).toBe(d);
    expect(Object.isFrozen(a.shape)).toBe(true);
    expect(() => new NDArray(d, [3])).toThrow(/needs 3/);
  });

  test("item, get and toArray", () => {
    const a = np.arange(6).reshape([2, 3]);
    expect(np.array([[7]]).item()).toBe(7);
    expect(() => a.item()).toThrow(/size 1/);
    expect(a.get(1).toArray()).toEqual([3, 4, 5]);
    expect(a.get(-2).toArray()).toEqual([0, 1, 2]);
    expect(a.get(1).get(2).shape).toEqual([]);
    expect(a.get(1).get(2).toArray()).toBe(5);
    expect(() => a.get(2)).toThrow(/out of bounds/);
    expect(() => np.array(1).get(0)).toThrow(/0-dimensional/);
    expect(a.toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
  });

  test("ops return fresh buffers, never views", () => {
    const a = np.arange(6);
    const outs = [a.copy(), a.reshape([2, 3]), a.add(0), a.expandDims(0), a.slice([0], [6]), a.transpose(), np.concat([a])];
    for (const o of outs) expect(o.data).not.toBe(a.data);
    const r = a.reshape([3, 2]);
    r.data[0] = 100;
    expect(a.data[0]).toBe(0);
  });
});

describe("np.random", () => {
  test("seed makes draws reproducible; no size gives a 0-d array", () => {
    np.random.seed(42);
    const a = np.random.normal(0, 1, [4]);
    const u = np.random.uniform(2, 3, 3);
    np.random.seed(42);
    expect(np.random.normal(0, 1, [4]).toArray()).toEqual(a.toArray());
    expect(np.random.uniform(2, 3, 3).toArray()).toEqual(u.toArray());
    expect(np.random.normal().shape).toEqual([]);
    expect(np.random.uniform().shape).toEqual([]);
    expect(() => np.random.seed(-1)).toThrow();
  });

  test("sample moments are plausible", () => {
    np.random.seed(1);
    const n = np.random.normal(3, 2, [20000]);
    expect(Math.abs(n.mean().item() - 3)).toBeLessThan(0.06);
    expect(Math.abs(np.sqrt(np.mean(np.square(np.sub(n, 3)))).item() - 2)).toBeLessThan(0.06);
    const u = np.random.uniform(-1, 1, [20000]);
    expect(u.min().item()).toBeGreaterThanOrEqual(-1);
    expect(u.max().item()).toBeLessThan(1);
    expect(Math.abs(u.mean().item())).toBeLessThan(0.03);
  });

  test("xoshiro128** reproduces the reference outputs for state {1, 2, 3, 4}", () => {
    const r = Xoshiro128.fromState([1, 2, 3, 4]);
    // First three worked by hand from the algorithm: rotl(5 * s1, 7) * 9, then the state update.
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  test("xoshiro128** words are 32-bit and doubles lie in [0, 1)", () => {
    const r = new Xoshiro128(0);
    for (let i = 0; i < 1000; i++) {
      const w = r.nextUint32();
      expect(Number.isInteger(w) && w >= 0 && w < 2 ** 32).toBe(true);
      const d = r.nextDouble();
      expect(d >= 0 && d < 1).toBe(true);
    }
    const a = new Xoshiro128(5);
    const b = new Xoshiro128(5);
    expect([a.nextUint32(), a.nextUint32()]).toEqual([b.nextUint32(), b.nextUint32()]);
  });
});
