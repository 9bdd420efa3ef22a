/**
 * checkpoint(f) (issue 16, item 4; JAX's checkpoint/remat): differentiated code that calls a
 * checkpointed function keeps only its arguments on the tape and recomputes its inside in the
 * reverse sweep. Gradients equal the un-checkpointed ones and central differences, in both modes;
 * a long loop split into checkpointed blocks keeps O(sqrt(n)) records (the tape's lanes, which
 * grow by doubling and never shrink, are read after each run); refusals.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const program = `
import { checkpoint, grad, jvp, valueAndGrad, np, NDArray } from "adc";
export { tape } from "adc/runtime";

function block(y: number, x: number, k: number): number {
  for (let i = 0; i < k; i++) y = Math.sin(y) * 0.5 + x;
  return y;
}
const steps = checkpoint(block);
export function blocked(x: number, n: number, k: number): number {
  let y = x;
  for (let j = 0; j < n / k; j++) y = steps(y, x, k);
  return y * y;
}
export function plain(x: number, n: number): number {
  let y = x;
  for (let i = 0; i < n; i++) y = Math.sin(y) * 0.5 + x;
  return y * y;
}
export const dBlocked = grad(blocked);
export const dPlain = grad(plain);
export const tBlocked = (x: number, n: number, k: number) => jvp((z: number) => blocked(z, n, k), [x], [1]);

const layer = checkpoint((W: NDArray, h: NDArray) => np.tanh(np.dot(h, W)));
export const dNet = valueAndGrad((W: NDArray, X: NDArray) => np.sum(layer(W, layer(W, X))).item());
export const dNetPlain = grad((W: NDArray, X: NDArray) => np.sum(np.tanh(np.dot(np.tanh(np.dot(X, W)), W))).item());
/** A checkpointed function called directly, and one with array arguments. */
export const dSteps = grad(steps, [0, 1]);
function norm2(v: Float64Array, s: number): number {
  let t = 0;
  for (let i = 0; i < v.length; i++) t += Math.sin(v[i] * s) ** 2;
  return t;
}
const norm2c = checkpoint(norm2);
export const dNorm = grad((v: Float64Array, s: number) => norm2c(v, s) * s, [0, 1]);
export const dNormPlain = grad((v: Float64Array, s: number) => norm2(v, s) * s, [0, 1]);
/** Second derivatives go through a checkpoint: T(checkpoint(h)) is T(h). */
const cube = checkpoint((x: number) => x * x * x);
export const d2 = grad(grad((x: number) => cube(x) * Math.sin(x)));
export { np };
`;

describe("checkpoint", () => {
  it("gives the same derivatives, recomputing inside the reverse sweep, in both modes", async () => {
    const r = compile(program, { fileName: "ckpt.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const m = await load(r.code, "ckpt.ts");
    const h = 1e-6;
    for (const [n, k] of [[12, 3], [100, 10]]) {
      const g = m.dBlocked(0.3, n, k);
      expect(g).toBeCloseTo(m.dPlain(0.3, n), 12);
      expect(g).toBeCloseTo((m.blocked(0.3 + h, n, k) - m.blocked(0.3 - h, n, k)) / (2 * h), 6);
      expect(m.tBlocked(0.3, n, k)[1]).toBeCloseTo(g, 12);
    }
    const [gy, gx] = m.dSteps(0.2, 0.4, 5);
    const f = (y: number, x: number): number => { for (let i = 0; i < 5; i++) y = Math.sin(y) * 0.5 + x; return y; };
    expect(gy).toBeCloseTo((f(0.2 + h, 0.4) - f(0.2 - h, 0.4)) / (2 * h), 6);
    expect(gx).toBeCloseTo((f(0.2, 0.4 + h) - f(0.2, 0.4 - h)) / (2 * h), 6);
    const W = m.np.array([[0.1, 0.2], [-0.3, 0.4]]);
    const X = m.np.array([[1, 2], [3, 4]]);
    const [, gW] = m.dNet(W, X);
    const want = m.dNetPlain(W, X);
    Array.from(gW.data as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(want.data[i], 14));
    const v = new Float64Array([0.3, -1.1, 2.2]);
    const [gv, gs] = m.dNorm(v, 0.7);
    const [wv, ws] = m.dNormPlain(v, 0.7);
    Array.from(gv as Float64Array).forEach((x, i) => expect(x).toBeCloseTo(wv[i], 14));
    expect(gs).toBeCloseTo(ws, 14);
    expect(Array.from(v)).toEqual([0.3, -1.1, 2.2]);
    // (x^3 sin x)'' = 6x sin x + 6x^2 cos x - x^3 sin x
    const x = 0.8;
    expect(m.d2(x)).toBeCloseTo(6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x), 12);
  });

  it("a loop of 10^6 steps in checkpointed blocks of 1000 keeps O(sqrt(n)) records, as written O(n)", async () => {
    const m = await load(compile(program, { fileName: "ckpt-tape.ts" }).code, "ckpt-tape.ts");
    const capacity = (): number => m.tape.f.length * 8 + m.tape.i.length * 4 + m.tape.b.length + m.tape.o.length * 8;
    const n = 1_000_000;
    const g = m.dBlocked(0.3, n, 1000);
    // 1,000 argument records while the blocks run forward, then one block's 1,000 steps at a time.
    expect(capacity()).toBeLessThan(64 * 1024);
    expect(m.dPlain(0.3, n)).toBeCloseTo(g, 10);
    expect(capacity()).toBeGreaterThan(8 * n);
  });

  it("refuses what cannot be recomputed", () => {
    const d = (source: string): string => compile(`import { grad, checkpoint } from "adc";\n${source}`, { fileName: "m.ts" }).diagnostics.map((x) => formatDiagnostic(x)).join("\n");
    expect(d(`function scale(v: Float64Array, s: number): number { for (let i = 0; i < v.length; i++) v[i] *= s; return v[0]; }
const c = checkpoint(scale);
export const g = grad((v: Float64Array, s: number) => c(v, s) * s, [0, 1]);`)).toContain("error ADC1026: checkpoint of 'scale', which writes into its array arguments, is not supported");
    expect(d(`const c = checkpoint(Math.exp);
export const g = grad((x: number) => c(x));`)).toContain("error ADC1008: checkpoint: adc differentiates a named function or an inline arrow");
  });
});
