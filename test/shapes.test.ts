/**
 * The shapes around function bodies, called the way users call the API: where a closure is
 * declared, how a helper is named at the call, argnums as a list of one, the imperative API's
 * freeing and detaching rules. Each case gave a wrong number, a crash or an internal error before
 * its fix; each checks the answer against an analytic value or finite differences.
 */
import { afterAll, describe, expect, it } from "vitest";
import { compile, compileFiles, formatDiagnostic } from "../compiler/index.js";
import { load, type Loaded } from "./helpers/load.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fdGradient, flatten } from "./helpers/pytree.js";

async function build(source: string, fileName = "shapes-input.ts"): Promise<Loaded> {
  const r = compile(source, { fileName });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return load(r.code, fileName);
}

// Folders for the multi-module cases, removed when the file's tests are done.
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

function diagnostics(source: string): string {
  const r = compile(source, { fileName: "shapes-input.ts" });
  expect(r.code).toBe("");
  return r.diagnostics.map(formatDiagnostic).join("\n");
}

describe("closures declared in module-level blocks", () => {
  it("read the block's locals, not the module's names they shadow", async () => {
    const m = await build(`
      import { grad, vjp, jvp } from "adc";
      const k = 100;
      export const out: number[] = [];
      { const k = 2; const f = (x: number) => k * x * x; out.push(grad(f)(3)); }
      if (k > 1) { const k = 3; const f = (x: number) => k * x * x; out.push(grad(f)(3), vjp(f, 3)[1](1)[0], jvp(f, [3], [1])[1]); }
      for (const scale of [1, 2]) { const loss = (w: number) => scale * w * w; out.push(grad(loss)(3)); }
      export namespace N { const k = 4; function sq(x: number) { return k * x * x; } export function f(x: number) { return sq(x) + x; } out.push(grad(f)(3)); }
      label: { const c = 5; const h = (x: number) => Math.sin(c * x); out.push(grad(h)(0.2)); break label; }
    `);
    expect(m.out.slice(0, 7)).toEqual([12, 18, 18, 18, 6, 12, 25]);
    expect(m.out[7]).toBeCloseTo(5 * Math.cos(1), 14);
  });

  it("read locals of every scope between them and module level (a function in a block, an arrow in a function)", async () => {
    const m = await build(`
      import { grad, vjp } from "adc";
      const k = 100;
      export const out: number[] = [];
      { const k = 4;
        function run(x: number) { const h = (y: number) => k * y * y; return grad(h)(x); }
        const pull = (x: number) => vjp((y: number) => k * y * y, x);
        out.push(run(3), pull(3)[0], pull(3)[1](1)[0]); }
      export function outer(x: number): number {
        const c = 5;
        const make = () => { const h = (y: number) => c * y * y; return grad(h)(x); };
        return make();
      }
    `);
    expect(m.out).toEqual([24, 36, 24]);
    expect(m.outer(3)).toBe(30);
  });

  it("read names a destructuring declared (for (const [a, b] of rows)), in closures and record blocks", async () => {
    const m = await build(`
      import { grad, np, NDArray, record } from "adc";
      export function fit(rows: number[][]): number {
        let total = 0;
        for (const [a, b] of rows) {
          const loss = (t: number) => (a * t - b) ** 2;
          total += grad(loss)(1);
        }
        return total;
      }
      export const w = np.array([1, 2]);
      w.attachGrad();
      export const grads: number[][] = [];
      const batches: [NDArray, NDArray][] = [[np.array([1, 1]), np.array([3.5])], [np.array([2, 0]), np.array([1])]];
      for (const [X, y] of batches) {
        let l!: NDArray;
        record(() => { const r = np.sub(np.dot(X, w), y); l = np.sum(np.mul(r, r)); });
        l.backward();
        grads.push(w.grad.toArray());
      }
    `);
    expect(m.fit([[1, 2], [3, 1]])).toBe(2 * (1 - 2) + 6 * (3 - 1));
    expect(m.grads).toEqual([[-1, -1], [4, 0]]);
  });

  it("call local helpers that carry no derivative through the enclosing scope", async () => {
    const m = await build(`
      import { grad } from "adc";
      export function fit(xs: number[]): number {
        const helper = (a: number) => a * 2;
        const loss = (w: number) => helper(xs[0]) * w * w;
        return grad(loss)(3);
      }
    `);
    expect(m.fit([5])).toBe(60);
  });
});

describe("a block's local named like a module constant the function also reads", () => {
  it("the constant is read before and after the block, the local inside it (blocks are flattened)", async () => {
    const m = await build(`
      import { grad, jvp, vjp } from "adc";
      const K = 5;
      function after(x: number): number {
        let y = x;
        { let K = Math.sin(x); K += 1; y *= K; }
        return y * K;
      }
      function before(x: number): number {
        const s = x * K;
        if (x > 0) { const K = x * x; return s + K; }
        return s;
      }
      export const d1 = grad(after), d2 = grad(before);
      export const j1 = (x: number) => jvp(after, [x], [1])[1];
      export const v1 = (x: number) => vjp(after, x)[1](1)[0];
    `);
    const x = 0.7;
    const want = 5 * (Math.sin(x) + 1) + 5 * x * Math.cos(x);
    expect(m.d1(x)).toBeCloseTo(want, 12);
    expect(m.j1(x)).toBeCloseTo(want, 12);
    expect(m.v1(x)).toBeCloseTo(want, 12);
    expect(m.d2(x)).toBeCloseTo(5 + 2 * x, 12);
  });
});

describe("calls by the name the caller uses", () => {
  it("an imported function renamed at the import is called by its local name", async () => {
    const dir = scratchDir("adc-shapes-");
    writeFileSync(join(dir, "m.ts"), "export function sq(x: number): number { return x * x; }\n");
    // The importing module has its own `sq`: calling it would be silently wrong.
    writeFileSync(join(dir, "main.ts"), `
      import { grad } from "adc";
      import { sq as square } from "./m";
      function sq(x: number): number { return 1000 * x; }
      export function f(x: number, c: number): number { const k = square(c); return square(x) * k + 0 * sq(0); }
      export const df = grad(f);
    `);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const main = r.outputs.get(join(dir, "main.ts"))!;
    // (m.ts changes only if its sq gets derivatives of its own; inlined into f, it does not.)
    const mod = r.outputs.get(join(dir, "m.ts"))?.code ?? readFileSync(join(dir, "m.ts"), "utf8");
    const m = await load(main.code, join(dir, "main.ts"), new Map([[join(dir, "m.ts"), mod]]));
    expect(m.df(3, 2)).toBe(24);
  });
});

describe("namespace imports", () => {
  it("ns.f is called and differentiated as the function it names, also as grad(ns.f)", async () => {
    const dir = scratchDir("adc-shapes-");
    writeFileSync(join(dir, "ops.ts"), `
      export function recur(x: number, n: number): number {
        let y = x;
        for (let i = 0; i < n; i++) y = Math.sin(y) * 1.5 + x;
        return y;
      }
      export const sq = (v: number): number => v * v;
    `);
    // The importing module has its own recur: calling it would be silently wrong.
    writeFileSync(join(dir, "main.ts"), `
      import { grad, jvp } from "adc";
      import * as ops from "./ops";
      function recur(x: number): number { return 1000 * x; }
      export function f(x: number): number { return ops.recur(x, 4) * ops.sq(x) + 0 * recur(x); }
      export const df = grad(f);
      export const dr = grad(ops.recur);
      export const tsq = (x: number) => jvp(ops.sq, [x], [1]);
    `);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const ops = r.outputs.get(join(dir, "ops.ts"))!.code;
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), new Map([[join(dir, "ops.ts"), ops]]));
    const h = 1e-6;
    expect(m.df(0.3)).toBeCloseTo((m.f(0.3 + h) - m.f(0.3 - h)) / (2 * h), 7);
    const recur = (x: number): number => { let y = x; for (let i = 0; i < 4; i++) y = Math.sin(y) * 1.5 + x; return y; };
    expect(m.dr(0.3, 4)).toBeCloseTo((recur(0.3 + h) - recur(0.3 - h)) / (2 * h), 7);
    expect(m.tsq(3)).toEqual([9, 6]);
  });

  it("a function reached through a barrel module (export *, export { f as g } from, export { default as h } from, export * as ns from)", async () => {
    const dir = scratchDir("adc-shapes-");
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "core.ts"), `
      export function sq(x: number): number { let y = 0; for (let i = 0; i < 2; i++) y += x * x / 2; return y; }
      export function cube(x: number): number { return x * x * x; }
      export default function softplus(x: number): number { return Math.log1p(Math.exp(x)); }
    `);
    writeFileSync(join(dir, "lib", "index.ts"), `export * from "./core.js";\nexport { cube as cubed } from "./core.js";\nexport { default as sp } from "./core.js";\nexport * as core from "./core.js";\n`);
    writeFileSync(join(dir, "main.ts"), `
      import { grad } from "adc";
      import { sq, cubed, sp, core } from "./lib/index.js";
      export const dsq = grad(sq);
      export const dcube = grad(cubed);
      export const dsp = grad(sp);
      export const dns = grad((x: number) => core.cube(x) * 2);
      export const dns2 = grad(core.sq);
    `);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const main = r.outputs.get(join(dir, "main.ts"))!.code;
    expect(main).toContain('from "./lib/core.js"');
    const core = r.outputs.get(join(dir, "lib", "core.ts"))!.code;
    const m = await load(main, join(dir, "main.ts"), new Map([[join(dir, "lib", "core.ts"), core]]));
    expect([m.dsq(0.5), m.dcube(2), m.dsp(0), m.dns(2), m.dns2(0.5)]).toEqual([1, 12, 0.5, 24, 1]);
  });

  it("a default-exported arrow, and a default export naming a function, differentiated where imported", async () => {
    const dir = scratchDir("adc-shapes-");
    writeFileSync(join(dir, "model.ts"), "export default (w: number, x: number): number => Math.tanh(w * x) * w;\n");
    writeFileSync(join(dir, "loss.ts"), "function loss(w: number): number { return w * w * w; }\nexport default loss;\n");
    writeFileSync(join(dir, "main.ts"), `
      import { grad } from "adc";
      import model from "./model.js";
      import cube from "./loss.js";
      export function f(w: number): number { return model(w, 2) + cube(w); }
      export const dModel = grad(model);
      export const df = grad(f);
    `);
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const others = new Map(["model.ts", "loss.ts"].map((n) => [join(dir, n), r.outputs.get(join(dir, n))?.code ?? readFileSync(join(dir, n), "utf8")] as const));
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"), others);
    const model = (w: number): number => Math.tanh(w * 2) * w;
    const h = 1e-6;
    expect(m.dModel(0.5, 2)).toBeCloseTo((model(0.5 + h) - model(0.5 - h)) / (2 * h), 8);
    expect(m.df(0.5)).toBeCloseTo((m.f(0.5 + h) - m.f(0.5 - h)) / (2 * h), 8);
  });

  it("grad of a static method says how to pass it", () => {
    expect(diagnostics(`
      import { grad } from "adc";
      class T { static sq(x: number): number { return x * x; } }
      export const d = grad(T.sq);
    `)).toContain("error ADC1008: grad: 'T.sq' is a static method; differentiate an arrow that calls it, e.g. (x) => T.sq(x)");
  });
});

describe("argnums", () => {
  it("a list of one gives a one-element tuple, as JAX does; a number gives the bare gradient", async () => {
    const m = await build(`
      import { grad, valueAndGrad } from "adc";
      function f(x: number, y: number): number { return x * y; }
      export const g1 = grad(f, [1]);
      export const g0 = grad(f, [0]);
      export const gb = grad(f);
      export const gn = grad(f, 1);
      export const vg = valueAndGrad(f, [0]);
    `);
    expect(m.g1(2, 3)).toEqual([2]);
    expect(m.g0(2, 3)).toEqual([3]);
    expect(m.gb(2, 3)).toBe(3);
    expect(m.gn(2, 3)).toBe(2);
    expect(m.vg(2, 3)).toEqual([6, [3]]);
  });

  it("grad of a function without parameters is a located diagnostic", () => {
    const text = diagnostics(`
      import { grad } from "adc";
      function h(): number { return 3; }
      export const g = grad(h);
    `);
    expect(text).toMatch(/shapes-input.ts\(4,29\): error ADC1010: grad needs a function with at least one parameter/);
  });
});

describe("diagnostics of a whole build", () => {
  it("one refusal does not hide the others, and a syntax error is reported as tsc reports it", () => {
    const text = diagnostics(`
      import { grad } from "adc";
      function f(x: number): number { try { return x * x; } catch { return 0; } }
      function g(x: number): number { return Math.random() * x; }
      function h(x: number): number { return String(x).length * x; }
      function k(x: number): number { return f(x) * x; }
      export const df = grad(f);
      export const dg = grad(g);
      export const dh = grad(h);
      export const dk = grad(k);
    `);
    expect(text).toMatch(/\(3,39\): error ADC1015: try\/catch/);
    expect(text).toMatch(/\(4,46\): error ADC1003: Math.random/);
    expect(text).toMatch(/\(5,46\): error ADC1004: .*'String'/);
    expect(text).not.toMatch(/internal error/);
    expect(diagnostics(`import { grad } from "adc";\nfunction f(x: number): number { return x * ; }\nexport const df = grad(f);\n`)).toMatch(/shapes-input.ts\(2,44\): error TS1109: Expression expected/);
  });
});

describe("the API through a re-export", () => {
  it("a module that re-exports grad from adc gives a grad that is compiled", async () => {
    const dir = scratchDir("adc-reexport-");
    writeFileSync(join(dir, "api.ts"), 'export { grad, vjp } from "adc";\n');
    writeFileSync(join(dir, "main.ts"), 'import { grad } from "./api";\nexport function f(x: number): number { return x * x * x; }\nexport const df = grad(f);\n');
    const r = compileFiles([join(dir, "main.ts")]);
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.outputs.get(join(dir, "main.ts"))!.code, join(dir, "main.ts"));
    expect(m.df(2)).toBe(12);
  });
});

describe("Math.random", () => {
  it("is refused anywhere in a differentiated function, not only inside active expressions", () => {
    const text = diagnostics(`
      import { grad } from "adc";
      function h(x: number): number { const eps = Math.random(); return x * eps; }
      export const g = grad(h);
    `);
    expect(text).toMatch(/shapes-input.ts\(3,51\): error ADC1003: Math.random\(\) in a differentiated computation/);
  });
});

describe("an input changed with assign after its values were recorded", () => {
  it("backward, a tape's gradient and a vjp pullback refuse to run (their derivatives belong to the old values); after recording again they are right", async () => {
    const m = await build(`
      import { np, NDArray, record, GradientTape, vjp } from "adc";
      const f = (v: NDArray) => np.mul(v, v);
      export function viaBackward(change: boolean): number[] {
        const x = np.array([1, 2, 3]);
        x.attachGrad();
        let y!: NDArray;
        record(() => { y = np.mul(x, x); });
        if (change) x.assign(np.array([10, 20, 30]));
        y.backward();
        return Array.from(x.grad.data);
      }
      export function viaTape(change: boolean): number[] {
        const z = np.array([1, 2]);
        const t = new GradientTape({ persistent: true });
        let y!: NDArray;
        t.record(() => { y = np.mul(z, z).sum(); });
        if (change) z.assign(np.array([5, 5]));
        return Array.from(t.gradient(y, z).data);
      }
      export function viaVjp(change: boolean): number[] {
        const x = np.array([1, 2, 3]);
        const [, pull] = vjp(f, x);
        if (change) x.assign(np.array([10, 20, 30]));
        return Array.from(pull(np.array([1, 1, 1]))[0].data);
      }
    `);
    expect(m.viaBackward(false)).toEqual([2, 4, 6]);
    expect(m.viaTape(false)).toEqual([2, 4]);
    expect(m.viaVjp(false)).toEqual([2, 4, 6]);
    for (const run of [m.viaBackward, m.viaTape, m.viaVjp]) expect(() => run(true)).toThrow(/changed with assign\(\) after the values were recorded/);
  });
});

describe("the imperative API", () => {
  it("a backward frees what it went through inside a block as across blocks (MXNet); independent outputs stay usable", async () => {
    const m = await build(`
      import { np, NDArray, record } from "adc";
      export const x = np.arange(4);
      x.attachGrad();
      export let y!: NDArray, z!: NDArray, w!: NDArray;
      record(() => { y = np.mul(x, 2); z = np.mul(y, x); w = np.mul(x, 5); });
      export let y2!: NDArray, z2!: NDArray;
      record(() => { y2 = np.mul(x, 2); });
      record(() => { z2 = np.mul(y2, x); });
    `);
    m.z.backward();
    expect(m.x.grad.toArray()).toEqual([0, 4, 8, 12]);
    expect(() => m.y.backward()).toThrow(/already freed.*retainGraph/);
    m.w.backward();
    expect(m.x.grad.toArray()).toEqual([5, 5, 5, 5]);
    m.z2.backward();
    expect(() => m.y2.backward()).toThrow(/already freed.*retainGraph/);
  });

  it("attachGrad on a computed array detaches it: its own backward stops at it (002), and the slide's head-gradient cell (004) still holds", async () => {
    const m = await build(`
      import { np, NDArray, record } from "adc";
      export const x = np.arange(4);
      x.attachGrad();
      export let y!: NDArray, z!: NDArray;
      record(() => { y = np.mul(x, 2); });
      y.attachGrad();
      record(() => { z = np.mul(y, x); });
    `);
    m.z.backward();
    expect(m.y.grad.toArray()).toEqual([0, 1, 2, 3]);
    expect(m.x.grad.toArray()).toEqual([0, 2, 4, 6]);
    m.x.grad.data.fill(7);
    m.y.backward(m.y.grad);
    // y is a leaf now: its backward writes y.grad (the head) and leaves x.grad alone.
    expect(m.y.grad.toArray()).toEqual([0, 1, 2, 3]);
    expect(m.x.grad.toArray()).toEqual([7, 7, 7, 7]);
  });
});

describe("record blocks reading attached arrays through objects and lists", () => {
  it("give the arrays their gradients, at module level and inside a function, with record and GradientTape", async () => {
    const m = await build(`
      import { np, NDArray, record, GradientTape } from "adc";
      export const model = { w: np.array([1, 2]), b: np.array([0.5]) };
      model.w.attachGrad();
      model.b.attachGrad();
      export const params = [np.array([3, -1])];
      params[0].attachGrad();
      export let y!: NDArray;
      record(() => { y = np.sum(np.add(np.mul(model.w, model.w), model.b)); });
      y.backward();
      record(() => { y = np.sum(np.mul(params[0], np.sin(params[0]))); });
      y.backward();
      export function train(): number[][] {
        const local = { w: np.array([0.5, -2]) };
        local.w.attachGrad();
        const layers = [local];
        let z!: NDArray;
        record(() => { z = np.sum(np.mul(layers[0].w, local.w)); });
        z.backward();
        const t = new GradientTape();
        t.record(() => { z = np.sum(np.mul(local.w, np.exp(local.w))); });
        return [local.w.grad.toArray(), t.gradient(z, [local.w])[0].toArray()];
      }
    `);
    expect(m.model.w.grad.toArray()).toEqual([2, 4]);
    expect(m.model.b.grad.toArray()).toEqual([2]);
    const p = [3, -1];
    m.params[0].grad.toArray().forEach((g: number, k: number) => expect(g).toBeCloseTo(Math.sin(p[k]) + p[k] * Math.cos(p[k]), 14));
    const [plain, taped] = m.train();
    expect(plain).toEqual([1, -4]);
    [0.5, -2].forEach((w, k) => expect(taped[k]).toBeCloseTo(Math.exp(w) * (1 + w), 14));
  });
});

describe("pytrees: parameters that are objects and arrays of arrays, nested", () => {
  const close = (a: readonly number[], b: readonly number[], tol = 1e-6): void => {
    expect(a.length).toBe(b.length);
    a.forEach((x, k) => expect(Math.abs(x - b[k])).toBeLessThan(tol * Math.max(1, Math.abs(b[k]))));
  };

  it("nested objects of numbers and arrays get gradients of the same structure in every mode", async () => {
    const m = await build(`
      import { grad, valueAndGrad, vjp, jvp } from "adc";
      export function f(p: { i: { j: number; k: number } }): number { return p.i.j * p.i.k; }
      export function g(p: { w: number[]; s: number; f: Float64Array; t: { u: number; name: string } }): number {
        let r = 0;
        for (let i = 0; i < p.w.length; i++) r += p.w[i] * p.f[i] * p.t.u + Math.sin(p.s * p.w[i]);
        return r;
      }
      export const df = grad(f);
      export const dg = grad(g);
      export const vg = valueAndGrad(g);
      export const pull = (p: Parameters<typeof g>[0]) => vjp(g, p);
      export const push = (p: Parameters<typeof g>[0], t: Parameters<typeof g>[0]) => jvp(g, [p], [t]);
    `);
    expect(m.df({ i: { j: 2, k: 3 } })).toEqual({ i: { j: 3, k: 2 } });
    const fresh = () => [{ w: [0.3, -1.2], s: 0.7, f: new Float64Array([2, 0.5]), t: { u: 1.5, name: "layer" } }];
    const gr = m.dg(...fresh());
    expect(Array.isArray(gr.w)).toBe(true);
    expect(gr.f).toBeInstanceOf(Float64Array);
    expect(gr.t.name).toBe("layer");
    close(flattenNumbers(gr), fdGradient(m.g, fresh, 0));
    expect(flattenNumbers(m.vg(...fresh())[1])).toEqual(flattenNumbers(gr));
    const [, pb] = m.pull(...fresh());
    expect(flattenNumbers(pb(2)[0])).toEqual(flattenNumbers(gr).map((x) => 2 * x));
    // Forward mode along a direction t gives <grad, t>.
    const t = { w: [1, -2], s: 0.5, f: new Float64Array([0.25, 1]), t: { u: -1, name: "layer" } };
    const [, dot] = m.push(fresh()[0], t);
    const expected = flattenNumbers(gr).reduce((s, x, k) => s + x * flattenNumbers(t)[k], 0);
    expect(dot).toBeCloseTo(expected, 12);
  });

  it("an object of layers of NDArrays, and a list of NDArrays, get non-zero gradients that match finite differences", async () => {
    const m = await build(`
      import { grad, vjp, np, NDArray } from "adc";
      type Layer = { w: NDArray; b: NDArray };
      export function layered(p: { l1: Layer; l2: Layer }, x: NDArray): number {
        const h = np.tanh(np.add(np.dot(x, p.l1.w), p.l1.b));
        return np.sum(np.add(np.dot(h, p.l2.w), p.l2.b)).item();
      }
      export function listed(params: NDArray[], x: NDArray): number {
        const [w1, b1, w2] = params;
        let h = np.tanh(np.add(np.dot(x, w1), b1));
        for (let k = 3; k < params.length; k++) h = np.mul(h, params[k]);
        return np.sum(np.dot(h, w2)).item();
      }
      export const dl = grad(layered);
      export const dlist = grad(listed);
      export const pull = (p: NDArray[], x: NDArray) => vjp(listed, p, x);
      export { np };
    `);
    const np = m.np;
    const x = () => np.array([0.5, -0.2]);
    const layers = () => [{ l1: { w: np.array([[0.1, -0.3, 0.5], [0.7, 0.2, -0.4]]), b: np.array([0.1, 0, -0.1]) }, l2: { w: np.array([[0.3], [-0.6], [0.9]]), b: np.array([0.2]) } }, x()];
    const g = m.dl(...layers());
    expect(flattenNumbers(g).some((v) => v !== 0)).toBe(true);
    close(flattenNumbers(g), fdGradient(m.layered, layers, 0));
    const list = () => [[np.array([[0.1, -0.3, 0.5], [0.7, 0.2, -0.4]]), np.array([0.1, 0, -0.1]), np.array([[0.3], [-0.6], [0.9]]), np.array([1.5, 0.5, -1])], x()];
    const gl = m.dlist(...list());
    expect(gl).toHaveLength(4);
    close(flattenNumbers(gl), fdGradient(m.listed, list, 0));
    const [, pb] = m.pull(...list());
    close(flattenNumbers(pb(1)[0]), flattenNumbers(gl), 1e-12);
  });

  it("arrays of arrays and arrays of objects, read in loops and passed to helpers, in every mode", async () => {
    const m = await build(`
      import { grad, vjp, jvp } from "adc";
      type Layer = { w: number[]; b: number };
      function apply(l: Layer, h: number): number { return Math.tanh(l.w[0] * h + l.w[1] + l.b); }
      export function net(ls: Layer[], x: number): number {
        let h = x;
        for (let i = 0; i < ls.length; i++) h = apply(ls[i], h);
        for (const l of ls) h += 0.1 * l.b * l.b;
        return h;
      }
      export function rows(m: number[][], v: number[]): number {
        let s = 0;
        for (const r of m) for (let j = 0; j < r.length; j++) s += r[j] * v[j] * r[j];
        return s;
      }
      export const dnet = grad(net, [0, 1]);
      export const drows = grad(rows, [0, 1]);
      export const pull = (ls: Layer[], x: number) => vjp(net, ls, x);
      export const push = (ls: Layer[], x: number, t: Layer[]) => jvp(net, [ls, x], [t, 0]);
    `);
    const fresh = () => [[{ w: [0.5, -0.1], b: 0.1 }, { w: [-1.5, 0.3], b: 0.2 }, { w: [0.8, 0.05], b: -0.3 }], 0.3];
    const [gls, gx] = m.dnet(...fresh());
    close(flattenNumbers(gls), fdGradient(m.net, fresh, 0));
    expect(gx).toBeCloseTo(fdGradient(m.net, fresh, 1)[0], 7);
    const [, pb] = m.pull(...fresh());
    expect(flattenNumbers(pb(1))).toEqual(flattenNumbers([gls, gx]));
    const t = [{ w: [1, 0.5], b: -1 }, { w: [0, 2], b: 0.5 }, { w: [-1, 1], b: 0 }];
    const [, dot] = m.push(fresh()[0], 0.3, t);
    expect(dot).toBeCloseTo(flattenNumbers(gls).reduce((s, g, k) => s + g * flattenNumbers(t)[k], 0), 12);
    expect(m.drows([[1, 2], [3, 4]], [5, 6])).toEqual([[[10, 24], [30, 48]], [10, 20]]);
  });

  it("results that are objects, parts of objects or list elements get cotangents of their structure", async () => {
    const m = await build(`
      import { vjp, jvp, np, NDArray } from "adc";
      export function part(p: { l: { a: number[] }; b: number }, x: number): { a: number[] } { const q = p.l; return q; }
      export function pick(ls: NDArray[]): NDArray { return ls[1]; }
      export const pull = (p: { l: { a: number[] }; b: number }) => vjp(part, p, 3);
      export const push = (p: { l: { a: number[] }; b: number }, t: { l: { a: number[] }; b: number }) => jvp(part, [p, 3], [t, 1]);
      export const pullPick = (ls: NDArray[]) => vjp(pick, ls);
      export { np };
    `);
    const [out, pb] = m.pull({ l: { a: [1, 2] }, b: 2 });
    expect(out).toEqual({ a: [1, 2] });
    expect(pb({ a: [1, 5] })).toEqual([{ l: { a: [1, 5] }, b: 0 }, 0]);
    expect(() => pb({ a: [1] })).toThrow(/the cotangent at a is an array of length 1, but the output at a is an array of length 2/);
    expect(m.push({ l: { a: [1, 2] }, b: 2 }, { l: { a: [7, 8] }, b: 1 })).toEqual([{ a: [1, 2] }, { a: [7, 8] }]);
    const [, pp] = m.pullPick([m.np.ones([2]), m.np.zeros([3])]);
    const [bars] = pp(m.np.array([1, 2, 3]));
    expect(bars.map((b: { toArray(): number[] }) => b.toArray())).toEqual([[0, 0], [1, 2, 3]]);
  });

  it("writing into a part of a differentiated parameter object is refused with its location", () => {
    const text = diagnostics(`
      import { grad } from "adc";
      function bump(a: number[], x: number): void { a[0] += x; }
      export function f(p: { w: number[]; s: number }): number { const w = p.w; w[0] = w[0] * p.s; return p.w[0]; }
      export function g(p: { w: number[]; s: number }): number { bump(p.w, p.s); return p.w[0]; }
      export const df = grad(f);
      export const dg = grad(g);
    `);
    expect(text).toMatch(/shapes-input.ts\(4,81\): error ADC1011: 'w' is part of the parameter 'p'; writing into it is not supported/);
    expect(text).toMatch(/shapes-input.ts\(5,66\): error ADC1011: 'bump' writes into 'p.w', part of the parameter 'p'/);
  });
});

describe("the rule for arrays: after a derivative call the caller's arrays hold what the primal left in them", () => {
  it("a pullback changes neither the returned array, nor an argument the caller edited, and gives the same cotangents each time", async () => {
    const m = await build(`
      import { vjp, grad, valueAndGrad } from "adc";
      export function cumsum(x: number[]): number[] {
        const y: number[] = new Array(x.length).fill(0);
        for (let i = 0; i < x.length; i++) y[i] = (i > 0 ? y[i - 1] : 0) + x[i] * x[i];
        return y;
      }
      export function g(b: number[]): number { b[0] = b[0] * b[1]; b[1] = Math.sin(b[0]); return b[0] + b[1]; }
      export function inObject(p: { w: number[]; s: number }): number { let r = 0; for (let i = 0; i < p.w.length; i++) r += p.w[i] * p.w[i] * p.s; return r; }
      export const pullCumsum = (x: number[]) => vjp(cumsum, x);
      export const pullG = (b: number[]) => vjp(g, b);
      export const pullObj = (p: { w: number[]; s: number }) => vjp(inObject, p);
      export const dg = grad(g);
      export const vg = valueAndGrad(g);
    `);
    const x = [1, 2, 3];
    const [y, pb] = m.pullCumsum(x);
    expect(y).toEqual([1, 5, 14]);
    const first = pb([1, 1, 1]);
    expect(first).toEqual([[6, 8, 6]]);
    expect(y).toEqual([1, 5, 14]);
    expect(x).toEqual([1, 2, 3]);
    y[0] = -7;
    x[1] = 100;
    expect(pb([1, 1, 1])).toEqual(first);
    expect(y).toEqual([-7, 5, 14]);
    expect(x).toEqual([1, 100, 3]);

    // g writes into its argument: every entry point leaves it as g(b) leaves it.
    const after = (b: number[]): number[] => (m.g(b), b);
    const primal = after([2, 3]);
    for (const call of [(b: number[]) => m.dg(b), (b: number[]) => m.vg(b), (b: number[]) => m.pullG(b)[1](1)]) {
      const b = [2, 3];
      call(b);
      expect(b).toEqual(primal);
    }
    const b = [2, 3];
    const [, pg] = m.pullG(b);
    b[0] = 100;
    const ct = pg(1)[0];
    expect(ct).toEqual(m.dg([2, 3]));
    expect(b).toEqual([100, primal[1]]);

    const p = { w: [1, 2], s: 3 };
    const [, po] = m.pullObj(p);
    p.w[0] = 50;
    expect(po(1)).toEqual([{ w: [6, 12], s: 5 }]);
    expect(p.w).toEqual([50, 2]);
  });

  it("a pullback sees the numbers of a captured object as they were at the vjp call", async () => {
    const m = await build(`
      import { vjp } from "adc";
      export function fit(model: { s: number; w: number[] }, x: number): number[] {
        const loss = (y: number) => model.s * y * y + model.w[0] * y;
        const [, pb] = vjp(loss, x);
        model.s = 50;
        model.w[0] = 7;
        return [...pb(1), ...pb(1)];
      }
    `);
    expect(m.fit({ s: 2, w: [1] }, 3)).toEqual([13, 13]);
  });

  it("one array given as two arguments of a function that writes one of them is a run-time error at every entry point", async () => {
    const m = await build(`
      import { grad, vjp, jvp } from "adc";
      export function h(a: number[], b: number[]): number { b[0] = 2 * a[0]; a[0] = a[0] * b[0]; return a[0]; }
      export const dh = grad(h, [0, 1]);
      export const pull = (a: number[], b: number[]) => vjp(h, a, b);
      export const push = (a: number[], b: number[], ta: number[], tb: number[]) => jvp(h, [a, b], [ta, tb]);
    `);
    const v = [3];
    expect(() => m.dh(v, v)).toThrow(/h: the arguments 'a' and 'b' share one array, and 'h' writes into/);
    expect(() => m.pull(v, v)).toThrow(/share one array/);
    expect(() => m.push(v, v, [1], [0])).toThrow(/share one array/);
    const a = [3], b = [1];
    expect(m.dh(a, b)).toEqual([[12], [0]]);
    expect([a, b]).toEqual([[18], [6]]);
    // Tangents are the caller's too: jvp leaves them alone.
    const ta = [1], tb = [0];
    expect(m.push([3], [1], ta, tb)).toEqual([18, 12]);
    expect([ta, tb]).toEqual([[1], [0]]);
  });

  it("overlapping views of one buffer, given to a function that writes one of them, are a run-time error; views apart are fine", async () => {
    const m = await build(`
      import { valueAndGrad, vjp } from "adc";
      export function f(a: Float64Array, b: Float64Array): number { b[0] = b[0] * b[0]; return a[1] * a[0]; }
      export const vg = valueAndGrad(f, [0, 1]);
      export const pull = (a: Float64Array, b: Float64Array) => vjp(f, a, b);
    `);
    const buf = Float64Array.from([1, 2, 3, 4]);
    expect(() => m.vg(buf.subarray(0, 2), buf.subarray(1, 3))).toThrow(/f: the arguments 'a' and 'b' are views of overlapping memory, and 'f' writes into 'b'/);
    expect(() => m.pull(buf.subarray(0, 2), buf.subarray(1, 3))).toThrow(/overlapping memory/);
    // Side by side in one buffer: different elements, a different-arrays gradient.
    const [v, [ga, gb]] = m.vg(buf.subarray(0, 2), buf.subarray(2, 4));
    expect(v).toBe(2);
    expect([Array.from(ga), Array.from(gb)]).toEqual([[2, 1], [0, 0]]);
    expect(Array.from(buf)).toEqual([1, 2, 9, 4]);
  });

  it("a cotangent or head gradient of the wrong shape is an error naming both shapes", async () => {
    const m = await build(`
      import { vjp, np, NDArray, record } from "adc";
      export function sq(x: number[]): number[] { return x.map((v) => v * v); }
      export function nsq(x: NDArray): NDArray { return np.mul(x, x); }
      export const pull = (x: number[]) => vjp(sq, x);
      export const npull = (x: NDArray) => vjp(nsq, x);
      export const x = np.arange(3);
      x.attachGrad();
      export let z!: NDArray;
      record(() => { z = np.mul(x, x); });
      export { np };
    `);
    const [, pb] = m.pull([1, 2]);
    expect(() => pb([1, 2, 3])).toThrow(/the pullback of sq: the cotangent is an array of length 3, but the output is an array of length 2/);
    expect(() => pb([1])).toThrow(/length 1, but the output is an array of length 2/);
    expect(pb([1, 1])).toEqual([[2, 4]]);
    const [, npb] = m.npull(m.np.arange(3));
    expect(() => npb(m.np.ones([2]))).toThrow(/the cotangent is an NDArray of shape \(2,\), but the output is an NDArray of shape \(3,\)/);
    expect(() => m.z.backward(m.np.ones([4]))).toThrow(/backward\(head\): the cotangent is an NDArray of shape \(4,\), but the output is an NDArray of shape \(3,\)/);
  });
});

function flattenNumbers(x: unknown): number[] {
  return flatten(x);
}
