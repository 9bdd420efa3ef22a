/**
 * Second derivatives of functions of parameter objects (pytrees: objects and lists of numbers,
 * arrays, NDArrays and class instances): Hessian-vector products `jvp(grad(f), [p], [v])` and
 * `vjp(grad(f), p)`, and `grad(grad(f, 0), 1)` along a number then an object, each against
 * central differences of the gradient along the same direction.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import type { NDArray } from "../runtime/index.js";
import { load, type Loaded } from "./helpers/load.js";
import { strictErrors } from "./helpers/strict.js";

const source = `
import { grad, jvp, vjp, np, NDArray } from "adc";
export type Layer = { w: number[][]; b: number[] };
export type Net = { layers: Layer[]; scale: { s: number } };
export function net(p: Net, x: number[]): number {
  let h = x;
  for (const L of p.layers) {
    const out: number[] = new Array(L.b.length).fill(0);
    for (let i = 0; i < L.b.length; i++) {
      let z = L.b[i];
      for (let j = 0; j < h.length; j++) z += L.w[i][j] * h[j];
      out[i] = Math.tanh(z);
    }
    h = out;
  }
  let s = 0;
  for (const v of h) s += v * v;
  return s * p.scale.s;
}
export type P = { a: number; b: number[]; m: number[][] };
export function f(x: number, p: P): number {
  let s = x * p.a;
  for (const row of p.m) for (const v of row) s += Math.sin(v * x) * p.b[0];
  return s * s + p.b[1] * x * x * x;
}
export class Lin {
  constructor(public w: number[], public c: number) {}
  apply(x: number): number { return this.w[0] * x * x + this.w[1] * x + this.c; }
}
export function h(m: Lin, x: number): number { return Math.tanh(m.apply(x)) * m.c; }
export function k(ps: NDArray[], x: NDArray): number {
  let z = x;
  for (const W of ps) z = np.matmul(W, z).sin();
  return z.sum().item();
}
export const gnet = grad(net);
export const hvpNet = (p: Net, x: number[], v: Net) => jvp(grad(net), [p, x], [v, [0, 0]])[1];
export const vhpNet = (p: Net, x: number[], u: Net) => vjp(grad(net), p, x)[1](u)[0];
export const dfx = grad(f, 0);
export const dfxp = grad(grad(f, 0), 1);
export const gh = grad(h);
export const vhpH = (m: Lin, x: number, u: Lin) => vjp(grad(h), m, x)[1](u)[0];
export const gk = grad(k);
export const hvpK = (ps: NDArray[], x: NDArray, v: NDArray[]) => jvp(grad(k), [ps, x], [v, np.zerosLike(x)])[1];
export { np };
`;

let m: Loaded;
beforeAll(async () => {
  const r = compile(source, { fileName: "tree-second-order.ts" });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  expect(strictErrors({ "tree-in.ts": source, "tree-out.ts": r.code })).toEqual([]);
  m = await load(r.code, "tree-second-order.ts");
}, 60_000);

type Fn = (...args: any[]) => any;
const fn = (name: string): Fn => m[name] as Fn;

/** Central differences of `grad(t)` (as flat numbers) along one direction, at t = 0. */
function alongRay(gradAt: (t: number) => number[]): number[] {
  const e = 1e-6;
  const [up, down] = [gradAt(e), gradAt(-e)];
  return up.map((u, i) => (u - down[i]) / (2 * e));
}

function expectClose(got: readonly number[], want: readonly number[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `entry ${i}: ${g}, differences give ${want[i]}`).toBeLessThan(1e-6 * (1 + Math.abs(want[i]))));
}

describe("second derivatives of functions of parameter objects", () => {
  type Net = { layers: { w: number[][]; b: number[] }[]; scale: { s: number } };
  const flat = (p: Net): number[] => [...p.layers.flatMap((L) => [...L.w.flat(), ...L.b]), p.scale.s];
  const unflat = (v: readonly number[], like: Net): Net => {
    let k = 0;
    return { layers: like.layers.map((L) => ({ w: L.w.map((r) => r.map(() => v[k++])), b: L.b.map(() => v[k++]) })), scale: { s: v[k++] } };
  };
  const p: Net = { layers: [{ w: [[0.1, -0.3], [0.4, 0.2], [-0.5, 0.3]], b: [0.1, 0, -0.1] }, { w: [[0.3, -0.2, 0.1]], b: [0.05] }], scale: { s: 1.3 } };
  const x = [0.7, -0.4];
  const v = unflat(flat(p).map((_, i) => Math.sin(i + 1)), p);
  const fd = () => alongRay((t) => flat(fn("gnet")(unflat(flat(p).map((a, i) => a + t * flat(v)[i]), p), x)));

  it("a list of layer objects of number[][] weights: jvp(grad) and vjp(grad) against differences of grad", () => {
    expectClose(flat(fn("hvpNet")(p, x, v)), fd());
    // The Hessian is symmetric: the vjp of grad along v is the same product.
    expectClose(flat(fn("vhpNet")(p, x, v)), fd());
  });

  it("grad(grad(f, 0), 1): the derivative along x of df/dx with respect to an object of numbers, arrays and rows", () => {
    type P = { a: number; b: number[]; m: number[][] };
    const q: P = { a: 0.7, b: [0.3, -0.4], m: [[0.2, 0.5], [1.1, -0.3]] };
    const flatP = (r: P): number[] => [r.a, ...r.b, ...r.m.flat()];
    const unP = (w: readonly number[]): P => ({ a: w[0], b: [w[1], w[2]], m: [[w[3], w[4]], [w[5], w[6]]] });
    const q0 = flatP(q);
    const want = q0.map((_, i) => alongRay((t) => [fn("dfx")(0.9, unP(q0.map((a, j) => (j === i ? a + t : a))))])[0]);
    expectClose(flatP(fn("dfxp")(0.9, q)), want);
  });

  it("a class instance (a method reading its fields): vjp(grad) against differences of grad", () => {
    const Lin = m.Lin as new (w: number[], c: number) => { w: number[]; c: number };
    const at = (w: readonly number[]) => new Lin([w[0], w[1]], w[2]);
    const l0 = [0.3, -0.2, 0.8], dir = [1, -0.5, 0.25];
    const got = fn("vhpH")(at(l0), 0.6, at(dir));
    expect(got).toBeInstanceOf(Lin);
    const want = alongRay((t) => { const g = fn("gh")(at(l0.map((a, i) => a + t * dir[i])), 0.6); return [...g.w, g.c]; });
    expectClose([...got.w, got.c], want);
  });

  it("a list of NDArrays: jvp(grad) against differences of grad", () => {
    const np = m.np as { array(v: unknown): NDArray };
    const ps = [np.array([[0.3, 0.1], [-0.2, 0.4]]), np.array([[0.5, -0.3], [0.2, 0.1]])];
    const D = [np.array([[1, 0.5], [0, 1]]), np.array([[0, 1], [1, -2]])];
    const X = np.array([0.7, -0.2]);
    const got = (fn("hvpK")(ps, X, D) as NDArray[]).flatMap((a) => [...a.data]);
    const want = alongRay((t) => (fn("gk")(ps.map((W, i) => W.add(D[i].mul(t))), X) as NDArray[]).flatMap((a) => [...a.data]));
    expectClose(got, want);
  });
});
