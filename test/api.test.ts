/**
 * The user API end to end: what happens without compilation, stopGradient's meaning, the
 * chapter's exact identity f'(a) = f(a)/a, vjp pullbacks that live at once and run in any order,
 * re-entrant use of the tape, and tape memory on a long loop.
 */
import { describe, expect, it, vi } from "vitest";
import * as api from "../runtime/api.js";
import { compile, compileFiles, formatDiagnostic } from "../compiler/index.js";
import { load, type Loaded } from "./helpers/load.js";
import { strictErrors } from "./helpers/strict.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function build(source: string, fileName = "test-input.ts"): Promise<Loaded> {
  const r = compile(source, { fileName });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return load(r.code, fileName);
}

describe("the user API", () => {
  it("throws a clear error when a program was not compiled", () => {
    const f = (x: number) => x * x;
    expect(() => api.grad(f)).toThrow(/adc build.*esbuild plugin/);
    expect(() => api.valueAndGrad(f)).toThrow(/not being compiled|without being compiled/);
    expect(() => api.vjp(f, 1)).toThrow(/adc build/);
    expect(() => api.jvp(f, [1], [1])).toThrow(/adc build/);
    // stopGradient is the identity at run time: the user's own functions keep running.
    expect(api.stopGradient(3)).toBe(3);
  });

  it("stopGradient: the stopped term contributes no derivative", async () => {
    const m = await build(readFileSync("examples/scalar.ts", "utf8").replace(/^console\.log.*$/gm, "") + "\nexport { dfdx, dfdy, both };", "examples/scalar.ts");
    const f = m.f as (x: number, y: number) => number; // at run time stopGradient is the identity
    const x = 1.5, y = 2, h = 1e-6;
    const fdx = (f(x + h, y) - f(x - h, y)) / (2 * h);
    const fdy = (f(x, y + h) - f(x, y - h)) / (2 * h);
    // f = t(x, y) - stop(y) * x: d/dx is the full derivative; d/dy misses the -x from y * x.
    expect(m.dfdx(x, y)).toBeCloseTo(fdx, 7);
    expect(m.dfdy(x, y)).toBeCloseTo(fdy + x, 7);
    expect(m.both(x, y)).toEqual([m.dfdx(x, y), m.dfdy(x, y)]);
  });

  it("the chapter's f: grad(f)(a) equals f(a) / a exactly", async () => {
    const m = await build(`
      import { grad } from "adc";
      export function f(a: number): number {
        let b = a * 2;
        while (Math.abs(b) < 1000) b = b * 2;
        let c: number;
        if (b > 0) c = b;
        else c = 100 * b;
        return c;
      }
      export const df = grad(f);
    `);
    for (const a of [0.37, -0.37, 1.234, -2.5, 0.001, 999.5, -1e-3]) expect(m.df(a)).toBe(m.f(a) / a);
  });

  it("vjp pullbacks own their records: several live at once and run in any order, repeatedly", async () => {
    const m = await build(`
      import { vjp, grad } from "adc";
      export function f(x: number, y: number): number {
        let s = x;
        for (let i = 0; i < 5; i++) s = Math.sin(s * y) + x;
        return s;
      }
      export const df = grad(f, [0, 1]);
      export const pull = (x: number, y: number) => vjp(f, x, y);
      export { tape } from "adc/runtime";
    `);
    const [, p1] = m.pull(0.3, 1.1);
    const [, p2] = m.pull(0.7, 0.9);
    const [, p3] = m.pull(-0.2, 1.3);
    const g2 = p2(1);
    const g1 = p1(1);
    const mid = m.df(0.5, 0.5); // a fused gradient in between
    const g3 = p3(2);
    expect(g1).toEqual(m.df(0.3, 1.1));
    expect(g2).toEqual(m.df(0.7, 0.9));
    expect(g3).toEqual(m.df(-0.2, 1.3).map((v: number) => 2 * v));
    expect(p1(1)).toEqual(g1); // again
    expect(mid).toEqual(m.df(0.5, 0.5));
    // Nothing is left on the tape.
    expect([m.tape.fTop, m.tape.iTop, m.tape.bTop, m.tape.oTop]).toEqual([0, 0, 0, 0]);
  });

  it("a pullback called twice gives the same cotangents when the function writes arrays (its reverse sweep rolls them back)", async () => {
    const m = await build(`
      import { vjp, grad } from "adc";
      export function f(x: number, v: Float64Array): number {
        const a = new Float64Array(2);
        a[0] = x;
        let y = 0;
        for (let i = 0; i < 2; i++) y += a[0] * a[0] + Math.sin(a[1] + x) * v[i];
        a[1] = y;
        v[0] = a[1] * v[1];
        return a[1] * a[0] + v[0];
      }
      export const df = grad(f, [0, 1]);
      export const pull = (x: number, v: Float64Array) => vjp(f, x, v);
      export { tape } from "adc/runtime";
    `);
    const x = 0.7;
    const expected = m.df(x, new Float64Array([0.4, -1.2]));
    const v = new Float64Array([0.4, -1.2]);
    const [, pullback] = m.pull(x, v);
    const first = pullback(1);
    const second = pullback(1);
    const third = pullback(2);
    expect(first[0]).toBeCloseTo(expected[0], 14);
    expect(Array.from(first[1])).toEqual(Array.from(expected[1]));
    expect(second[0]).toBe(first[0]);
    expect(Array.from(second[1])).toEqual(Array.from(first[1]));
    expect(third[0]).toBeCloseTo(2 * first[0], 14);
    expect([m.tape.fTop, m.tape.iTop, m.tape.bTop, m.tape.oTop]).toEqual([0, 0, 0, 0]);
  });

  it("console.log inside differentiated code prints the primal values, formatted as the user likes", async () => {
    const m = await build(`
      import { grad } from "adc";
      export function f(x: number): number {
        const y = x * x;
        console.log("y = " + y.toFixed(2), \`x = \${x}\`);
        return Math.sin(y);
      }
      export const df = grad(f);
    `);
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a));
    try {
      expect(m.df(1.5)).toBeCloseTo(2 * 1.5 * Math.cos(2.25), 14);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([["y = 2.25", "x = 1.5"]]);
  });

  it("closures over the enclosing function's locals (and the local helpers they call) are differentiated, the locals held constant", async () => {
    const m = await build(`
      import { grad, valueAndGrad, vjp, jvp } from "adc";
      export function analyse(xs: Float64Array, scale: number, a: number, b: number): number[] {
        const offset = 0.5;
        const term = (a: number, x: number): number => Math.sin(a * x + offset) * scale;
        function model(a: number, b: number): number {
          let s = 0;
          for (const x of xs) s += term(a, x) * b;
          return s;
        }
        const both = (a: number): number => model(a, 2) + term(a, 1);
        const [value, g] = valueAndGrad(model, [0, 1])(a, b);
        return [value, ...g, grad(both)(a), vjp(both, a)[1](1)[0], jvp(both, [a], [1])[1]];
      }
      export function fit(xs: number[], ys: number[], steps: number): number[] {
        let w = [0, 0];
        const loss = (p: number[]): number => {
          let s = 0;
          for (let i = 0; i < xs.length; i++) s += (p[0] + p[1] * xs[i] - ys[i]) ** 2;
          return s / xs.length;
        };
        const g = grad(loss);
        for (let k = 0; k < steps; k++) {
          const d = g(w);
          w = [w[0] - 0.1 * d[0], w[1] - 0.1 * d[1]];
        }
        return w;
      }
    `);
    const xs = new Float64Array([0.1, 0.7, -0.4]);
    const scale = 1.5, a = 0.3, b = 2, h = 1e-6;
    const term = (a: number, x: number) => Math.sin(a * x + 0.5) * scale;
    const model = (a: number, b: number) => xs.reduce((s, x) => s + term(a, x) * b, 0);
    const both = (a: number) => model(a, 2) + term(a, 1);
    const [value, da, db, dboth, vboth, tboth] = m.analyse(xs, scale, a, b);
    expect(value).toBeCloseTo(model(a, b), 14);
    expect(da).toBeCloseTo((model(a + h, b) - model(a - h, b)) / (2 * h), 7);
    expect(db).toBeCloseTo((model(a, b + h) - model(a, b - h)) / (2 * h), 7);
    expect(dboth).toBeCloseTo((both(a + h) - both(a - h)) / (2 * h), 7);
    expect(vboth).toBeCloseTo(dboth, 14);
    expect(tboth).toBeCloseTo(dboth, 14);
    const w = m.fit([0, 1, 2, 3], [1, 3, 5, 7], 500);
    expect(w[0]).toBeCloseTo(1, 6);
    expect(w[1]).toBeCloseTo(2, 6);
  });

  it("a closure that assigns an enclosing local, or hands a local helper around, is refused", () => {
    const r = compile(`
      import { grad } from "adc";
      export function f(xs: number[]): number {
        let calls = 0;
        const sq = (v: number): number => v * v;
        const loss = (w: number): number => { calls += 1; return w * xs[0]; };
        const apply = (w: number): number => [w].map(sq)[0];
        return grad(loss)(1) + grad(apply)(2);
      }
    `, { fileName: "closures.ts" });
    const text = r.diagnostics.map(formatDiagnostic).join("\n");
    expect(text).toMatch(/closures.ts\(6,47\): error ADC1005: 'calls' is declared outside the differentiated function and cannot be written here/);
    expect(text).toMatch(/ADC1016: 'sq' is a function declared inside the enclosing function, used here other than by calling it/);
    expect(r.code).toBe("");
  });

  it("recursion and nesting leave the tape balanced", async () => {
    const m = await build(`
      import { grad } from "adc";
      function p(x: number, n: number): number {
        if (n === 0) return 1;
        let acc = 0;
        for (let i = 0; i < 2; i++) acc += Math.cos(x * i);
        return x * p(x, n - 1) + acc;
      }
      export function f(x: number): number { return p(x, 6); }
      export const df = grad(f);
      export { tape } from "adc/runtime";
    `);
    const h = 1e-6;
    expect(m.df(0.8)).toBeCloseTo((m.f(0.8 + h) - m.f(0.8 - h)) / (2 * h), 6);
    expect([m.tape.fTop, m.tape.iTop, m.tape.bTop, m.tape.oTop]).toEqual([0, 0, 0, 0]);
  });

  it("default parameter values: entry points called without them use them, as the function does", async () => {
    const m = await build(`
      import { grad, valueAndGrad, vjp, jvp } from "adc";
      export function softplus(x: number, beta = 2, flip = false): number {
        const z = flip ? -x : x;
        return Math.log1p(Math.exp(beta * z)) / beta;
      }
      export const d = grad(softplus);
      export const vg = valueAndGrad(softplus);
      export const pull = (x: number) => vjp(softplus, x);
      export const tangent = (x: number) => jvp(softplus, [x, 2, false], [1, 0, 0]);
      // Primals left out take the defaults (and their tangents, left out, are zero), as f(...primals).
      export const short = (x: number) => jvp(softplus, [x], [1]);
      export const shortBeta = (x: number, beta: number) => jvp(softplus, [x, beta], [0, 1]);
      export const shortGrad = (x: number) => jvp(grad(softplus), [x], [1]);
    `);
    const x = 0.3, h = 1e-6;
    const fd = (beta: number) => (m.softplus(x + h, beta) - m.softplus(x - h, beta)) / (2 * h);
    expect(m.d(x)).toBeCloseTo(fd(2), 8);
    expect(m.d(x)).toBe(m.d(x, 2, false));
    expect(m.d(x, 0.5)).toBeCloseTo(fd(0.5), 8);
    expect(m.d(x, 2, true)).toBeCloseTo((m.softplus(x + h, 2, true) - m.softplus(x - h, 2, true)) / (2 * h), 8);
    expect(m.vg(x)).toEqual([m.softplus(x), m.d(x)]);
    const [out, pullback] = m.pull(x);
    expect(out).toBe(m.softplus(x));
    expect(pullback(1)[0]).toBe(m.d(x));
    expect(m.tangent(x)[1]).toBeCloseTo(m.d(x), 14);
    expect(m.short(x)).toEqual(m.tangent(x));
    const [v, dBeta] = m.shortBeta(x, 0.7);
    expect(v).toBe(m.softplus(x, 0.7));
    expect(dBeta).toBeCloseTo((m.softplus(x, 0.7 + h) - m.softplus(x, 0.7 - h)) / (2 * h), 8);
    const [g, second] = m.shortGrad(x);
    expect(g).toBe(m.d(x));
    expect(second).toBeCloseTo((m.d(x + h) - m.d(x - h)) / (2 * h), 7);
  });

  it("readonly arrays and readonly tuples as parameters and fields: every entry point takes them, and the output type-checks under strict", async () => {
    const source = `
      import { grad, valueAndGrad, vjp, jvp, hessian, jacrev, jacfwd } from "adc";
      export function f(x: readonly number[]): number {
        let s = 0;
        for (let i = 0; i < x.length; i++) s += x[i] * x[i] * x[i];
        return s;
      }
      export function v(x: readonly [number, number]): number[] { return [x[0] * x[1], Math.sin(x[0])]; }
      interface Layer { readonly w: readonly number[]; b: number }
      export function net(layers: Layer[], x: readonly number[]): number {
        let s = 0;
        for (const L of layers) {
          let z = L.b;
          for (let i = 0; i < x.length; i++) z += L.w[i] * x[i];
          s += Math.tanh(z);
        }
        return s;
      }
      const x = [1.5, -0.5] as const;
      export const results = [
        grad(f)(x), valueAndGrad(f)(x)[1], vjp(f, x)[1](1)[0], jvp(f, [x], [[1, 0] as const])[1], hessian(f)(x),
        jacrev(v)([2, 3] as const), jacfwd(v)([2, 3] as const),
      ];
      export const layerGrad = grad(net)([{ w: [0.1, 0.2], b: 0 }], x);
      type P = { w: number; b: number };
      function rp(p: Readonly<P>, y: number): number { return p.w * y * y + p.b; }
      export const readonlyObject = grad(rp)({ w: 2, b: 1 }, 0.5);
      function r(y: readonly number[]): readonly [number, number] { return [y[0] * y[1], Math.sin(y[0])] as const; }
      const u = [1, -2] as const;
      export const readonlyResult = [vjp(r, x)[1](u)[0], jacrev(r)(x)];
    `;
    const r = compile(source, { fileName: "readonly.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "readonly-in.ts": source, "readonly-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "readonly.ts");
    const [g, vg, pb, t, h, jr, jf] = m.results;
    for (const d of [g, vg, pb]) expect(d).toEqual([6.75, 0.75]);
    expect(t).toBe(6.75);
    expect(h).toEqual([[9, 0], [0, -3]]);
    const J = [[3, 2], [Math.cos(2), 0]].map((row) => row.map((v) => expect.closeTo(v, 14)));
    expect(jr).toEqual(J);
    expect(jf).toEqual(J);
    const z = 0.1 * 1.5 + 0.2 * -0.5;
    const d = 1 - Math.tanh(z) ** 2;
    expect(m.layerGrad[0].w).toEqual([expect.closeTo(d * 1.5, 14), expect.closeTo(d * -0.5, 14)]);
    expect(m.readonlyObject).toEqual({ w: 0.25, b: 1 });
    const [ct, Jr] = m.readonlyResult;
    expect(ct).toEqual([expect.closeTo(-0.5 - 2 * Math.cos(1.5), 14), 1.5]);
    expect(Jr).toEqual([[-0.5, 1.5], [expect.closeTo(Math.cos(1.5), 14), 0]]);
  });

  it("a const exponent (literal type) and undefined passed for a defaulted parameter: first and second derivatives, and the output type-checks under strict", async () => {
    const source = `
      import { grad, jvp } from "adc";
      export function s(x: number): number { const k = 2; return x ** k; }
      const K = 3;
      export function s3(x: number): number { return x ** K; }
      export const d3 = grad(s3);
      function g(x: number, k = 3): number { return x ** k; }
      export function h(x: number): number { return g(x, undefined) * 2; }
      export const d = grad(s), t = (x: number) => jvp(s, [x], [1])[1], dh = grad(h), ddh = grad(grad(h));
    `;
    const r = compile(source, { fileName: "literal-types.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "literal-types-in.ts": source, "literal-types-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "literal-types.ts");
    expect([m.d(0.3), m.t(0.3), m.d3(0.3)]).toEqual([expect.closeTo(0.6, 14), expect.closeTo(0.6, 14), expect.closeTo(0.27, 14)]);
    expect([m.dh(0.7), m.ddh(0.7)]).toEqual([expect.closeTo(6 * 0.49, 13), expect.closeTo(12 * 0.7, 13)]);
  });

  it("a number | undefined local with ??: first and second derivatives, and the output type-checks under strict", async () => {
    const source = `
      import { grad } from "adc";
      export function f(x: number): number {
        const a: number | undefined = x > 1 ? undefined : x * x;
        return (a ?? Math.sin(x)) * x;
      }
      export const d = grad(f), dd = grad(grad(f));
    `;
    const r = compile(source, { fileName: "nullish.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "nullish-in.ts": source, "nullish-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "nullish.ts");
    expect([m.d(0.5), m.dd(0.5)]).toEqual([expect.closeTo(0.75, 14), expect.closeTo(3, 14)]);
    expect(m.d(2)).toBeCloseTo(Math.sin(2) + 2 * Math.cos(2), 14);
    expect(m.dd(2)).toBeCloseTo(2 * Math.cos(2) - 2 * Math.sin(2), 14);
  });

  it("optional parameters: entry points may be called without them; input and output type-check under strict", async () => {
    const source = `
      import { grad, valueAndGrad, vjp, jvp } from "adc";
      export function opt(x: number, s?: number): number {
        if (s === undefined) return x * x;
        return x * x * s + (s > 1 ? x : 0);
      }
      export const d = grad(opt);
      export const vg = valueAndGrad(opt);
      export const pull = (x: number) => vjp(opt, x);
      export const values = [d(1.5), d(1.5, 4), vg(2)[1]];
      export const tangent = (x: number) => jvp(opt, [x], [1]);
      // The derivative w.r.t. a defaulted parameter is a number, not number | undefined.
      export function scaled(x: number, k = 2): number { return k * x * x; }
      export const dk: number = grad(scaled, 1)(3);
      export const [dx2, dk2]: [number, number] = grad(scaled, [0, 1])(3);
      export const pullScaled = (x: number, k?: number) => (k === undefined ? vjp(scaled, x) : vjp(scaled, x, k));
    `;
    const r = compile(source, { fileName: "optional.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "optional-in.ts": source, "optional-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "optional.ts");
    expect(m.values).toEqual([3, 13, 4]);
    expect([m.dk, m.dx2, m.dk2]).toEqual([9, 12, 9]);
    expect(m.pull(1.5)[1](1)[0]).toBe(3);
    // One cotangent per argument given, as JAX's vjp: none for the parameter left out.
    expect(m.pull(1.5)[1](1)).toEqual([3]);
    expect(m.pullScaled(3)[1](1)).toEqual([12]);
    expect(m.pullScaled(3, 2)[1](1)).toEqual([12, 9]);
    expect(m.tangent(1.5)).toEqual([2.25, 3]);
    // Given a value, an optional number would have a derivative adc does not make: refused.
    const r2 = compile(`import { vjp, jvp } from "adc";
function opt(x: number, s?: number): number { return s === undefined ? x * x : x * s; }
export const p = vjp(opt, 0.7, 2);
export const t = jvp(opt, [0.7, 2], [0, 1]);
`, { fileName: "optional-given.ts" });
    expect(r2.diagnostics.map(formatDiagnostic)).toEqual([
      "optional-given.ts(3,18): error ADC1012: vjp differentiates every argument it is given, and 's' of 'opt' is optional (number | undefined), which adc cannot differentiate - give it a default value (s = 0) or a number type, or leave it out here",
      "optional-given.ts(4,18): error ADC1012: jvp differentiates every argument it is given, and 's' of 'opt' is optional (number | undefined), which adc cannot differentiate - give it a default value (s = 0) or a number type, or leave it out here",
    ]);
  });

  it("functions of a TypeScript namespace (nested too, inlined or not) and fields read with a literal key: gradients against finite differences", async () => {
    const m = await build(`
      import { grad, jvp } from "adc";
      namespace Util {
        export function act(x: number): number { return Math.tanh(x); }
        export namespace Inner { export function sq(x: number): number { return x * x * Util.act(0.5); } }
      }
      namespace Layers {
        export function dense(w: number[], h: number[]): number[] {
          const out: number[] = new Array(h.length).fill(0);
          for (let i = 0; i < h.length; i++) out[i] = Math.tanh(w[i] * h[i] + w[(i + 1) % h.length]);
          return out;
        }
      }
      export function f(x: number): number { return Util.act(x) * 2 + Util.Inner.sq(x); }
      export function g(w: number[], x: number[]): number {
        let s = 0;
        for (let l = 0; l < 3; l++) { const o = Layers.dense(w, x); s += o[0] * o[1] * (l + 1); }
        return s;
      }
      type P = { w: number; b: number };
      export function h(p: P, x: number): number { return p["w"] * x * x + p[\`b\`] * x; }
      export const df = grad(f), dg = grad(g), dh = grad(h, [0, 1]);
      export const tg = (w: number[], x: number[], v: number[]) => jvp(g, [w, x], [v, [0, 0]])[1];
    `);
    const fd = (fn: (t: number) => number, t: number) => (fn(t + 1e-6) - fn(t - 1e-6)) / 2e-6;
    const f = m.f as (x: number) => number, g = m.g as (w: number[], x: number[]) => number;
    expect(m.df(0.4)).toBeCloseTo(fd(f, 0.4), 8);
    const w = [0.3, -0.2], x = [0.5, 0.7];
    const gw = m.dg(w, x) as number[];
    gw.forEach((v, i) => expect(v).toBeCloseTo(fd((t) => g(w.map((a, j) => (j === i ? t : a)), x), w[i]), 8));
    expect(m.tg(w, x, [1, -1])).toBeCloseTo(gw[0] - gw[1], 12);
    expect(m.dh({ w: 2, b: 1 }, 3)).toEqual([{ w: 9, b: 3 }, 13]);
  });

  it("compile() of a module whose derivatives are generated into another module says to use compileFiles, rather than code that does not link", () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-compile-one-"));
    try {
      writeFileSync(join(dir, "lib.ts"), "export function f(x: number): number { let s = 0; for (let i = 0; i < 70; i++) s += Math.sin(x * i); return s; }\n");
      const main = 'import { grad } from "adc";\nimport { f } from "./lib.js";\nexport const d = grad(f)(0.3);\n';
      const r = compile(main, { fileName: join(dir, "main.ts") });
      expect(r.code).toBe("");
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([`${join(dir, "main.ts")}(1,1): error ADC1008: compile() returns one module, and this program's derivatives are also generated into lib.ts, which it does not return - compile the program with compileFiles([paths]), which returns every module it changes`]);
      writeFileSync(join(dir, "main.ts"), main);
      const all = compileFiles([join(dir, "main.ts")]);
      expect(all.diagnostics).toEqual([]);
      expect(all.outputs.get(join(dir, "lib.ts"))!.code).toContain("export function f_grad");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a Math function bound to a const in another module (export const sin = Math.sin) is followed to it, imported by name or through a namespace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-math-alias-"));
    try {
      writeFileSync(join(dir, "m.ts"), "export const sin = Math.sin;\nexport const ex = Math.exp;\n");
      writeFileSync(join(dir, "main.ts"), 'import { grad } from "adc";\nimport { sin } from "./m.js";\nimport * as M from "./m.js";\nexport const d = grad((x: number) => sin(x) * M.ex(x));\n');
      const r = compileFiles([join(dir, "main.ts")]);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), new Map([[join(dir, "m.ts"), "export const sin = Math.sin;\nexport const ex = Math.exp;\n"]]));
      expect(m.d(0.3)).toBeCloseTo((Math.cos(0.3) + Math.sin(0.3)) * Math.exp(0.3), 14);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("enum members, literal arguments and static readonly constants inlined into tests: values right, output type-checks under strict", async () => {
    const source = `
      import { grad } from "adc";
      enum Act { Tanh, Sig }
      function act(k: Act, x: number): number {
        if (k === Act.Tanh) return Math.tanh(x);
        return 1 / (1 + Math.exp(-x));
      }
      function act2(k: number, x: number): number {
        if (k === 0) return Math.tanh(x);
        return x * x;
      }
      class Poly { static readonly ORDER = 3; }
      export function f(x: number): number { return act(Act.Sig, x) + act2(1, x) + x ** Poly.ORDER; }
      export const df = grad(f);
    `;
    const r = compile(source, { fileName: "literals.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "literals-in.ts": source, "literals-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "literals.ts");
    const s = 1 / (1 + Math.exp(-0.4));
    expect(m.df(0.4)).toBeCloseTo(s * (1 - s) + 0.8 + 3 * 0.16, 14);
  });

  it("an optional number field of a differentiated object: its gradient where the object has it, none where not; the output type-checks under strict", async () => {
    const source = `
      import { grad, jvp } from "adc";
      interface Cfg { alpha: number; beta?: number }
      function f(x: number, cfg: Cfg): number { return x * cfg.alpha + x * x * (cfg.beta ?? 1); }
      export const g = (c: Cfg) => grad(f, 1)(0.5, c);
      export const t = (c: Cfg, d: Cfg) => jvp(f, [0.5, c], [0, d])[1];
    `;
    const r = compile(source, { fileName: "optional-field.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "optional-field-in.ts": source, "optional-field-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "optional-field.ts");
    expect(m.g({ alpha: 2, beta: 4 })).toEqual({ alpha: 0.5, beta: 0.25 });
    expect(m.g({ alpha: 2 })).toEqual({ alpha: 0.5 });
    expect(m.t({ alpha: 2, beta: 4 }, { alpha: 1, beta: 1 })).toBe(0.75);
    expect(m.t({ alpha: 2 }, { alpha: 1 })).toBe(0.5);
  });

  it("optional chaining and optional fields of objects that are not differentiated are read as written", async () => {
    const m = await build(`
      import { grad } from "adc";
      type Q = { w?: number };
      function g(q: Q | undefined, x: number): number {
        const w = q?.w ?? 1;
        return w * x * x;
      }
      type P = { w: number; v?: number[] };
      function f(p: P, x: number): number { return p.w * x + p.v![0] * x * x; }
      export const values = [grad(g, 1)(undefined, 0.5), grad(g, 1)({ w: 3 }, 0.5), grad(g, 1)({}, 2), grad(f, 1)({ w: 2, v: [3] }, 0.5)];
    `);
    expect(m.values).toEqual([1, 3, 4, 5]);
  });

  it("generic helpers: a type parameter constrained to number is a number, in parameters and results", async () => {
    const m = await build(`
      import { grad } from "adc";
      function id<T extends number>(v: T): T { return v; }
      function twice<T extends number>(v: T): number { return v * 2; }
      function head<A extends Float64Array>(a: A): number { return a[0] * a[1]; }
      export function f(x: number): number { return id(x) * x + twice(x) * Math.sin(x); }
      export function g(a: Float64Array): number { return head(a) * a[2]; }
      export const df = grad(f);
      export const dg = grad(g);
    `);
    const h = 1e-6;
    expect(m.df(0.7)).toBeCloseTo((m.f(0.7 + h) - m.f(0.7 - h)) / (2 * h), 8);
    expect(Array.from(m.dg(Float64Array.from([2, 3, 5])))).toEqual([15, 10, 6]);
  });

  it("new Array(n).fill(v), any[] to TypeScript, is a number array: written in place and mapped", async () => {
    const m = await build(`
      import { grad } from "adc";
      export function f(x: number[]): number {
        const b = new Array(x.length).fill(0.5);
        for (let i = 0; i < x.length; i++) b[i] += x[i] * x[i];
        return b.map((q) => q * q).reduce((s, q) => s + q, 0);
      }
      export function g(w: number[]): number {
        const buf = new Array(w.length).fill(0);
        for (let i = 0; i < w.length; i++) buf[i] += w[i] * w[i];
        const first = buf[0];
        return first * buf[1] + buf[1];
      }
      export const df = grad(f);
      export const dg = grad(g);
    `);
    // d/dx_i (0.5 + x_i^2)^2 = 4 x_i (0.5 + x_i^2)
    expect(m.df([1, 2])).toEqual([6, 36]);
    // g = w0^2 w1^2 + w1^2
    expect(m.dg([1, 2, 3])).toEqual([8, 8, 0]);
  });

  it("a loop of 10 million iterations tapes 8 bytes per iteration and 1 per branch", async () => {
    const m = await build(`
      import { grad } from "adc";
      export function f(x: number, n: number): number {
        let y = x;
        for (let i = 0; i < n; i++) {
          y = Math.sin(y) + x;
          if (y > 2) y = y * 0.5;
        }
        return y;
      }
      export const df = grad(f);
      export { tape } from "adc/runtime";
    `);
    const n = 10_000_000;
    const g = m.df(0.5, n);
    expect(Number.isFinite(g)).toBe(true);
    // Lanes grow by doubling, so capacity is below twice the peak use.
    expect(m.tape.f.length * 8).toBeLessThan(2 * 8 * n + 8192);
    expect(m.tape.f.length * 8).toBeGreaterThanOrEqual(8 * n);
    expect(m.tape.b.length).toBeLessThan(2 * n + 512);
    expect(m.tape.i.length).toBeLessThanOrEqual(256);
    // Small n: the same program against finite differences.
    const h = 1e-6;
    expect(m.df(0.5, 50)).toBeCloseTo((m.f(0.5 + h, 50) - m.f(0.5 - h, 50)) / (2 * h), 6);
  });
});

describe("compileFiles with texts given for modules", () => {
  it("an imported module's given text is the one differentiated, on disk or not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-overrides-"));
    try {
      const main = join(dir, "main.ts");
      const onDisk = join(dir, "helpers.ts");
      writeFileSync(onDisk, "export function sq(x: number): number { return x * x; }\n");
      const mainText = (from: string) => `import { grad } from "adc";\nimport { sq } from "${from}";\nexport const g = grad((x: number) => sq(x) + x);\n`;
      const given = "export function sq(x: number): number { return x * x * x; }\n";
      // The module on disk says x^2; the build is given x^3 for it.
      const r = compileFiles([main], new Map([[main, mainText("./helpers")], [onDisk, given]]));
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      const m = await load(r.outputs.get(main)!.code, main, new Map([[onDisk, r.outputs.get(onDisk)?.code ?? given]]));
      expect(m.g(3)).toBe(28);
      // A module that exists only as given text (in a folder that does not exist either).
      const vmain = join(dir, "virtual", "main.ts");
      const vhelper = join(dir, "virtual", "h.ts");
      const r2 = compileFiles([vmain], new Map([[vmain, mainText("./h")], [vhelper, given]]));
      expect(r2.diagnostics.map(formatDiagnostic)).toEqual([]);
      const m2 = await load(r2.outputs.get(vmain)!.code, vmain, new Map([[vhelper, r2.outputs.get(vhelper)?.code ?? given]]));
      expect(m2.g(3)).toBe(28);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a function imported from a .tsx module is differentiated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-tsx-"));
    try {
      const main = join(dir, "main.ts");
      const helper = join(dir, "helper.tsx");
      writeFileSync(helper, "export function t(x: number): number { return Math.exp(x); }\n");
      writeFileSync(main, 'import { grad } from "adc";\nimport { t } from "./helper.js";\nexport const g = grad((x: number) => t(x) * x);\n');
      const r = compileFiles([main]);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      const m = await load(r.outputs.get(main)!.code, main, new Map([[helper, r.outputs.get(helper)?.code ?? readFileSync(helper, "utf8")]]));
      expect(m.g(0.5)).toBeCloseTo(Math.exp(0.5) * 1.5, 14);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a module missing in one build (TS2307) and written before the next is found by the next (a watcher's rebuild)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-missing-"));
    try {
      const main = join(dir, "main.ts");
      const helper = join(dir, "helper.ts");
      writeFileSync(main, 'import { grad } from "adc";\nimport { sq } from "./helper";\nexport const g = grad((x: number) => sq(x) * 2);\n');
      writeFileSync(helper, "export function sq(x: number): number { return x * x; }\n");
      expect(compileFiles([main]).diagnostics).toEqual([]);
      rmSync(helper);
      expect(compileFiles([main]).diagnostics.map((d) => d.code)).toEqual(["TS2307"]);
      writeFileSync(helper, "export function sq(x: number): number { return x * x * x; }\n");
      const r = compileFiles([main]);
      expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
      const m = await load(r.outputs.get(main)!.code, main, new Map([[helper, r.outputs.get(helper)?.code ?? readFileSync(helper, "utf8")]]));
      expect(m.g(3)).toBe(54);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
