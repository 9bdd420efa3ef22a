/**
 * NDArray in compiled programs, as the NDArray issue's user writes it: grad of 2 x.x, a loss over
 * an object of parameters (the gradient has the same structure), the head gradient through vjp,
 * stopGradient on arrays, and grad of a non-scalar function refused with a hint.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load, type Loaded } from "./helpers/load.js";
import { strictErrors } from "./helpers/strict.js";
import type { NDArray } from "../runtime/index.js";

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

  it("size, ndim and shape of an active NDArray are constants: first and second derivatives match the analytic ones", async () => {
    // f(x) = (sum x^2) / size + ndim * shape[0] * x0: grad 2x/size + e0 * ndim * rows; Hessian 2I/size.
    const m = await build(`
      import { grad, jvp, hessian, np, NDArray } from "adc";
      function f(x: NDArray): number {
        return x.square().sum().item() / x.size + x.ndim * x.shape[0] * x.get(0).item();
      }
      export const x = np.array([0.5, -1.5, 2]);
      export const g = grad(f)(x);
      export const t = jvp(f, [x], [np.array([1, 0, 1])])[1];
      export const H = hessian(f)(x);
    `);
    const g = arr(m.g) as number[];
    [0.5 * 2 / 3 + 3, -1.5 * 2 / 3, 2 * 2 / 3].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 13));
    expect(m.t).toBeCloseTo(g[0] + g[2], 13);
    expect(arr(m.H)).toEqual([[2 / 3, 0, 0], [0, 2 / 3, 0], [0, 0, 2 / 3]].map((r) => r.map((v) => expect.closeTo(v, 13))));
  });

  it("np.array of a number[] or Float64Array that carries derivatives (and of an NDArray): grad, jvp, vjp, jacfwd, jacrev and hessian against finite differences; strict types", async () => {
    const source = `
      import { grad, jvp, vjp, jacfwd, jacrev, hessian, np, NDArray } from "adc";
      export function f(xs: number[]): number {
        const a = np.array(xs);
        return a.mul(a).sum().item() + a.sin().mul(np.array([1, 2, 3])).sum().item();
      }
      export function h(w: Float64Array): number {
        const W = np.array(w).reshape([2, 2]);
        return np.matmul(W, np.array(W)).tanh().sum().item();
      }
      // Called from a loop, so it is differentiated as a function of its own (split mode).
      function layer(w: Float64Array, x: NDArray): NDArray {
        return np.matmul(np.array(w).reshape([2, 2]), x).tanh();
      }
      export function deep(w: Float64Array, x: NDArray): number {
        let y = x;
        for (let i = 0; i < 3; i++) y = layer(w, y).add(y.mul(0.5));
        return y.square().sum().item();
      }
      export function vec(xs: number[]): NDArray { return np.array(xs).exp().mul(xs[0]); }
      export const df = grad(f), dh = grad(h), ddeep = grad(deep);
      export const tf = (x: number[], t: number[]) => jvp(f, [x], [t])[1];
      export const pb = (w: Float64Array) => vjp(h, w)[1](1)[0];
      export const th = (w: Float64Array, v: Float64Array) => jvp(h, [w], [v])[1];
      export const Jf = jacfwd(vec), Jr = jacrev(vec), Hf = hessian(f);
      export { np };
    `;
    const r = compile(source, { fileName: "nd-from-array.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "nd-from-array-in.ts": source, "nd-from-array-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "nd-from-array.ts");
    const fd = (fn: (v: number[]) => number, x: readonly number[]): number[] =>
      x.map((_, i) => { const u = [...x], d = [...x]; u[i] += 1e-6; d[i] -= 1e-6; return (fn(u) - fn(d)) / 2e-6; });
    const close = (got: ArrayLike<number>, want: readonly number[]) => want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-7 * (1 + Math.abs(v))));
    const f = m.f as (x: number[]) => number, h = m.h as (w: Float64Array) => number;
    const x = [0.3, -1.2, 2], w = [0.1, -0.2, 0.3, 0.4];
    const gf = fd(f, x);
    close(m.df(x) as number[], gf);
    expect(m.tf(x, [1, 0, -1])).toBeCloseTo(gf[0] - gf[2], 7);
    const gh = fd((v) => h(Float64Array.from(v)), w);
    close(m.dh(Float64Array.from(w)) as Float64Array, gh);
    close(m.pb(Float64Array.from(w)) as Float64Array, gh);
    expect(m.th(Float64Array.from(w), Float64Array.from([1, 0, 0, -1]))).toBeCloseTo(gh[0] - gh[3], 7);
    const npm = m.np as { array(v: unknown): NDArray };
    const X = npm.array([0.5, -1]);
    close(m.ddeep(Float64Array.from(w), X) as Float64Array, fd((v) => (m.deep as (w: Float64Array, x: NDArray) => number)(Float64Array.from(v), X), w));
    // f's Hessian is diagonal: 2 - k sin(x_k).
    const H = m.Hf(x) as number[][];
    H.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? 2 - (i + 1) * Math.sin(x[i]) : 0, 12)));
    // vec(x) = x0 exp(x): J = diag(x0 exp(x)) + exp(x) e0^T, by both modes, shape [3, 3].
    for (const J of [m.Jf(x), m.Jr(x)] as NDArray[]) {
      expect(J.shape).toEqual([3, 3]);
      const want = x.flatMap((xi, i) => x.map((_, j) => (i === j ? x[0] * Math.exp(xi) : 0) + (j === 0 ? Math.exp(xi) : 0)));
      close(J.data, want);
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

/**
 * The ops added for the book's later chapters, each in a small program compiled by adc: grad of
 * a scalar loss using it against central finite differences, jvp along a direction against
 * <grad, direction>, and the same expression in a record() block + backward() against grad. `x` is 3x4 with entries well apart (no ties, none
 * at clip's bounds); argmax/oneHot ride along as constants (integer results).
 */
describe("the ops for the later chapters, compiled", () => {
  const OPS: Record<string, string> = {
    softmax: "np.sum(np.mul(np.softmax(x), W))",
    logSoftmax: "np.sum(np.mul(x.logSoftmax(0), W))",
    logsumexp: "np.sum(np.logsumexp(x, 1))",
    var: "np.sum(np.mul(np.var(x, 0), V))",
    std: "np.sum(np.add(x.std([0, 1]), np.std(x, 1)))",
    prod: "np.sum(np.prod(np.mul(x, 2), 1))",
    clip: "np.sum(np.mul(np.clip(x, -0.3, 0.4), W))",
    "clip, one-sided": "np.sum(np.mul(x.clip(null, 0.4), W))",
    log1p: "np.sum(np.log1p(np.square(x)))",
    sign: "np.sum(np.mul(np.sign(x), np.square(x)))",
    take: "np.sum(np.mul(np.take(x, [2, 0, 2], 1), W3))",
    index: "np.sum(np.square(x.get([1, 1, 0])))",
    pick: "np.sum(np.log(np.pick(np.softmax(x), labels)))",
    astype: "np.sum(np.square(x.astype(\"float32\")))",
    "sum over [0, 1]": "np.sum(np.sum(np.square(x), [0, 1]), null)",
    "oneHot of argmax": "np.sum(np.mul(np.oneHot(np.argmax(x, 1), 4), x))",
  };
  const rows = Object.entries(OPS);

  it("grad matches finite differences; jvp and record + backward match grad", async () => {
    const m = await build(`
      import { grad, jvp, np, NDArray, record } from "adc";
      const W = np.array([[0.3, -1, 2, 0.5], [1, 0.2, -0.4, 0.1], [-2, 0.7, 0.9, 1.5]]);
      const V = np.array([1, -2, 0.5, 3]);
      const W3 = np.array([[1, 2, -1], [0.5, -3, 2], [0.25, 1, 1]]);
      const labels = np.array([0, 3, 1]);
      export const x0 = np.array([[0.11, -0.52, 0.83, 1.24], [-1.05, 0.27, 0.61, -0.18], [0.95, -0.71, 0.05, 1.68]]);
      ${rows.map(([, e], k) => `
      export function f${k}(x: NDArray): number { return ${e}.item(); }
      export const g${k} = grad(f${k});
      export const j${k} = (x: NDArray, t: NDArray) => jvp(f${k}, [x], [t]);
      export function r${k}(start: NDArray): NDArray {
        const x = np.array(start);
        x.attachGrad();
        let y!: NDArray;
        record(() => { y = ${e}; });
        y.backward();
        return x.grad;
      }`).join("\n")}
      export const dir = np.array([[0.5, -1, 0.25, 2], [1, 1, -0.5, 0.3], [-2, 0.1, 0.7, -1]]);
      export { np };
    `);
    const x0 = m.x0 as { data: Float64Array; shape: number[] };
    const dir = m.dir.data as Float64Array;
    const failures: string[] = [];
    rows.forEach(([name], k) => {
      const g = m[`g${k}`](m.x0);
      const viaRecord = m[`r${k}`](m.x0);
      const [, dot] = m[`j${k}`](m.x0, m.dir);
      const gDir = dir.reduce((acc: number, d: number, i: number) => acc + d * g.data[i], 0);
      if (!(Math.abs(dot - gDir) <= 1e-12 * Math.max(1, Math.abs(gDir)))) failures.push(`${name}: jvp ${dot}, <grad, dir> ${gDir}`);
      for (let i = 0; i < x0.data.length; i++) {
        const h = 1e-6;
        const at = (d: number): number => {
          const data = Float64Array.from(x0.data);
          data[i] += d;
          return m[`f${k}`](m.np.reshape(m.np.array(Array.from(data)), x0.shape));
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        if (!(Math.abs(g.data[i] - fd) <= 1e-6 * Math.max(1, Math.abs(fd)))) failures.push(`${name}: grad[${i}] = ${g.data[i]}, finite differences ${fd}`);
        if (!(Math.abs(viaRecord.data[i] - g.data[i]) <= 1e-12 * Math.max(1, Math.abs(g.data[i])))) failures.push(`${name}: record/backward [${i}] = ${viaRecord.data[i]}, grad ${g.data[i]}`);
      }
    });
    expect(failures).toEqual([]);
  });
});
