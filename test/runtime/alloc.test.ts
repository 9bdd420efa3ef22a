/**
 * Small zeroed Float64Arrays come from shared slabs (runtime/alloc.ts). What must hold for the
 * user: every array starts at zero, no two arrays share an entry (across a slab's end too), and
 * gradients returned by two calls are independent arrays, whatever the caller does to them.
 */
import { describe, expect, it } from "vitest";
import { zerosF64 } from "../../runtime/alloc.js";
import { compile, formatDiagnostic } from "../../compiler/index.js";
import { load } from "../helpers/load.js";

describe("zerosF64", () => {
  it("gives zeroed arrays that never overlap, across many slabs", () => {
    const arrays: Float64Array[] = [];
    // Sizes around the pooled limit (64 entries) and past it, enough to fill several slabs.
    for (let k = 0; k < 3000; k++) {
      const n = (k * 7919) % 90;
      const a = zerosF64(n);
      expect(a.length).toBe(n);
      expect(a.every((v) => v === 0)).toBe(true);
      a.fill(k + 1);
      arrays.push(a);
    }
    arrays.forEach((a, k) => expect(a.every((v) => v === k + 1)).toBe(true));
    // (The pooled path is the one exercised: arrays of 9-64 entries share buffers.)
    const pooled = arrays.filter((a) => a.length > 8 && a.length <= 64);
    expect(new Set(pooled.map((a) => a.buffer)).size).toBeLessThan(pooled.length / 10);
  });

  it("gives large arrays a buffer of their own", () => {
    const a = zerosF64(65);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(65 * 8);
    expect(zerosF64(0).length).toBe(0);
  });
});

describe("gradients built on pooled arrays", () => {
  it("returns independent adjoints from call to call, equal to the analytic gradient", async () => {
    const source = `
import { grad } from "adc";
export function energy(x: Float64Array, y: Float64Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i] * x[i] * y[i];
  return e;
}
export const dE = grad(energy, [0, 1]);
`;
    const r = compile(source, { fileName: "alloc-input.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "alloc-input.ts");
    const x = Float64Array.from({ length: 11 }, (_, i) => i + 1);
    const y = Float64Array.from({ length: 11 }, (_, i) => 0.5 * i);
    const results: [Float64Array, Float64Array][] = [];
    for (let call = 0; call < 400; call++) results.push(m.dE(x, y));
    // The caller writes into one result: no other result may change.
    results[0][0].fill(-1);
    results[0][1].fill(-1);
    for (const [gx, gy] of results.slice(1)) {
      expect(Array.from(gx)).toEqual(Array.from(x, (v, i) => 2 * v * y[i]));
      expect(Array.from(gy)).toEqual(Array.from(x, (v) => v * v));
    }
  });
});
