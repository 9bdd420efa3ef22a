/**
 * checkGrads, as a user calls it (compiled from source, then run) and the runtime checker on its
 * own with derivatives broken on purpose, so each mode is shown to fail when it should.
 */
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/index.js";
import { checkGrads } from "../runtime/check.js";
import { load } from "./helpers/load.js";
import { strictErrors } from "./helpers/strict.js";

const program = `
import { checkGrads, grad, np, NDArray, stopGradient } from "adc";
function f(x: number, y: number[]): number {
  let s = Math.sin(x);
  for (let i = 0; i < y.length; i++) s += y[i] * y[i] * x;
  return s;
}
export const plain = () => checkGrads(f, [0.7, [1, 2, 3]]);
export const secondOrder = () => [checkGrads(grad(f, 1), [0.7, [1, 2, 3]]), checkGrads(grad(f), [0.7, [1, 2, 3]])];
const g = (a: Float64Array): Float64Array => { const o = new Float64Array(a.length); for (let i = 0; i < a.length; i++) o[i] = Math.exp(a[i]) * a[0]; return o; };
export const vector = () => checkGrads(g, [new Float64Array([0.1, 0.2])], { modes: ["rev"] });
const h = (w: NDArray) => np.sum(np.tanh(np.mul(w, w)));
export const nd = () => checkGrads(h, [np.array([0.3, -0.4])]);
export function fit(xs: number[]) {
  const loss = (w: number) => { let s = 0; for (const x of xs) s += (w * x - 1) ** 2; return s; };
  return checkGrads(loss, [0.5]);
}
function scale(a: number[], k: number): number { for (let i = 0; i < a.length; i++) a[i] *= k; return a[0] * a[1]; }
export function writes(a: number[]) { return checkGrads(scale, [a, 3]); }
const hidden = (x: number) => stopGradient(x) * x;
export const wrong = (modes: ("fwd" | "rev")[]) => checkGrads(hidden, [2], { modes });
export const order2 = () => checkGrads(f, [1, [1]], { order: 2 });
class Dense {
  constructor(public W: NDArray, public b: number) {}
  forward(x: NDArray): NDArray { return np.add(np.matmul(x, this.W), this.b); }
}
const model = (n: Dense, x: NDArray) => np.sum(np.tanh(n.forward(x))).item();
const power = (x: number, k: number) => x ** k;
export const fixedExponent = () => checkGrads(power, [-0.3, 2], { argnums: [0] });
export const classArg = (argnums?: number[]) => checkGrads(model, [new Dense(np.array([[0.3, -0.2], [0.5, 0.1]]), 0.2), np.array([[1, 2]])], argnums ? { argnums } : {});
`;

describe("checkGrads", () => {
  it("passes compiled derivatives of numbers, arrays, Float64Array, NDArray, a closure and grad(f, i) (second order)", async () => {
    const code = compile(program, { fileName: "check.ts" }).code;
    // The output type-checks: the generated f_jvpPair and f_vjp take f's own parameter types.
    expect(strictErrors({ "check-in.ts": program, "check-out.ts": code })).toEqual([]);
    const m = await load(code, "check.ts");
    const reports = [m.plain(), ...m.secondOrder(), m.vector(), m.nd(), m.fit([1, 2])];
    for (const r of reports) {
      expect(r.checks.length).toBeGreaterThan(0);
      for (const c of r.checks) expect(c.error).toBeLessThanOrEqual(c.tolerance);
    }
    expect(reports[3].checks.map((c: { mode: string }) => c.mode)).toEqual(["value", "rev"]);
    const a = [1, 2];
    m.writes(a);
    expect(a).toEqual([1, 2]); // every call gets copies: the caller's array is untouched
  });

  it("takes a class instance (a model) as an argument, perturbed or not: the copies it evaluates are instances of the class", async () => {
    const m = await load(compile(program, { fileName: "check.ts" }).code, "check.ts");
    for (const r of [m.classArg(), m.classArg([1])]) expect(r.checks.map((c: { mode: string }) => c.mode)).toEqual(["value", "fwd", "value", "rev"]);
  });

  it("with argnums, the arguments left out carry no tangent (x ** k at a negative x: a zero tangent for k would meet log(x) = NaN)", async () => {
    const m = await load(compile(program, { fileName: "check.ts" }).code, "check.ts");
    expect(m.fixedExponent().checks.map((c: { mode: string }) => c.mode)).toEqual(["value", "fwd", "value", "rev"]);
  });

  it("fails, naming the mode, where a derivative is not the function's (stopGradient hides a dependence)", async () => {
    const m = await load(compile(program, { fileName: "check.ts" }).code, "check.ts");
    expect(() => m.wrong(["fwd"])).toThrow(/forward mode \(jvp\) of hidden disagrees with central finite differences at output entry 0: -?[\d.]+ against -?[\d.]+/);
    expect(() => m.wrong(["rev"])).toThrow(/reverse mode \(vjp\) of hidden disagrees/);
    expect(() => m.order2()).toThrow(/order 2 is not an option; check a second derivative as checkGrads\(grad\(f, i\), args\)/);
  });

  it("checks a customVjp rule in reverse mode alone (modes: [\"rev\"]): a right rule passes, a wrong one fails", async () => {
    const source = `import { checkGrads, customVjp } from "adc";
const right = customVjp((x: number) => x * x, (x: number) => [x * x, x] as const, (x: number, g: number) => [2 * x * g] as [number]);
const wrong = customVjp((x: number) => x * x, (x: number) => [x * x, x] as const, (x: number, g: number) => [3 * x * g] as [number]);
function usesRight(x: number): number { return right(x) + x; }
function usesWrong(x: number): number { return wrong(x) + x; }
export const checkRight = () => checkGrads(usesRight, [0.7], { modes: ["rev"] });
export const checkWrong = () => checkGrads(usesWrong, [0.7], { modes: ["rev"] });
`;
    const r = compile(source, { fileName: "check-custom.ts" });
    expect(r.diagnostics).toEqual([]);
    expect(strictErrors({ "check-custom-in.ts": source, "check-custom-out.ts": r.code })).toEqual([]);
    const m = await load(r.code, "check-custom.ts");
    expect(m.checkRight().checks.map((c: { mode: string }) => c.mode)).toEqual(["value", "rev"]);
    expect(() => m.checkWrong()).toThrow(/reverse mode/);
  });

  it("the runtime checker catches a jvp or vjp off by a factor, and a wrong value", () => {
    const f = (x: number[]) => x.map((v) => v * v);
    const jvp = (k: number) => (p: unknown[], t: unknown[]): [unknown, unknown] => {
      const x = p[0] as number[];
      return [f(x), x.map((v, i) => k * 2 * v * (t[0] as number[])[i])];
    };
    const vjp = (k: number, shift = 0) => (...p: unknown[]): [unknown, (u: unknown) => unknown[]] => {
      const x = p[0] as number[];
      return [f(x).map((v) => v + shift), (u) => [x.map((v, i) => k * 2 * v * (u as number[])[i])]];
    };
    const x = [0.5, -1.5, 2];
    expect(checkGrads(f, jvp(1), vjp(1), [true], [x]).checks.every((c) => c.error <= c.tolerance)).toBe(true);
    expect(() => checkGrads(f, jvp(1.001), vjp(1), [true], [x])).toThrow(/forward mode/);
    expect(() => checkGrads(f, jvp(1), vjp(1.001), [true], [x])).toThrow(/reverse mode/);
    expect(() => checkGrads(f, jvp(1), vjp(1, 1e-3), [true], [x], { modes: ["rev"] })).toThrow(/returned a value that is not f's/);
    // A looser tolerance accepts what the default refuses.
    expect(() => checkGrads(f, jvp(1.001), vjp(1), [true], [x], { rtol: 1e-2 })).not.toThrow();
  });

  it("refuses an argument with no derivative to check (a string, a boolean inside an array), naming it and the function, instead of comparing NaN", () => {
    const f = function sq(x: unknown) { return (x as number) * (x as number); };
    const jvp = (p: unknown[], t: unknown[]): [unknown, unknown] => [f(p[0]), 2 * (p[0] as number) * (t[0] as number)];
    const vjp = (...p: unknown[]): [unknown, (u: unknown) => unknown[]] => [f(p[0]), (u) => [2 * (p[0] as number) * (u as number)]];
    expect(() => checkGrads(f, jvp, vjp, [true], ["a"])).toThrow(/^checkGrads: argument 0 of sq is a string \("a"\), not a number, a number array, a Float64Array or an NDArray/);
    expect(() => checkGrads(f, jvp, vjp, [true], [[1, true]])).toThrow(/^checkGrads: argument 0 of sq holds a boolean \(true\) at \[1\], not a number/);
    expect(() => checkGrads(f, jvp, vjp, [true], [new Int32Array(2)])).toThrow(/argument 0 of sq is an Int32Array/);
    // An argument that is not differentiated (an index, a label) may be anything.
    const g = (x: number, label: string) => x * x + label.length;
    const gj = (p: unknown[], t: unknown[]): [unknown, unknown] => [g(p[0] as number, p[1] as string), 2 * (p[0] as number) * (t[0] as number)];
    const gv = (...p: unknown[]): [unknown, (u: unknown) => unknown[]] => [g(p[0] as number, p[1] as string), (u) => [2 * (p[0] as number) * (u as number), null]];
    expect(checkGrads(g, gj, gv, [true, false], [0.5, "a"]).checks.every((c) => c.error <= c.tolerance)).toBe(true);
  });
});
