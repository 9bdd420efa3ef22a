/**
 * `grad(g)(w)` of an array w inside a function that is differentiated again: a few steps of
 * gradient descent inside a loss (meta-learning, as JAX users write it), `valueAndGrad` and `jvp`
 * of array functions inside, across two modules. Each derivative against central finite
 * differences, forward mode against reverse mode, the callers' arrays left as they were, and the
 * third derivative refused with its line and column.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compile, compileFiles, formatDiagnostic } from "../compiler/index.js";
import { strictErrors } from "./helpers/strict.js";
import { load, type Loaded } from "./helpers/load.js";
import { expectClose, fd, fdArray } from "./helpers/fd.js";

const LOSS = `
/** Squared error of a tanh unit, with a quartic weight penalty. */
export function loss(w: Float64Array, x: Float64Array, y: number): number {
  let p = 0;
  for (let i = 0; i < w.length; i++) p += w[i] * x[i];
  const r = Math.tanh(p) - y;
  let reg = 0;
  for (let i = 0; i < w.length; i++) reg += w[i] * w[i];
  return r * r + 0.01 * reg * reg;
}
`;

const SOURCE = `
import { grad, jvp, jacfwd, jacrev, valueAndGrad } from "adc";
${LOSS}
const xq = Float64Array.from([0.4, -0.3, 0.8]);
/** Three steps of gradient descent on (x, y), then the loss on a query point. */
export function adapted(w: Float64Array, x: Float64Array, y: number, lr: number): number {
  const v = w.slice();
  for (let k = 0; k < 3; k++) {
    const g = grad(loss)(v, x, y);
    for (let i = 0; i < v.length; i++) v[i] = v[i] - lr * g[i];
  }
  return loss(v, xq, 0.5);
}
/** The array is the second parameter; a number parameter is active too. */
function scaled(c: number, w: number[]): number {
  let s = c;
  for (let i = 0; i < w.length; i++) s += Math.exp(0.3 * w[i]) * c;
  return s * s;
}
export function twist(w: number[], c: number): number {
  const g = grad(scaled, 1)(c, w);
  const u = w.slice();
  u[0] = g[1] * 2;
  let t = 0;
  for (let i = 0; i < u.length; i++) t += u[i] * g[i];
  return t + c * g[0];
}
function f(w: Float64Array, c: number): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += Math.sin(w[i] * c) * w[i];
  return s;
}
function square(w: Float64Array): Float64Array {
  const out = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i] * w[i] * Math.cos(w[i]);
  return out;
}
export function viaValue(w: Float64Array, c: number): number {
  const [y, g] = valueAndGrad(f)(w, c);
  let s = y;
  for (let i = 0; i < w.length; i++) s += g[i] * g[i];
  return s;
}
export function viaJvp(w: Float64Array, t: Float64Array): number {
  const [y, dy] = jvp(square, [w], [t]);
  let s = 0;
  for (let i = 0; i < w.length; i++) s += y[i] * dy[i];
  return s;
}
export const gradient = (w: Float64Array) => grad(f)(w, 1.3);
export const dAdapted = grad(adapted, [0, 1, 3]);
export const tAdapted = (w: Float64Array, x: Float64Array, lr: number, dw: Float64Array, dx: Float64Array, dlr: number) =>
  jvp(adapted, [w, x, 0.2, lr], [dw, dx, 0, dlr]);
export const dTwist = grad(twist, [0, 1]);
export const dViaValue = grad(viaValue, [0, 1]);
export const dViaJvp = grad(viaJvp, [0, 1]);
export const hessRev = jacrev(gradient);
export const hessFwd = jacfwd(gradient);
`;

const close = expectClose;

describe("grad of an array function inside differentiated code", () => {
  let m: Loaded;
  it("compiles; input and output type-check under strict", async () => {
    const r = compile(SOURCE, { fileName: "inner-array.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "inner-array-in.ts": SOURCE, "inner-array-out.ts": r.code })).toEqual([]);
    m = await load(r.code, "inner-array.ts");
  });

  const w = Float64Array.from([0.3, -0.2, 0.5]);
  const x = Float64Array.from([1.0, 0.5, -0.7]);

  it("differentiates through gradient descent steps: w.r.t. the start, the data and the step size", () => {
    const [gw, gx, glr] = m.dAdapted(w, x, 0.2, 0.1);
    close(gw, fdArray((a) => m.adapted(a, x, 0.2, 0.1), w));
    close(gx, fdArray((a) => m.adapted(w, a, 0.2, 0.1), x));
    expect(glr).toBeCloseTo(fd((t) => m.adapted(w, x, 0.2, t), 0.1), 7);
    // The caller's arrays are as they were, and a second call gives the same numbers.
    expect(Array.from(w)).toEqual([0.3, -0.2, 0.5]);
    expect(Array.from(x)).toEqual([1.0, 0.5, -0.7]);
    const again = m.dAdapted(w, x, 0.2, 0.1);
    expect(Array.from(again[0])).toEqual(Array.from(gw));
  });

  it("forward mode through the steps agrees with finite differences and with reverse mode", () => {
    const dw = Float64Array.from([0.1, 0.7, -0.4]);
    const dx = Float64Array.from([0.2, -0.1, 0.3]);
    const [value, dot] = m.tAdapted(w, x, 0.1, dw, dx, 0.5);
    expect(value).toBe(m.adapted(w, x, 0.2, 0.1));
    const along = (t: number): number => m.adapted(w.map((v, i) => v + t * dw[i]), x.map((v, i) => v + t * dx[i]), 0.2, 0.1 + t * 0.5);
    expect(dot).toBeCloseTo(fd(along, 0), 7);
    const [gw, gx, glr] = m.dAdapted(w, x, 0.2, 0.1);
    const viaReverse = dw.reduce((s, v, i) => s + v * gw[i], 0) + dx.reduce((s, v, i) => s + v * gx[i], 0) + 0.5 * glr;
    expect(dot).toBeCloseTo(viaReverse, 12);
  });

  it("takes the array at any position, with number parameters active beside it", () => {
    const v = [0.3, -0.2, 0.5];
    const [gv, gc] = m.dTwist(v, 0.7);
    close(gv, fdArray((a) => m.twist(a, 0.7), v));
    expect(gc).toBeCloseTo(fd((c) => m.twist(v, c), 0.7), 6);
    expect(v).toEqual([0.3, -0.2, 0.5]);
  });

  it("valueAndGrad and jvp of array functions inside", () => {
    const [gw, gc] = m.dViaValue(w, 0.8);
    close(gw, fdArray((a) => m.viaValue(a, 0.8), w));
    expect(gc).toBeCloseTo(fd((c) => m.viaValue(w, c), 0.8), 6);
    const t = Float64Array.from([0.1, 0.4, -0.3]);
    const [a, b] = m.dViaJvp(w, t);
    close(a, fdArray((q) => m.viaJvp(q, t), w));
    close(b, fdArray((q) => m.viaJvp(w, q), t));
  });

  it("the Jacobian of the gradient is the Hessian, by either mode", () => {
    // f = sum sin(c w_i) w_i: diagonal Hessian 2c cos(c w) - c^2 w sin(c w).
    const want = Array.from(w, (v) => 2 * 1.3 * Math.cos(1.3 * v) - 1.3 * 1.3 * v * Math.sin(1.3 * v));
    for (const J of [m.hessRev(w), m.hessFwd(w)] as Float64Array[][]) {
      J.forEach((row, i) => close(row, want.map((d, j) => (i === j ? d : 0)), 12));
    }
  });
});

describe("across modules", () => {
  it("a loss imported from another module is differentiated twice", async () => {
    const dir = resolve(".vitest-tmp", "inner-array");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "loss.ts"), LOSS);
    const main = `import { grad } from "adc";
import { loss } from "./loss.js";
export function step(w: Float64Array, x: Float64Array): number {
  const g = grad(loss)(w, x, 0.3);
  const v = w.slice();
  for (let i = 0; i < v.length; i++) v[i] -= 0.5 * g[i];
  return loss(v, x, 0.3);
}
export const dStep = grad(step, [0, 1]);
`;
    writeFileSync(join(dir, "main.ts"), main);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const lossOut = r.outputs.get(join(dir, "loss.ts"))!.code;
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), new Map([[join(dir, "loss.ts"), lossOut]]));
    const w = Float64Array.from([0.2, 0.9]);
    const x = Float64Array.from([-0.5, 1.5]);
    const [gw, gx] = m.dStep(w, x);
    close(gw, fdArray((a) => m.step(a, x), w));
    close(gx, fdArray((a) => m.step(w, a), x));
  });
});

describe("an inline arrow whose body calls grad", () => {
  it("is differentiated as written (the inner call is replaced with the outer one)", async () => {
    const r = compile(`import { grad, jacrev, jacfwd } from "adc";
function h(t: number): number { return t * t * t; }
function cube(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i] * x[i];
  return s;
}
export const d2 = grad((t: number) => grad(h)(t));
export const Hr = jacrev((x: Float64Array) => grad(cube)(x));
export const Hf = jacfwd((x: Float64Array) => grad(cube)(x));
`, { fileName: "inline-inner.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "inline-inner.ts");
    expect(m.d2(0.5)).toBe(3);
    const x = Float64Array.from([0.3, 0.8, -0.6]);
    for (const H of [m.Hr(x), m.Hf(x)] as Float64Array[][]) H.forEach((row, i) => close(row, Array.from(x, (v, j) => (i === j ? 6 * v : 0)), 12));
  });
});

describe("an inner valueAndGrad that leaves out a defaulted argument", () => {
  it("takes the default, along an array and along a number", async () => {
    const r = compile(`import { grad, valueAndGrad } from "adc";
function g(v: number[], c: number = 0.5): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += c * v[i] ** 4;
  return s;
}
function q(x: number, c = 3): number { return c * x * x * x; }
export function outer(w: number[]): number {
  const [f, d] = valueAndGrad(g)(w);
  const [y, dy] = valueAndGrad(q)(w[0]);
  return f + d[0] + y * dy;
}
export const dOuter = grad(outer);
`, { fileName: "inner-default.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "inner-default.ts");
    const w = [0.3, -0.6, 0.9];
    close(m.dOuter(w), fdArray((a) => m.outer(a), w));
  });
});

describe("what is refused", () => {
  it("a third derivative, and grad of a function that writes its array argument, with line and column (an NDArray inner grad is not refused)", () => {
    const source = `import { grad, hessian } from "adc";
function f(w: number[]): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += Math.sin(w[i]) * w[i];
  return s;
}
export function meta(w: number[]): number {
  const g = grad(f)(w);
  return g[0] * g[1];
}
function writes(w: number[]): number {
  w[0] = w[0] * 2;
  return w[0] * w[1];
}
export function other(w: number[]): number {
  return grad(writes)(w)[1];
}
export const H = hessian(meta);
export const d = grad(other);
`;
    const r = compile(source, { fileName: "third.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "third.ts(8,13): error ADC1026: a derivative of order three through grad(f) of an array is not supported yet (its derivatives are Hessian-vector products, made once)",
      "third.ts(16,10): error ADC1026: grad of writes inside a differentiated function is not supported: 'writes' writes into its array arguments - differentiate the whole computation at module level",
    ]);
    const nd = compile(`import { grad, np, NDArray } from "adc";
function f(x: NDArray): number { return np.sum(np.mul(x, x)).item(); }
export function outer(x: NDArray): number { return np.sum(grad(f)(x)).item(); }
export const d = grad(outer);
`, { fileName: "nd-inner.ts" });
    // Along an NDArray the inner grad is supported too (below); this one has no diagnostic.
    expect(nd.diagnostics.map(formatDiagnostic)).toEqual([]);
  });
});

describe("grad of an NDArray function inside differentiated code (MAML-style steps)", () => {
  const source = `
import { grad, jvp, np, NDArray } from "adc";
const X = np.array([[1, 2], [0.5, -1], [2, 0.3]]), y = np.array([[1], [0], [2]]);
function inner(w: NDArray): number { return np.mean(np.square(np.sub(np.matmul(X, w).tanh(), y))).item(); }
export function adapted(w: NDArray, lr: number): number {
  const g = grad(inner)(w);
  const w1 = np.sub(w, np.mul(lr, g));
  const g1 = grad(inner)(w1);
  return inner(np.sub(w1, np.mul(lr, g1)));
}
export const dAdapted = grad(adapted, [0, 1]);
export const tAdapted = (w: NDArray, lr: number, v: NDArray) => jvp(adapted, [w, lr], [v, 0])[1];
export { np };
`;
  it("two inner steps: the gradient w.r.t. the start and the step size by either mode against finite differences; strict types", async () => {
    const r = compile(source, { fileName: "inner-nd.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "inner-nd-in.ts": source, "inner-nd-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "inner-nd.ts");
    const np = m.np as { array(v: unknown): { data: Float64Array } };
    const adapted = m.adapted as (w: unknown, lr: number) => number;
    const W = (v: number[]) => np.array([[v[0]], [v[1]]]);
    const w = [0.1, 0.2], lr = 0.3, e = 1e-6;
    const [gw, glr] = (m.dAdapted as (w: unknown, lr: number) => [{ data: Float64Array }, number])(W(w), lr);
    const fd = w.map((_, i) => (adapted(W(w.map((a, j) => (j === i ? a + e : a))), lr) - adapted(W(w.map((a, j) => (j === i ? a - e : a))), lr)) / (2 * e));
    close([...gw.data], fd, 7);
    expect(glr).toBeCloseTo((adapted(W(w), lr + e) - adapted(W(w), lr - e)) / (2 * e), 7);
    expect((m.tAdapted as (w: unknown, lr: number, v: unknown) => number)(W(w), lr, W([1, -2]))).toBeCloseTo(gw.data[0] - 2 * gw.data[1], 12);
  });
});
