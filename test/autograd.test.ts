/**
 * The imperative API beyond the chapter's cells: GradientTape with respect to values computed
 * in earlier record blocks (TensorFlow allows intermediates as sources), the refusal where adc
 * cannot give the whole derivative, "add" accumulation across backward calls, and control flow
 * inside a record block.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load, type Loaded } from "./helpers/load.js";

async function build(source: string): Promise<Loaded> {
  const r = compile(source, { fileName: "autograd-input.ts" });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  return load(r.code, "autograd-input.ts");
}

const arr = (a: { toArray(): unknown }): number[] => a.toArray() as number[];

describe("the imperative API", () => {
  it("backward() computes no adjoint for data a record block reads (nothing attached, nothing recorded made it)", async () => {
    const m = await build(`
      import { np, NDArray, record } from "adc";
      export { np };
      export function step(X: NDArray, W: NDArray, y: NDArray): NDArray {
        let l: NDArray = np.zeros([]);
        record(() => {
          const d = np.sub(np.matmul(X, W), y);
          l = np.mean(np.mul(d, d));
        });
        l.backward();
        return l;
      }
    `);
    const np = m.np;
    // Reads of W's numbers during backward: the adjoint of X in matmul(X, W) is g W^T, the only
    // one that reads W (W's own is X^T g).
    const counted = (W: any): { reads: number } => {
      const c = { reads: 0 };
      const data = W.data;
      Object.defineProperty(W, "data", { get: () => (c.reads++, data), configurable: true });
      return c;
    };
    const run = (attachX: boolean): { gradW: number[]; gradX: number[] | null; reads: number } => {
      const X = np.array([[1, 2], [3, -1], [0.5, 4]]);
      const W = np.array([[0.2, -0.1], [0.4, 0.3]]);
      const y = np.array([[1, 0], [0, 1], [1, 1]]);
      W.attachGrad();
      if (attachX) X.attachGrad();
      const before = counted(W);
      const l = m.step(X, W, y);
      expect(l.item()).toBeGreaterThan(0);
      return { gradW: Array.from(W.grad.data as Float64Array), gradX: attachX ? Array.from(X.grad.data as Float64Array) : null, reads: before.reads };
    };
    const data = run(false);
    const both = run(true);
    // The same gradient for W either way; X's adjoint (and so W's numbers) only when X needs it.
    data.gradW.forEach((g, k) => expect(g).toBeCloseTo(both.gradW[k], 14));
    // (W's numbers are also read by the forward sweep and when its gradient is stored: the one
    // read fewer is X's adjoint, not computed.)
    expect(data.reads).toBe(both.reads - 1);
    // X's gradient when attached: (2/n) (XW - y) W^T, n = 6 entries.
    const X = [[1, 2], [3, -1], [0.5, 4]];
    const W = [[0.2, -0.1], [0.4, 0.3]];
    const y = [[1, 0], [0, 1], [1, 1]];
    const d = X.map((row, i) => [0, 1].map((j) => row[0] * W[0][j] + row[1] * W[1][j] - y[i][j]));
    const want = d.flatMap((row) => [0, 1].map((k) => (2 / 6) * (row[0] * W[k][0] + row[1] * W[k][1])));
    both.gradX!.forEach((g, k) => expect(g).toBeCloseTo(want[k], 14));
  });

  it("GradientTape: gradients with respect to a value an earlier block computed, and the total derivative with respect to the leaf", async () => {
    const m = await build(`
      import { np, NDArray, GradientTape } from "adc";
      export const x = np.array([0.3, -1.2, 2.0]);
      export const t = new GradientTape({ persistent: true });
      export let v!: NDArray;
      export let q!: NDArray;
      t.record(() => { v = np.sin(x); });
      t.record(() => { q = np.sum(v.mul(v).mul(x)); });
    `);
    const xs = [0.3, -1.2, 2.0];
    const dqdv = arr(m.t.gradient(m.q, m.v));
    xs.forEach((x, i) => expect(dqdv[i]).toBeCloseTo(2 * Math.sin(x) * x, 12));
    const [dqdx, dqdv2] = m.t.gradient(m.q, [m.x, m.v]).map(arr);
    xs.forEach((x, i) => {
      expect(dqdx[i]).toBeCloseTo(Math.sin(x) ** 2 + 2 * Math.sin(x) * Math.cos(x) * x, 12);
      expect(dqdv2[i]).toBeCloseTo(dqdv[i], 14);
    });
    expect(m.t.gradient(m.q, m.q).item()).toBe(1);
  });

  it("GradientTape: a source computed in the same block as what the target depends on is refused, not answered with zeros", async () => {
    const m = await build(`
      import { np, NDArray, GradientTape } from "adc";
      export const x = np.array([0.3, -1.2]);
      export const t = new GradientTape({ persistent: true });
      export let u!: NDArray;
      export let z!: NDArray;
      t.record(() => { u = np.sin(x); z = np.sum(u.mul(u)); });
    `);
    expect(() => m.t.gradient(m.z, [m.x, m.u])).toThrow(/same record\(\) block.*block of its own/);
    const dzdx = arr(m.t.gradient(m.z, m.x));
    expect(dzdx[0]).toBeCloseTo(2 * Math.sin(0.3) * Math.cos(0.3), 14);
  });

  it("parameters gathered by shorthand ({ w, b }, also from a factory) or in a tuple, read inside record and a GradientTape, get their gradients", async () => {
    const m = await build(`
      import { np, NDArray, record, GradientTape, grad } from "adc";
      export const w = np.array([1, 2, 3]);
      export const b = np.array([0.5]);
      w.attachGrad(); b.attachGrad();
      const params = { w, b };
      export const X = np.array([[1, 0, 2], [0, 1, 1]]);
      function forward(p: { w: NDArray; b: NDArray }, X: NDArray): NDArray { return np.add(np.dot(X, p.w), p.b); }
      let l!: NDArray;
      record(() => { l = np.sum(np.square(forward(params, X))); });
      l.backward();
      export const shorthand = [w.grad, b.grad];
      const t = new GradientTape();
      t.record(() => { l = np.sum(np.exp(params.w)); });
      export const taped = t.gradient(l, w);
      function initParams(): [NDArray, NDArray] {
        const w = np.array([1, 2, 3]), b = np.array([0.5]);
        w.attachGrad(); b.attachGrad();
        return [w, b];
      }
      export const tuple = initParams();
      record(() => { l = np.sum(np.square(np.add(np.dot(X, tuple[0]), tuple[1]))); });
      l.backward();
      export const viaGrad = grad((p: [NDArray, NDArray]) => np.sum(np.square(np.add(np.dot(X, p[0]), p[1]))).item())(tuple);
    `);
    // l = sum((Xw + b)^2): dl/dw = 2 X^T r, dl/db = 2 sum(r) for r = Xw + b = [7.5, 5.5].
    const want = [[15, 11, 41], [26]];
    expect((m.shorthand as { toArray(): unknown }[]).map(arr)).toEqual(want);
    expect(arr(m.taped)).toEqual([1, 2, 3].map((v) => expect.closeTo(Math.exp(v), 12)));
    expect((m.tuple as { grad: { toArray(): unknown } }[]).map((p) => arr(p.grad))).toEqual(want);
    expect(m.viaGrad.map(arr)).toEqual(want);
  });

  it("attachGrad('add') accumulates over backward calls; control flow inside record follows the values", async () => {
    const m = await build(`
      import { np, NDArray, record, isTraining } from "adc";
      export const x = np.arange(4);
      export const w = np.array([0.5, -1, 2, 0.1]);
      x.attachGrad();
      w.attachGrad("add");
      let y!: NDArray;
      for (let rep = 0; rep < 2; rep++) {
        record(() => {
          let s = x.mul(w);
          let k = 0;
          while (np.sum(s).item() < 10 && k < 5) {
            s = s.mul(2);
            k++;
          }
          if (isTraining()) s = s.add(1);
          y = np.sum(s.mul(s));
        });
        y.backward();
      }
    `);
    // s = 4 x w + 1 (two doublings), y = sum(s^2): dy/dx = 8 s w, dy/dw = 8 s x.
    const x = [0, 1, 2, 3], w = [0.5, -1, 2, 0.1];
    const s = x.map((xi, i) => 4 * xi * w[i] + 1);
    arr(m.x.grad).forEach((g, i) => expect(g).toBeCloseTo(8 * s[i] * w[i], 12));
    arr(m.w.grad).forEach((g, i) => expect(g).toBeCloseTo(2 * 8 * s[i] * x[i], 12));
  });

  it("an attached array that only a callee of the block reads (the book's net(X) reading W) is an error when the block runs, not a zero gradient; as an argument it gets its gradient", async () => {
    const m = await build(`
      import { np, NDArray, record, GradientTape } from "adc";
      export const w = np.array([1, 2, 3]);
      const data = np.array([1, 1, 1]);
      function net(x: NDArray): NDArray { return np.mul(np.mul(x, w), data).sum(); }
      function net2(x: NDArray, v: NDArray): NDArray { return np.mul(np.mul(x, v), data).sum(); }
      const x = np.array([4, 5, 6]);
      export function plain(): number { let l!: NDArray; record(() => { l = net(x); }); l.backward(); return l.item(); }
      export function passed(): NDArray { let l!: NDArray; record(() => { l = net2(x, w); }); l.backward(); return w.grad; }
      export function taped(): NDArray { const tape = new GradientTape(); let l!: NDArray; tape.record(() => { l = net(x); }); return tape.gradient(l, w); }
    `);
    expect(m.plain()).toBe(32); // nothing attached yet: the callee's reads are constants, as intended
    expect(() => m.taped()).toThrow(/gradient\(\): the source 'w', read by net from outside the tape's block, so its derivative was not recorded/);
    m.w.attachGrad();
    expect(() => m.plain()).toThrow(/record: 'w', read by net from outside the block, has a gradient attached/);
    expect(arr(m.passed())).toEqual([4, 5, 6]);
  });

  it("a function called through a const alias (the book's net = linreg; loss = squared_loss), in a record block, in grad and in valueAndGrad", async () => {
    const m = await build(`
      import { grad, np, NDArray, record, valueAndGrad } from "adc";
      function squaredLoss(x: NDArray): NDArray { return np.square(x); }
      const loss = squaredLoss;
      const cube = (x: number) => x * x * x;
      const model = cube;
      export function blockGrad(): NDArray { const x = np.array([1, 2, 3]); x.attachGrad(); let l!: NDArray; record(() => { l = np.sum(loss(x)); }); l.backward(); return x.grad; }
      export const both = grad((t: number) => model(t) + cube(t));
      export const vg = valueAndGrad(model);
    `);
    expect(arr(m.blockGrad())).toEqual([2, 4, 6]);
    expect(m.both(2)).toBe(24);
    expect(m.vg(2)).toEqual([8, 12]);
  });

  it("pause inside a record block or a differentiated function: its values carry no gradient, and code in it is in prediction mode", async () => {
    const m = await build(`
      import { np, NDArray, record, pause, isTraining, grad } from "adc";
      function dropoutScale(): number { return isTraining() ? 2 : 1; }
      export function step(x: NDArray): boolean[] {
        let y!: NDArray;
        let seen: boolean[] = [];
        record(() => {
          const u = np.mul(x, x);
          const scale = pause(() => np.sum(u).item() * dropoutScale());
          seen = [isTraining(), pause(() => isTraining()), pause(() => isTraining(), { train: true }), dropoutScale() === 2];
          y = np.mul(u, scale);
        });
        y.backward();
        return seen;
      }
      export function f(a: number): number {
        let c = 0;
        pause(() => { c = a * a; });
        return c * a + Math.sin(a);
      }
      export const df = grad(f);
      export { np };
    `);
    const x = m.np.array([1, 2, 3]);
    x.attachGrad();
    expect(m.step(x)).toEqual([true, false, true, true]);
    // y = x^2 * c with c = sum(x^2) = 14 a constant: dy/dx = 2 x c.
    expect(x.grad.toArray()).toEqual([28, 56, 84]);
    expect(m.df(3)).toBeCloseTo(9 + Math.cos(3), 14);
  });

  it("w.assign(...) updates a parameter in place between steps (MXNet's param[:] = ...), keeping its gradient; inside a record block it is refused", async () => {
    const m = await build(`
      import { np, NDArray, record } from "adc";
      export const w = np.array([0, 0]);
      const target = np.array([1, -2]);
      w.attachGrad();
      export function step(lr: number): number {
        let l!: NDArray;
        record(() => { l = np.sum(np.square(np.sub(w, target))); });
        l.backward();
        w.assign(np.sub(w, np.mul(lr, w.grad)));
        return l.item();
      }
    `);
    const losses = Array.from({ length: 30 }, () => m.step(0.25));
    // w -= 0.25 * 2 (w - t) halves the distance each step: the loss falls by 4 each time.
    expect(losses[1] / losses[0]).toBeCloseTo(0.25, 12);
    expect(arr(m.w)[0]).toBeCloseTo(1, 8);
    expect(arr(m.w)[1]).toBeCloseTo(-2, 8);
    const r = compile('import { np, NDArray, record } from "adc";\nconst w = np.array([1]);\nlet l!: NDArray;\nrecord(() => { w.assign(np.mul(w, 2)); l = np.sum(w); });\n', { fileName: "assign.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([expect.stringMatching(/assign\.ts\(4,16\): error ADC1022: assigning into an NDArray in place is not supported in recorded or differentiated code/)]);
  });
});
