/**
 * NDArray in compiled programs, as the NDArray issue's user writes it: grad of 2 x.x, a loss over
 * an object of parameters (the gradient has the same structure), the head gradient through vjp,
 * stopGradient on arrays, and grad of a non-scalar function refused with a hint.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load, type Loaded } from "./helpers/load.js";

async function build(source: string): Promise<Loaded> {
  const r = compile(source, { fileName: "nd-test.ts" });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return load(r.code, "nd-test.ts");
}

const arr = (x: { toArray(): unknown }) => x.toArray();

describe("NDArray in compiled code", () => {
  it("grad of a function returning a one-element NDArray (the issue's y = 2 x.x without .item()); a larger result is a run-time error naming the fix", async () => {
    const m = await build(`
      import { grad, valueAndGrad, np, NDArray } from "adc";
      const y = (x: NDArray) => np.mul(2, np.dot(x, x));
      export const x = np.arange(4);
      export const g = grad(y)(x);
      export const [value, g2] = valueAndGrad(y)(x);
      export const bad = grad((v: NDArray) => np.mul(v, v));
    `);
    expect(arr(m.g)).toEqual([0, 4, 8, 12]);
    expect(m.value).toBe(28);
    expect(arr(m.g2)).toEqual([0, 4, 8, 12]);
    expect(() => m.bad(m.x)).toThrow(/one element; this one returned shape \[4\].*np\.sum/);
  });

  it("grad(y)(x) for y = 2 x.x is 4x; vjp with the head gradient of ones gives 2x", async () => {
    const m = await build(`
      import { grad, vjp, np, NDArray } from "adc";
      const y = (x: NDArray) => np.mul(2, np.dot(x, x)).item();
      export const x = np.arange(4);
      export const g = grad(y)(x);
      const [out, pullback] = vjp((v: NDArray) => np.mul(v, v), x);
      export const [head] = pullback(np.ones([4])); // one cotangent per argument, as in JAX
      export const value = out;
    `);
    expect(arr(m.g)).toEqual([0, 4, 8, 12]);
    expect(arr(m.head)).toEqual([0, 2, 4, 6]);
    expect(arr(m.value)).toEqual([0, 1, 4, 9]);
  });

  it.each([
    ["fields read as p.w", "const h = np.tanh(np.add(np.matmul(X, p.w), p.b));"],
    ["fields destructured", "const { w, b: bias } = p; const [rows] = X.shape; const h = np.tanh(np.add(np.matmul(X, w), np.mul(bias, rows / 5)));"],
  ])("a loss over an object of parameters (%s): the gradient is an object of the same shape, matching finite differences", async (_how, body) => {
    const m = await build(`
      import { grad, np, NDArray } from "adc";
      type Params = { w: NDArray; b: NDArray };
      export function loss(p: Params, X: NDArray, t: NDArray): number {
        ${body}
        return np.mean(np.square(np.sub(h, t))).item();
      }
      np.random.seed(7);
      export const params: Params = { w: np.random.normal(0, 1, [3, 2]), b: np.random.normal(0, 1, [2]) };
      export const X = np.random.normal(0, 1, [5, 3]);
      export const t = np.random.normal(0, 1, [5, 2]);
      export const dp = grad(loss)(params, X, t);
      export { np };
    `);
    expect(Object.keys(m.dp).sort()).toEqual(["b", "w"]);
    expect(m.dp.w.shape).toEqual([3, 2]);
    expect(m.dp.b.shape).toEqual([2]);
    const h = 1e-6;
    for (const field of ["w", "b"] as const) {
      const base = m.params[field].data as Float64Array;
      for (let k = 0; k < base.length; k++) {
        const bump = (d: number) => {
          const data = Float64Array.from(base);
          data[k] += d;
          const p = { ...m.params, [field]: m.np.reshape(m.np.array(Array.from(data)), m.params[field].shape) };
          return m.loss(p, m.X, m.t);
        };
        const fd = (bump(h) - bump(-h)) / (2 * h);
        expect(m.dp[field].data[k]).toBeCloseTo(fd, 7);
      }
    }
  });

  it("stopGradient on an NDArray treats it as a constant (the chapter's detach)", async () => {
    const m = await build(`
      import { grad, np, NDArray, stopGradient } from "adc";
      const yOf = (x: NDArray) => np.mul(x, x);
      export const x = np.arange(4);
      const u = stopGradient(yOf(x));
      export const dz = grad((x: NDArray) => np.sum(np.mul(stopGradient(np.mul(x, x)), x)).item())(x);
      export const dy = grad((x: NDArray) => np.sum(yOf(x)).item())(x);
      export const uVals = u;
    `);
    expect(arr(m.dz)).toEqual(arr(m.uVals)); // x.grad == u
    expect(arr(m.dy)).toEqual([0, 2, 4, 6]); // x.grad == 2x
  });
});
