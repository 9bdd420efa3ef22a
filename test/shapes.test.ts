/**
 * The shapes around function bodies, called the way users call the API: where a closure is
 * declared, how a helper is named at the call, argnums as a list of one, the imperative API's
 * freeing and detaching rules. Each case gave a wrong number, a crash or an internal error before
 * its fix; each checks the answer against an analytic value or finite differences.
 */
import { describe, expect, it } from "vitest";
import { compile, compileFiles, formatDiagnostic } from "../compiler/index.js";
import { load, type Loaded } from "./helpers/load.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

async function build(source: string, fileName = "shapes-input.ts"): Promise<Loaded> {
  const r = compile(source, { fileName });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return load(r.code, fileName);
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

describe("calls by the name the caller uses", () => {
  it("an imported function renamed at the import is called by its local name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adc-shapes-"));
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
    const mod = r.outputs.get(join(dir, "m.ts"))!;
    const m = await load(main.code, join(dir, "main.ts"), new Map([[join(dir, "m.ts"), mod.code]]));
    expect(m.df(3, 2)).toBe(24);
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
