/**
 * Destructured parameters, as TypeScript users write them (`({ w, b }: Params, x)`,
 * `([x, y]: number[])`): each is one parameter of the generated functions, unpacked at the top of
 * the body. grad, valueAndGrad, vjp and jvp against central finite differences, the gradient
 * shaped like the argument, and the forms still refused, with their line and column.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { strictErrors } from "./helpers/strict.js";
import { load, type Loaded } from "./helpers/load.js";

const SOURCE = `
import { grad, valueAndGrad, vjp, jvp } from "adc";
type Params = { w: number; b: Float64Array };
/** An object parameter, destructured. */
export function loss({ w, b }: Params, x: number): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += (w * x + b[i]) ** 2 * (i + 1);
  return s;
}
/** An array parameter, destructured, renamed keys and a hole. */
export function pair([x, , y]: number[]): number {
  return Math.sin(x) * y + x * x;
}
export const fit = ({ w: slope, b: offsets }: Params): number => slope * offsets[0] + offsets[1] * offsets[1];

export const g = grad(loss);
export const gx = grad(loss, 1);
export const both = valueAndGrad(loss, [0, 1]);
export const gp = grad(pair);
export const gf = grad(fit);
export const pull = (p: Params, x: number) => vjp(loss, p, x);
export const tan = (p: Params, x: number, t: Params) => jvp(loss, [p, x], [t, 0]);
`;

const fd = (f: (v: number) => number, v: number): number => (f(v + 1e-6) - f(v - 1e-6)) / 2e-6;

describe("destructured parameters", () => {
  let m: Loaded;
  it("compile as written; input and output type-check under strict", async () => {
    const r = compile(SOURCE, { fileName: "destructured.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "destructured-in.ts": SOURCE, "destructured-out.ts": r.code })).toEqual([]);
    m = await load(r.code, "destructured.ts");
  });

  it("have gradients shaped like the argument, equal to finite differences", () => {
    const b = Float64Array.from([0.5, -1, 2]);
    const p = { w: 0.7, b };
    const x = 1.3;
    const gp = m.g(p, x);
    expect(Object.keys(gp).sort()).toEqual(["b", "w"]);
    expect(gp.w).toBeCloseTo(fd((w) => m.loss({ w, b }, x), 0.7), 6);
    for (let i = 0; i < 3; i++)
      expect(gp.b[i]).toBeCloseTo(fd((v) => { const c = b.slice(); c[i] = v; return m.loss({ w: 0.7, b: c }, x); }, b[i]), 6);
    expect(m.gx(p, x)).toBeCloseTo(fd((v) => m.loss(p, v), x), 6);
    const [value, [g0, g1]] = m.both(p, x);
    expect(value).toBeCloseTo(m.loss(p, x), 14);
    expect(g0.w).toBeCloseTo(gp.w, 12);
    expect(g1).toBeCloseTo(m.gx(p, x), 12);
    const arr = [0.4, 99, -1.5];
    const ga = m.gp(arr);
    expect(ga).toHaveLength(3);
    expect(ga[0]).toBeCloseTo(Math.cos(0.4) * -1.5 + 0.8, 12);
    expect(ga[1]).toBe(0);
    expect(ga[2]).toBeCloseTo(Math.sin(0.4), 12);
    const gf = m.gf(p);
    expect(gf.w).toBeCloseTo(b[0], 14);
    expect(Array.from(gf.b)).toEqual([0.7, -2, 0]);
  });

  it("vjp and jvp agree with grad", () => {
    const p = { w: 0.7, b: Float64Array.from([0.5, -1, 2]) };
    const [out, pb] = m.pull(p, 1.3);
    expect(out).toBeCloseTo(m.loss(p, 1.3), 14);
    const [cp, cx] = pb(2);
    expect(cp.w).toBeCloseTo(2 * m.g(p, 1.3).w, 12);
    expect(cx).toBeCloseTo(2 * m.gx(p, 1.3), 12);
    const t = { w: 1, b: Float64Array.from([0, 1, 0]) };
    const [, dot] = m.tan(p, 1.3, t);
    const gp = m.g(p, 1.3);
    expect(dot).toBeCloseTo(gp.w + gp.b[1], 12);
  });

  it("refuse the forms they do not follow, with line and column", () => {
    const d = (src: string): string => compile(`import { grad } from "adc";\n${src}`, { fileName: "dp-bad.ts" }).diagnostics.map(formatDiagnostic).join("\n");
    expect(d(`function f({ w }: { w: number } = { w: 1 }): number { return w * w; }\nexport const g = grad(f);`)).toMatch(/dp-bad\.ts\(2,12\): error ADC1019: a destructured parameter with a default value is not supported/);
    expect(d(`function f({ w: [a] }: { w: number[] }): number { return a * a; }\nexport const g = grad(f);`)).toMatch(/dp-bad\.ts\(2,\d+\): error ADC1019: nested destructuring is not supported/);
    expect(d(`function f([x, y]: [number, string]): number { return x * y.length; }\nexport const g = grad(f);`)).toMatch(/dp-bad\.ts\(2,12\): error ADC1012: array destructuring is supported for number arrays, Float64Array and arrays of arrays or NDArrays, not '\[number, string\]'/);
  });
});

describe("a destructured for...of element", () => {
  it("unpacks objects, rows and holes as a declaration does; gradients equal to finite differences", async () => {
    const source = `import { grad } from "adc";
type Layer = { w: number; b: number };
export function net(layers: Layer[], x: number): number {
  let h = x;
  for (const { w, b: bias } of layers) h = Math.tanh(w * h + bias);
  return h;
}
export function pairs(ps: number[][]): number {
  let s = 0;
  for (const [a, b] of ps) s += a * b * b;
  return s;
}
export function rows(ps: Float64Array[]): number {
  let s = 0;
  for (const [a, , c] of ps) s += Math.sin(a) * c;
  return s;
}
export const dNet = grad(net, [0, 1]);
export const dPairs = grad(pairs);
export const dRows = grad(rows);
`;
    const r = compile(source, { fileName: "for-of.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "for-of-in.ts": source, "for-of-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "for-of.ts");
    const layers = [{ w: 0.5, b: 0.1 }, { w: -1.2, b: 0.3 }];
    const [gl, gx] = m.dNet(layers, 0.7);
    for (const [k, key] of [[0, "w"], [0, "b"], [1, "w"], [1, "b"]] as const)
      expect(gl[k][key]).toBeCloseTo(fd((v) => m.net(layers.map((l, j) => (j === k ? { ...l, [key]: v } : l)), 0.7), layers[k][key]), 7);
    expect(gx).toBeCloseTo(fd((v) => m.net(layers, v), 0.7), 7);
    expect(m.dPairs([[1, 2], [3, 4]])).toEqual([[4, 4], [16, 24]]);
    const [row] = m.dRows([Float64Array.from([0.5, 9, 2])]);
    expect(Array.from(row)).toEqual([2 * Math.cos(0.5), 0, Math.sin(0.5)]);
  });
});
