/**
 * `@differentiable` (issue 16, item 1): an annotated function carries its derivatives, so that
 * grad, valueAndGrad, vjp and jvp of a function VALUE (a parameter, a factory's result, an import
 * passed around) work; a value without them is a run-time error naming the annotation; misplaced
 * annotations and unsupported uses are compile-time diagnostics. Checked against analytic
 * derivatives and central differences, across two modules.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compile, compileFiles, formatDiagnostic } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const model = `import { np, NDArray } from "adc";
/** The loss of a line through the data. @differentiable */
export function sq(x: number, y: number): number {
  return x * x * y + Math.sin(y);
}
/** @differentiable */
export const mse = (w: NDArray, X: NDArray, y: NDArray) => np.mean(np.square(np.sub(np.dot(X, w), y)));
/** @differentiable */
export function total(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]) * (i + 1);
  return s;
}
export function plain(x: number, y: number): number { return x * y; }
export function pick(which: string): (x: number, y: number) => number { return which === "sq" ? sq : plain; }
`;

const main = `import { grad, valueAndGrad, vjp, jvp, np, NDArray } from "adc";
import { sq, mse, total, plain, pick } from "./model.js";
export function both(f: (x: number, y: number) => number, x: number, y: number): [number, number] {
  return grad(f, [0, 1])(x, y);
}
export function second(f: (x: number, y: number) => number, x: number, y: number): number {
  return grad(f, 1)(x, y);
}
export function fit(loss: (w: NDArray, X: NDArray, y: NDArray) => NDArray, w: NDArray, X: NDArray, y: NDArray): [number, NDArray] {
  return valueAndGrad(loss)(w, X, y);
}
export function tangent(f: (x: number, y: number) => number, dx: number, dy: number) { return jvp(f, [2, 3], [dx, dy]); }
export function pull(f: (x: number, y: number) => number, ct: number) { const [out, pb] = vjp(f, 2, 3); return [out, pb(ct)]; }
export function arrayGrad(f: (v: Float64Array) => number, v: Float64Array) { return grad(f)(v); }
const chosen = pick("sq");
export const factory = () => grad(chosen)(1.5, 0.5);
export { sq, mse, total, plain, np };
`;

/** grad with respect to argument 1 of a value differentiable in argument 0 only. */
const grad1 = (m: Record<string, any>, f: unknown): unknown => m.db(f, 0.3, -0.2);

describe("@differentiable", () => {
  it("function values carry their derivatives across modules: grad, valueAndGrad, vjp, jvp", async () => {
    const dir = resolve(".vitest-tmp", "differentiable");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "model.ts"), model);
    writeFileSync(join(dir, "main.ts"), main);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const modelOut = r.outputs.get(join(dir, "model.ts"))!.code;
    expect(modelOut).toContain("_rt.attachDerivatives(sq, sq_vjp, sq_jvpPair);");
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), new Map([[join(dir, "model.ts"), modelOut]]));
    const [x, y] = [2, 3];
    expect(m.both(m.sq, x, y)).toEqual([2 * x * y, x * x + Math.cos(y)]);
    expect(m.second(m.sq, x, y)).toBe(x * x + Math.cos(y));
    expect(m.factory()).toBe(2 * 1.5 * 0.5);
    const [out, dot] = m.tangent(m.sq, 0.5, -2);
    expect(out).toBe(m.sq(2, 3));
    expect(dot).toBeCloseTo(0.5 * 2 * x * y - 2 * (x * x + Math.cos(y)), 12);
    const [out2, cts] = m.pull(m.sq, 3);
    expect(out2).toBe(m.sq(2, 3));
    expect(cts[0]).toBe(3 * 2 * x * y);
    expect(cts[1]).toBeCloseTo(3 * (x * x + Math.cos(y)), 14);
    const np = m.np;
    const [l, g] = m.fit(m.mse, np.array([[0.5], [1]]), np.array([[1, 2], [3, 4]]), np.array([[1], [2]]));
    expect(l).toBe(7.25);
    expect(g.toArray()).toEqual([[12], [17]]);
    const v = new Float64Array([0.1, -0.2, 0.3]);
    const gv = m.arrayGrad(m.total, v);
    Array.from(gv as Float64Array).forEach((x, i) => expect(x).toBeCloseTo(Math.exp(v[i]) * (i + 1), 14));
    const h = 1e-6;
    const fd = (m.sq(x, y + h) - m.sq(x, y - h)) / (2 * h);
    expect(m.second(m.sq, x, y)).toBeCloseTo(fd, 6);
    // A function without the annotation: a run-time error that says what to do.
    expect(() => m.both(m.plain, 1, 2)).toThrow(/grad: 'plain' carries no derivatives\. Mark the function's declaration \/\*\* @differentiable \*\//);
  });

  it("function values give Jacobians: jacrev, jacobian and jacfwd, like the functions themselves", async () => {
    const src = `import { jacrev, jacfwd, jacobian } from "adc";
/** A vector field that also writes its scratch argument. @differentiable */
export function field(v: Float64Array, s: number, scratch: Float64Array): Float64Array {
  const out = new Float64Array(2);
  for (let i = 0; i < v.length; i++) {
    scratch[i] = Math.sin(v[i] * s);
    out[0] += scratch[i] * (i + 1);
    out[1] += v[i] * v[i] * s;
  }
  return out;
}
type Field = (v: Float64Array, s: number, scratch: Float64Array) => Float64Array;
export function rev(f: Field, v: Float64Array, s: number, w: Float64Array) { return jacrev(f, [0, 1])(v, s, w); }
export function fwd(f: Field, v: Float64Array, s: number, w: Float64Array) { return jacfwd(f, [0, 1])(v, s, w); }
export function one(f: Field, v: Float64Array, s: number, w: Float64Array) { return jacobian(f)(v, s, w); }
export const direct = jacrev(field, [0, 1]);
`;
    const r = compile(src, { fileName: "jac-values.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    expect(r.code).toContain("_rt.jacrevValue(f, [0, 1])");
    expect(r.code).toContain("_rt.jacfwdValue(f, [0, 1])");
    const m = await load(r.code, "jac-values.ts");
    const v = new Float64Array([0.3, -0.8, 1.1]);
    const s = 0.7;
    const [Jv, Js] = m.direct(v, s, new Float64Array(3));
    for (const fn of [m.rev, m.fwd]) {
      const w = new Float64Array(3);
      const [jv, js] = fn(m.field, v, s, w);
      for (let i = 0; i < 2; i++) {
        Array.from(jv[i] as Float64Array).forEach((x, j) => expect(x).toBeCloseTo(Jv[i][j], 12));
        expect(js[i]).toBeCloseTo(Js[i], 12);
      }
      // The scratch array ends as one run of the function leaves it.
      Array.from(w).forEach((x, i) => expect(x).toBeCloseTo(Math.sin(v[i] * s), 15));
    }
    // Against the analytic Jacobian: d out0 / dv_j = cos(v_j s) s (j + 1), d out1 / dv_j = 2 v_j s.
    const J1 = m.one(m.field, v, s, new Float64Array(3));
    for (let j = 0; j < 3; j++) {
      expect(J1[0][j]).toBeCloseTo(Math.cos(v[j] * s) * s * (j + 1), 12);
      expect(J1[1][j]).toBeCloseTo(2 * v[j] * s, 12);
    }
    expect(() => m.rev((a: Float64Array) => a, v, s, new Float64Array(3))).toThrow(/jacrev: this function value carries no derivatives/);
  });

  it("@differentiable(wrt: ...) restricts the derivatives to the parameters it names", async () => {
    const src = `import { grad, jvp } from "adc";
/** A loss of a weight for fixed data. @differentiable(wrt: w) */
export function loss(w: number, data: number): number { return (w * data - 1) ** 2 + Math.sin(w); }
type F = (w: number, data: number) => number;
export const dw = (f: F, w: number, x: number) => grad(f)(w, x);
export const dx = (f: F, w: number, x: number) => grad(f, 1)(w, x);
export const both = (f: F, w: number, x: number) => grad(f, [0, 1])(w, x);
export const tw = (f: F, w: number, x: number, dwv: number, dxv: number) => jvp(f, [w, x], [dwv, dxv]);
`;
    const r = compile(src, { fileName: "wrt.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    expect(r.code).toMatch(/_rt\.attachDerivatives\(loss, loss_vjp\w*, loss_jvpPair\w*, \[0\]\);/);
    const m = await load(r.code, "wrt.ts");
    const [w, x] = [0.4, 1.5];
    expect(m.dw(m.loss, w, x)).toBeCloseTo(2 * (w * x - 1) * x + Math.cos(w), 14);
    expect(m.tw(m.loss, w, x, 2, 0)[1]).toBeCloseTo(2 * (2 * (w * x - 1) * x + Math.cos(w)), 14);
    expect(() => m.dx(m.loss, w, x)).toThrow(/grad: 'loss' is differentiable with respect to parameter 0 only \(its @differentiable\(wrt: \.\.\.\) annotation\); argument 1 is not one of them/);
    expect(() => m.both(m.loss, w, x)).toThrow(/argument 1 is not one of them/);
    expect(() => m.tw(m.loss, w, x, 1, 1)).toThrow(/the tangent of argument 1 must be zero/);
    const d = (tagText: string): string => compile(`/** ${tagText} */\nexport function f(a: number, s: string): number { return a * s.length; }\n`, { fileName: "t.ts" }).diagnostics.map((x) => formatDiagnostic(x)).join("\n");
    expect(d("@differentiable(wrt: z)")).toContain("error ADC1016: @differentiable(wrt: ...) names 'z', which is not a parameter of 'f' - its parameters are a, s");
    expect(d("@differentiable(wrt: s)")).toContain("error ADC1012: @differentiable(wrt: ...) names 's', whose type adc cannot differentiate");
    expect(d("@differentiable(with: a)")).toContain("error ADC1016: @differentiable: cannot read '(with: a)'");
    expect(d("@differentiable the loss, for fixed data")).toBe("");
    expect(d("@differentiable(wrt a b)")).toContain("error ADC1016: @differentiable: cannot read '(wrt a b)'");
  });

  it("@differentiable in a JSDoc block of its own, above another block, marks the function", async () => {
    const src = `import { grad } from "adc";
/** @differentiable */
/** The loss, documented in a block of its own. */
export function loss(x: number): number { return x * x * x; }
/** @differentiable */
/** An arrow. */
export const cube = (x: number): number => x * x * x;
export const apply = (f: (x: number) => number, x: number) => grad(f)(x);
`;
    const r = compile(src, { fileName: "blocks.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const m = await load(r.code, "blocks.ts");
    expect(m.apply(m.loss, 2)).toBe(12);
    expect(m.apply(m.cube, 3)).toBe(27);
  });

  it("a @differentiable function that calls a customVjp function carries its reverse-mode derivatives; jvp of it says why it has no other", async () => {
    const src = `import { grad, jvp, customVjp } from "adc";
export const clip = customVjp(
  (x: number) => x,
  (x: number) => [x, null] as const,
  (_: null, g: number) => [Math.max(-1, Math.min(1, g))] as [number],
);
/** @differentiable */
export function model(x: number): number { return clip(x * x) * 3; }
/** @differentiable */
export function outer(x: number): number { return model(x) + x; }
export const apply = (f: (x: number) => number, x: number) => grad(f)(x);
export const tangent = (f: (x: number) => number, x: number) => jvp(f, [x], [1]);
`;
    const r = compile(src, { fileName: "reverse-only.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const m = await load(r.code, "reverse-only.ts");
    // d/dx 3 clip(x^2) with the cotangent 3 clipped to 1 on its way into x^2: 2x.
    expect(m.apply(m.model, 0.2)).toBeCloseTo(0.4, 14);
    expect(m.apply(m.outer, 0.2)).toBeCloseTo(1.4, 14);
    expect(() => m.tangent(m.outer, 0.2)).toThrow(/'outer' calls 'clip', whose customVjp rule gives no forward-mode derivative/);
  });

  it("a custom rule called through a namespace import (C.softplus2(x)) is the rule, as through a named import", async () => {
    const dir = resolve(".vitest-tmp", "custom-namespace");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "custom.ts"), `import { customJvp } from "adc";
export const softplus2 = customJvp(
  (x: number) => Math.log(1 + Math.exp(x)),
  ([x]: [number], [t]: [number]): [number, number] => [Math.log(1 + Math.exp(x)), t / (1 + Math.exp(-x))],
);
`);
    writeFileSync(join(dir, "main.ts"), `import { grad, jvp } from "adc";
import * as C from "./custom.js";
import { softplus2 } from "./custom.js";
export const named = grad((x: number) => softplus2(x * x));
export const viaNamespace = grad((x: number) => C.softplus2(x * x));
export const tangent = (x: number) => jvp((y: number) => C.softplus2(y * y), [x], [1])[1];
`);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), new Map([[join(dir, "custom.ts"), r.outputs.get(join(dir, "custom.ts"))!.code]]));
    const want = (2 * 0.6) / (1 + Math.exp(-0.36));
    expect(m.named(0.6)).toBeCloseTo(want, 14);
    expect(m.viaNamespace(0.6)).toBeCloseTo(want, 14);
    expect(m.tangent(0.6)).toBeCloseTo(want, 14);
  });

  it("function values picked when the program runs (a table's element, a Map's entry, a choice, an object's field) and functions reached through a const object or an alias of a checkpoint", async () => {
    const src = `import { grad, jvp, checkpoint } from "adc";
/** @differentiable */
function sq(x: number): number { return x * x; }
/** @differentiable */
function cube(x: number): number { return x * x * x; }
const table: ((x: number) => number)[] = [sq, cube];
const registry = new Map<string, (x: number) => number>([["sq", sq]]);
const acts = { cube, sq: sq } as const;
export const f1 = table[1];
export const picked = (k: number) => [grad(f1)(2), grad(table[k])(2), grad(registry.get("sq")!)(3), grad(k > 0 ? cube : sq)(2), jvp(acts.cube, [2], [1])[1]];
export function viaObject(x: number): number { return acts.cube(x) + acts.sq(x); }
function blk(y: number): number { return Math.sin(y) * 2; }
const c = checkpoint(blk);
const c2 = c;
export function run(x: number): number { return c2(c(x)); }
export const dObject = grad(viaObject), dRun = grad(run);
`;
    const r = compile(src, { fileName: "picked.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const m = await load(r.code, "picked.ts");
    expect(m.picked(0)).toEqual([12, 4, 6, 4, 12]);
    expect(m.picked(1)).toEqual([12, 12, 6, 12, 12]);
    expect(m.dObject(0.5)).toBeCloseTo(3 * 0.25 + 1, 14);
    expect(m.dRun(0.3)).toBeCloseTo(2 * Math.cos(2 * Math.sin(0.3)) * 2 * Math.cos(0.3), 14);
  });

  it("a closure marked @differentiable carries derivatives that read its captured locals when called", async () => {
    const src = `import { grad, valueAndGrad, vjp, jvp, jacrev } from "adc";
/** A factory: each loss closes over its own data and target. */
export function makeLoss(xs: Float64Array, target: number) {
  let scale = 1;
  /** @differentiable(wrt: w) */
  const loss = (w: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += (scale * w * xs[i] + b - target) ** 2;
    return s;
  };
  /** @differentiable */
  const fit = (p: Float64Array): Float64Array => Float64Array.from([p[0] * xs[0] + p[1], Math.sin(p[0]) * target]);
  return { loss, fit, rescale: (k: number) => { scale = k; } };
}
type L = (w: number, b: number) => number;
export const dw = (f: L, w: number, b: number) => grad(f)(w, b);
export const db = (f: L, w: number, b: number) => grad(f, 1)(w, b);
export const vg = (f: L, w: number, b: number) => valueAndGrad(f)(w, b);
export const tw = (f: L, w: number, b: number, t: number) => jvp(f, [w, b], [t, 0]);
export const pb = (f: L, w: number, b: number) => vjp(f, w, b)[1](1)[0];
export const J = (f: (p: Float64Array) => Float64Array, p: Float64Array) => jacrev(f)(p);
export const Jt = (f: (p: Float64Array) => Float64Array, p: Float64Array, t: Float64Array) => jvp(f, [p], [t]);
`;
    const r = compile(src, { fileName: "closure.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const m = await load(r.code, "closure.ts");
    const xs = Float64Array.from([0.5, -1, 2]);
    const made = m.makeLoss(xs, 0.7);
    const want = (w: number, b: number, scale: number): number => xs.reduce((acc, x) => acc + 2 * (scale * w * x + b - 0.7) * scale * x, 0);
    const [w, b] = [0.3, -0.2];
    expect(m.dw(made.loss, w, b)).toBeCloseTo(want(w, b, 1), 12);
    expect(m.vg(made.loss, w, b)[0]).toBeCloseTo(made.loss(w, b), 14);
    expect(m.tw(made.loss, w, b, 2)[1]).toBeCloseTo(2 * want(w, b, 1), 12);
    expect(m.pb(made.loss, w, b)).toBeCloseTo(want(w, b, 1), 12);
    // The captured local as it is when the derivative runs, as the closure itself reads it.
    made.rescale(3);
    expect(m.dw(made.loss, w, b)).toBeCloseTo(want(w, b, 3), 12);
    // Two closures of the factory, two data sets.
    const other = m.makeLoss(Float64Array.from([1, 1, 1]), 0.7);
    expect(m.dw(other.loss, w, b)).toBeCloseTo(3 * 2 * (w + b - 0.7), 12);
    expect(() => grad1(m, made.loss)).toThrow(/differentiable with respect to parameter 0 only/);
    const p = Float64Array.from([0.4, 0.9]);
    const Jp = m.J(made.fit, p);
    expect(Array.from(Jp[0])).toEqual([xs[0], 1]);
    expect(Jp[1][0]).toBeCloseTo(Math.cos(0.4) * 0.7, 14);
    expect(Jp[1][1]).toBe(0);
    const [out, tangent] = m.Jt(made.fit, p, Float64Array.from([1, -2]));
    expect(Array.from(out)).toEqual(Array.from(made.fit(p)));
    expect(tangent[0]).toBeCloseTo(xs[0] - 2, 14);
    expect(tangent[1]).toBeCloseTo(Math.cos(0.4) * 0.7, 14);
  });

  it("refuses misplaced annotations, and what function values cannot do", () => {
    const d = (source: string): string => compile(`import { grad, hessian } from "adc";\n${source}`, { fileName: "m.ts" }).diagnostics.map((x) => formatDiagnostic(x)).join("\n");
    expect(d(`export function outer(a: number): number {
  /** @differentiable */
  function inner(x: number): number { return x * a; }
  return inner(a);
}`)).toContain("error ADC1016: a @differentiable function must be a named function declared at module level");
    expect(d(`/** @differentiable */
export let f = (x: number) => x * x;`)).toContain("error ADC1016: a @differentiable const must be a const bound to an arrow or function expression, at module level or in a function's body");
    expect(d(`/** @differentiable */
export function label(x: number): string { return String(x); }`)).toContain("error ADC1007: a @differentiable function must return a number, an array or an NDArray; 'label' does not");
    expect(d(`export function h(f: (x: number) => number, x: number): number { return hessian(f)(x); }`)).toContain("error ADC1008: hessian of a function value adc cannot see at build time is not supported");
  });
});
