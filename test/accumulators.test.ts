/**
 * Local accumulators for loop-invariant adjoint targets (compiler/optimize/accumulators.ts):
 * where the rewrite applies (a triangle loop's `v_bar[i]`), where it must not (the loop reads
 * the array), and a loop that runs no iteration at an index that names no element (the flush is
 * skipped, so a number[] adjoint does not grow). Gradients against forward mode and central
 * differences.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const program = `
import { grad, jvp } from "adc";

/** out = L v with L lower-triangular, packed by columns (ADBench GMM's scatter); the loss is |out|^2. */
export function triangle(packed: Float64Array, v: Float64Array): number {
  const n = v.length;
  const out = new Float64Array(n);
  let idx = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      out[j] += packed[idx] * v[i];
      idx++;
    }
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += out[i] * out[i];
  return s;
}

/** The inner loop reads the array it adds into: no accumulator. */
export function readsBack(v: Float64Array, w: Float64Array): number {
  const acc = new Float64Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    for (let j = 0; j < w.length; j++) {
      acc[i] += v[i] * w[j];
      s += acc[i] * w[j];
    }
  }
  return s;
}

/** At the last i the inner loop runs no iteration and v[i + 1] names no element. */
export function ragged(v: number[], w: number[], counts: number[]): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) {
    for (let j = 0; j < counts[i]; j++) s += v[i + 1] * w[j] * w[j];
  }
  return s;
}

export const dTriangle = grad(triangle, [0, 1]);
export const tTriangle = (p: Float64Array, v: Float64Array, dp: Float64Array, dv: Float64Array) => jvp(triangle, [p, v], [dp, dv])[1];
export const dReadsBack = grad(readsBack, [0, 1]);
export const dRagged = grad(ragged, [0, 1]);
`;

const h = 1e-6;
const fd = (f: (a: Float64Array) => number, a: Float64Array, i: number): number => {
  const p = Float64Array.from(a);
  const q = Float64Array.from(a);
  p[i] += h;
  q[i] -= h;
  return (f(p) - f(q)) / (2 * h);
};

describe("local accumulators in reverse sweeps", async () => {
  const r = compile(program, { fileName: "acc.ts" });
  const m = await load(r.code, "acc.ts");
  const body = (fn: string): string => {
    const from = r.code.slice(r.code.indexOf(`export function ${fn}`));
    return from.slice(0, from.indexOf("\n}\n"));
  };

  it("sums a triangle loop's invariant target locally, with the same gradient", () => {
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(body("triangle_grad")).toMatch(/v_bar_acc \+= /);
    const v = new Float64Array([0.3, -1.2, 0.8, 2.0]);
    const packed = Float64Array.from({ length: 10 }, (_, i) => Math.sin(i + 1));
    const [gp, gv] = m.dTriangle(packed, v);
    for (let i = 0; i < v.length; i++) {
      expect(gv[i]).toBeCloseTo(fd((a) => m.triangle(packed, a), v, i), 6);
      const dv = new Float64Array(4);
      dv[i] = 1;
      expect(gv[i]).toBeCloseTo(m.tTriangle(packed, v, new Float64Array(10), dv), 12);
    }
    for (let i = 0; i < packed.length; i++) expect(gp[i]).toBeCloseTo(fd((a) => m.triangle(a, v), packed, i), 6);
  });

  it("leaves a loop that reads its target alone", () => {
    expect(body("readsBack_grad")).not.toMatch(/acc_bar_acc/);
    const v = new Float64Array([0.5, -0.7, 1.1]);
    const w = new Float64Array([0.2, 0.9]);
    const [gv, gw] = m.dReadsBack(v, w);
    for (let i = 0; i < 3; i++) expect(gv[i]).toBeCloseTo(fd((a) => m.readsBack(a, w), v, i), 6);
    for (let i = 0; i < 2; i++) expect(gw[i]).toBeCloseTo(fd((a) => m.readsBack(v, a), w, i), 6);
  });

  it("skips the flush of a loop that ran no iteration (a number[] adjoint keeps its length)", () => {
    expect(body("ragged_grad")).toMatch(/v_bar_acc/);
    const v = [1.5, -0.5, 2.5];
    const w = [0.3, 0.7];
    const counts = [2, 1, 0];
    const [gv, gw] = m.dRagged(v, w, counts);
    expect(gv).toHaveLength(3);
    expect(Array.from(gv)).toEqual([0, 0.3 * 0.3 + 0.7 * 0.7, 0.3 * 0.3]);
    // ds/dw[j] = sum over i with j < counts[i] of 2 v[i+1] w[j]
    expect(gw[0]).toBeCloseTo(2 * 0.3 * (v[1] + v[2]), 12);
    expect(gw[1]).toBeCloseTo(2 * 0.7 * v[1], 12);
  });
});
