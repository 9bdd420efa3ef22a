/**
 * Bridges between numbers, number arrays and NDArrays inside differentiated code (issue 17's
 * list): `a.slice(start, end)` of a differentiated array, `np.array([...])` of computed numbers,
 * and shape-only creations (`np.zerosLike(x)`, `np.ones(x.shape)`) of a differentiated x. Each
 * against an analytic gradient and against finite differences in both modes (checkGrads).
 */
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const program = `
import { checkGrads, grad, np, NDArray } from "adc";
export function sliced(a: number[]): number {
  const t = a.slice(1);
  const u = a.slice(-2);
  const w = a.slice(1, -1);
  let s = 0;
  for (let i = 0; i < t.length; i++) s += t[i] * t[i];
  for (let i = 0; i < u.length; i++) s += Math.sin(u[i]) * a[0];
  for (let i = 0; i < w.length; i++) s += w[i] * w[i] * w[i];
  return s + a.slice(10).length + a.slice(2, 1).length;
}
export function window(a: Float64Array, k: number): number {
  const t = a.slice(k, k + 2);
  return t[0] * t[1];
}
export function bridged(a: number, b: number): number {
  const v = np.array([a * b, a + b]);
  const m = np.array([[a, 1], [b, a * a]]);
  return np.sum(np.mul(v, v)).item() + np.sum(np.matmul(m, m)).item();
}
export function shaped(x: NDArray): number {
  return np.sum(np.add(np.add(np.zerosLike(x), np.ones(x.shape)), np.mul(x, x))).item();
}
export const dSliced = grad(sliced);
export const dWindow = grad(window);
export const dBridged = grad(bridged, [0, 1]);
export const dShaped = grad(shaped);
export const checks = () => [
  checkGrads(sliced, [[1, 2, 3, 4]]),
  checkGrads(window, [new Float64Array([1, 2, 3, 4]), 1], { argnums: [0] }),
  checkGrads(bridged, [0.5, 2]),
  checkGrads(shaped, [np.array([0.5, -2])]),
];
export { np };
`;

describe("bridges between numbers, arrays and NDArrays", () => {
  it("slice, np.array of computed numbers and shape-only creations differentiate right", async () => {
    const m = await load(compile(program, { fileName: "bridges.ts" }).code, "bridges.ts");
    // sliced at [1,2,3,4]: t = a[1..], u = a[2..3], w = a[1..2]
    const a = [1, 2, 3, 4];
    const want = [Math.sin(3) + Math.sin(4), 2 * 2 + 3 * 2 ** 2, 2 * 3 + a[0] * Math.cos(3) + 3 * 3 ** 2, 2 * 4 + a[0] * Math.cos(4)];
    m.dSliced(a).forEach((g: number, i: number) => expect(g).toBeCloseTo(want[i], 12));
    expect(Array.from(m.dWindow(new Float64Array([1, 2, 3, 4]), 1))).toEqual([0, 3, 2, 0]);
    // a^2 b^2 + (a+b)^2 + sum(M^2) with M = [[a, 1], [b, a^2]]: worked by hand at (0.5, 2)
    expect(m.dBridged(0.5, 2)).toEqual([16.5, 8.75]);
    expect(Array.from(m.dShaped(m.np.array([1, 2])).data)).toEqual([2, 4]);
    for (const r of m.checks()) for (const c of r.checks) expect(c.error).toBeLessThanOrEqual(c.tolerance);
  });
});
