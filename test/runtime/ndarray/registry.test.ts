// The registry's structural promises to the compiler (names, np functions,
// methods, return kinds) and the helpers generated code calls: accumulate,
// zerosLikeOperand, onesLikeOperand, unbroadcast.

import { describe, expect, test } from "vitest";
import {
  NDArray, accumulate, creationNames, ndMethodAliases, ndOps, np, onesLikeOperand, unbroadcast, zerosLikeOperand,
} from "../../../runtime/ndarray/index.js";

const x = np.array([[1, 2], [3, 4]]);
const y = np.array([0.5, 3]);

/** Sample arguments for every op, for the structural checks below. */
const samples: Record<string, unknown[]> = {
  neg: [x], square: [x], exp: [x], log: [x], sqrt: [x], sin: [x], cos: [x], tanh: [x], sigmoid: [x], relu: [x], abs: [x],
  add: [x, y], sub: [x, y], mul: [x, y], div: [x, y], pow: [x, y], maximum: [x, y], minimum: [x, y],
  greater: [x, y], less: [x, y], greaterEqual: [x, y], lessEqual: [x, y], equal: [x, y], notEqual: [x, y],
  all: [x], any: [x], allclose: [x, x], where: [np.greater(x, 2), x, y],
  sum: [x, 0, true], mean: [x, -1], max: [x, 1], min: [x],
  dot: [x, y], matmul: [x, x], norm: [x],
  reshape: [x, [-1]], transpose: [x, [1, 0]], expandDims: [x, 0], squeeze: [np.ones([1, 2]), 0], copy: [x],
  slice: [x, [0], [1]], index: [x, 1], item: [np.array([[2]])],
  concat: [[x, x], 1], stack: [[x, x], 0],
  log1p: [x], sign: [x], clip: [x, 1.5, 3], prod: [x, [0, 1]], var: [x, 0], std: [x, null, true],
  logsumexp: [x, 1], softmax: [x], logSoftmax: [x, 0], take: [x, [1, 0, 1], 1], pick: [x, np.array([1, 0])],
  argmax: [x, 1], argmin: [x], oneHot: [np.array([0, 2]), 3], astype: [x, "float32"],
};

function npMember(path: string): unknown {
  return path.split(".").reduce<any>((o, k) => o?.[k], np);
}

function kind(v: unknown): string {
  if (v instanceof NDArray) return v.dtype === "bool" ? "bool" : "ndarray";
  return typeof v === "number" ? "number" : typeof v;
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof NDArray && b instanceof NDArray) return JSON.stringify([a.shape, a.toArray()]) === JSON.stringify([b.shape, b.toArray()]);
  return Object.is(a, b);
}

describe("op registry", () => {
  test("entries are keyed by name, frozen, and cover the sample table", () => {
    expect(Object.isFrozen(ndOps)).toBe(true);
    for (const [key, op] of Object.entries(ndOps)) expect(op.name).toBe(key);
    expect(Object.keys(ndOps).sort()).toEqual(Object.keys(samples).sort());
  });

  test("np exposes each primal under its name (or npPath)", () => {
    for (const op of Object.values(ndOps)) expect(npMember(op.npPath ?? op.name), op.name).toBe(op.primal);
    expect(ndOps.norm.npPath).toBe("linalg.norm");
  });

  test("method entries are NDArray methods with operand 0 as receiver; others are not", () => {
    for (const op of Object.values(ndOps)) {
      const proto = (NDArray.prototype as any)[op.name];
      if (!op.method) {
        expect(proto, op.name).toBeUndefined();
        continue;
      }
      expect(typeof proto, op.name).toBe("function");
      const [self, ...rest] = samples[op.name];
      expect(same(proto.apply(self, rest), op.primal(...samples[op.name])), op.name).toBe(true);
    }
  });

  test("returns matches what the primal gives; diff lists valid positions", () => {
    for (const op of Object.values(ndOps)) {
      expect(kind(op.primal(...samples[op.name])), op.name).toBe(op.returns);
      for (const i of op.diff) expect(i, op.name).toBeLessThan(samples[op.name].length);
    }
    expect(ndOps.where.diff).toEqual([1, 2]);
    expect(ndOps.sum.diff).toEqual([0]);
    expect(ndOps.greater.diff).toEqual([]);
  });

  test("method aliases: get is index, T is transpose()", () => {
    expect(ndMethodAliases.get).toEqual({ op: "index", getter: false });
    expect(ndMethodAliases.T).toEqual({ op: "transpose", getter: true });
    expect(same(x.get(1), np.index(x, 1))).toBe(true);
    expect(same(x.T, np.transpose(x))).toBe(true);
  });

  test("creation names resolve to np functions and are not ops", () => {
    for (const name of creationNames) {
      expect(typeof npMember(name), name).toBe("function");
      expect(ndOps[name]).toBeUndefined();
    }
  });
});

describe("derivative helpers", () => {
  test("accumulate: null is zero, numbers add, arrays add into a fresh array", () => {
    const a = np.array([1, 2]);
    const b = np.array([10, 20]);
    expect(accumulate(null, a)).toBe(a);
    expect(accumulate(null, 3)).toBe(3);
    expect(accumulate(1, 2)).toBe(3);
    const s = accumulate(a, b) as NDArray;
    expect(s.toArray()).toEqual([11, 22]);
    expect(s).not.toBe(a);
    expect(a.toArray()).toEqual([1, 2]);
    expect(b.toArray()).toEqual([10, 20]);
  });

  test("accumulate refuses to broadcast or mix kinds", () => {
    expect(() => accumulate(np.ones([2]), np.ones([1, 2]))).toThrow(/shapes must match exactly/);
    expect(() => accumulate(np.ones([]), 1)).toThrow(TypeError);
    expect(() => accumulate(1, np.ones([1]))).toThrow(TypeError);
  });

  test("zerosLikeOperand and onesLikeOperand keep the kind and shape", () => {
    expect(zerosLikeOperand(5)).toBe(0);
    expect(onesLikeOperand(5)).toBe(1);
    const z = zerosLikeOperand(np.greater(x, 1)) as NDArray;
    expect(z.shape).toEqual([2, 2]);
    expect(z.dtype).toBe("float64");
    expect((onesLikeOperand(np.zeros([3])) as NDArray).toArray()).toEqual([1, 1, 1]);
  });

  test("unbroadcast sums over broadcast axes", () => {
    const g = np.arange(12).reshape([3, 4]);
    expect(unbroadcast(g, [1, 4]).toArray()).toEqual([[12, 15, 18, 21]]);
    expect(unbroadcast(g, [4]).toArray()).toEqual([12, 15, 18, 21]);
    expect(unbroadcast(g, [3, 1]).toArray()).toEqual([[6], [22], [38]]);
    expect(unbroadcast(g, []).toArray()).toBe(66);
    expect(unbroadcast(np.ones([2, 3, 4]), [3, 1]).toArray()).toEqual([[8], [8], [8]]);
    const same34 = unbroadcast(g, [3, 4]);
    expect(same34.toArray()).toEqual(g.toArray());
    expect(same34).not.toBe(g);
    expect(unbroadcast(2, []).toArray()).toBe(2);
    expect(() => unbroadcast(2, [1])).toThrow(/broadcast/);
    expect(() => unbroadcast(g, [2, 4])).toThrow(/broadcast/);
  });
});
