/**
 * Tuples of numbers (`[number, number]`), as TypeScript users write small vectors: parameters,
 * destructured parameters, helpers returning them, readonly tuples. At run time a tuple is a
 * number array of its length, and adc differentiates it as one: each derivative against central
 * finite differences, forward against reverse, the output under strict; a tuple holding anything
 * but numbers is refused with its line, column and type.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { strictErrors } from "./helpers/strict.js";
import { load, type Loaded } from "./helpers/load.js";
import { expectClose, fdArray } from "./helpers/fd.js";

const SOURCE = `
import { grad, hessian, jacrev, jvp, valueAndGrad, vjp } from "adc";
type Vec2 = [number, number];
function polar(r: number, t: number): Vec2 {
  return [r * Math.cos(t), r * Math.sin(t)];
}
export function f(p: Vec2): number {
  const [x, y] = polar(p[0], p[1]);
  return x * x * y + Math.exp(y);
}
export function g([a, b, c]: readonly [number, number, number]): number {
  return a * b * c + Math.sin(a * c);
}
export function toCartesian(p: Vec2): Vec2 {
  return polar(p[0], p[1]);
}
export const df = grad(f);
export const vg = valueAndGrad(f);
export const H = hessian(f);
export const pull = (p: Vec2) => vjp(f, p);
export const push = (p: Vec2, t: Vec2) => jvp(f, [p], [t]);
export const dg = grad(g);
export const J = jacrev(toCartesian);
`;

const close = expectClose;

describe("tuples of numbers", () => {
  let m: Loaded;
  it("compile as written; input and output type-check under strict", async () => {
    const r = compile(SOURCE, { fileName: "tuples.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "tuples-in.ts": SOURCE, "tuples-out.ts": r.code })).toEqual([]);
    m = await load(r.code, "tuples.ts");
  });

  it("have gradients, Hessians and Jacobians equal to finite differences, by every entry point", () => {
    const p = [1.2, 0.4];
    const g = m.df(p);
    close(g, fdArray((a) => m.f(a), p));
    expect(m.vg(p)).toEqual([m.f(p), g]);
    expect(m.pull(p)[1](1)[0]).toEqual(g);
    expect(m.push(p, [0.3, -0.7])[1]).toBeCloseTo(0.3 * g[0] - 0.7 * g[1], 12);
    m.H(p).forEach((row: number[], i: number) => close(row, fdArray((a) => m.df(a)[i], p), 6));
    const J = m.J(p);
    [0, 1].forEach((i) => close(J[i], fdArray((a) => m.toCartesian(a)[i], p)));
    const q = [0.5, -1.5, 2];
    close(m.dg(q), fdArray((a) => m.g(a), q));
    expect(p).toEqual([1.2, 0.4]);
  });

  it("holding anything but numbers are refused, with the tuple's type", () => {
    const r = compile(`import { grad } from "adc";
function f([x, s]: [number, string]): number { return x * x * s.length; }
function pair(a: number): [number, string] { return [a, "k"]; }
function h(a: number): number { const [u, s] = pair(a); return u * s.length; }
export const g = grad(f);
export const gh = grad(h);
`, { fileName: "mixed.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      "mixed.ts(2,12): error ADC1012: array destructuring is supported for number arrays, Float64Array and arrays of arrays or NDArrays, not '[number, string]' - read each element by index",
      "mixed.ts(4,48): error ADC1012: 'pair' returns '[number, string]', numbers mixed with values adc does not differentiate, so no derivative would come out of it - return the numbers alone from the function that is differentiated through (the rest from another), or differentiate it with grad(f, { hasAux: true })",
    ]);
  });
});
