/**
 * customVjp and customJvp (issue 16, item 2), with JAX's semantics: differentiated code that
 * calls such a function uses the user's rule, in every mode the rule gives (customVjp: reverse;
 * customJvp: forward, and reverse through the transposed rule), for numbers, arrays and
 * NDArrays, also for functions adc cannot read. Checked against analytic derivatives, finite
 * differences of the primal where the rule is the true derivative, and forward against reverse.
 */
import { describe, expect, it } from "vitest";
import { ts } from "ts-morph";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { createProject } from "../compiler/program.js";
import { load } from "./helpers/load.js";

const program = `
import { grad, jvp, vjp, valueAndGrad, customVjp, customJvp, record, np, NDArray } from "adc";

/** Gradient clipping: the identity, whose cotangent is clipped to [-1, 1]. */
export const clipGradient = customVjp(
  (x: number) => x,
  (x: number) => [x, null] as const,
  (_res: null, g: number) => [Math.max(-1, Math.min(1, g))] as [number],
);
/** log(1 + e^x), computed stably, with its derivative as a forward rule. */
export const softplus = customJvp(
  (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  ([x]: [number], [t]: [number]) => [Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), t / (1 + Math.exp(-x))] as const,
);
/** round, with the straight-through estimator as its derivative. */
export const roundST = customVjp(
  (x: number) => Math.round(x),
  (x: number) => [Math.round(x), null] as const,
  (_r: null, g: number) => [g] as [number],
);
/** A function adc cannot read (it comes from outside the program), with a rule of two arguments. */
const external = (globalThis as unknown as { externalHypot: (a: number, b: number) => number }).externalHypot;
export const hypot = customVjp(
  (a: number, b: number) => external(a, b),
  (a: number, b: number) => { const h = external(a, b); return [h, [a / h, b / h]] as const; },
  (r: readonly [number, number], g: number) => [r[0] * g, r[1] * g] as [number, number],
);
/** The squared norm of an array, as a forward rule: reverse mode transposes it. */
export const sqNorm = customJvp(
  (v: Float64Array) => { let s = 0; for (let i = 0; i < v.length; i++) s += v[i] * v[i]; return s; },
  ([v]: [Float64Array], [t]: [Float64Array]) => {
    let s = 0;
    let d = 0;
    for (let i = 0; i < v.length; i++) { s += v[i] * v[i]; d += 2 * v[i] * t[i]; }
    return [s, d] as const;
  },
);
/** logsumexp on NDArrays, the residual being the softmax. */
export const lse = customVjp(
  (x: NDArray) => np.logsumexp(x),
  (x: NDArray) => { const out = np.logsumexp(x); return [out, np.exp(np.sub(x, out))] as const; },
  (p: NDArray, g: NDArray) => [np.mul(p, g)] as [NDArray],
);

export function f(x: number): number {
  return 3 * clipGradient(x * x) + softplus(2 * x) + roundST(x) * x + hypot(x, 2);
}
export function g(v: Float64Array, s: number): number {
  return sqNorm(v) * s + softplus(s * v[0]);
}
export const df = grad(f);
export const dg = grad(g, [0, 1]);
export const tangentG = (v: Float64Array, s: number, dv: Float64Array, ds: number) => jvp(g, [v, s], [dv, ds]);
export const dClip = grad(clipGradient);
export const [dSoft, vSoft] = [grad(softplus), valueAndGrad(softplus)];
export const tangentSoft = (x: number) => jvp(softplus, [x], [1]);
export const pullHypot = (a: number, b: number) => vjp(hypot, a, b);
export const dLse = grad((x: NDArray) => np.mul(lse(x), 2));
export function recorded(x: NDArray): NDArray {
  x.attachGrad();
  let l: NDArray = np.zeros([]);
  record(() => {
    l = np.mul(lse(x), 3);
  });
  l.backward();
  return x.grad;
}
export { np };
`;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const softmax = (xs: number[]): number[] => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe("custom rules", () => {
  it("differentiated code uses the rules, in reverse and forward mode, for numbers, arrays, NDArrays and code adc cannot read", async () => {
    const r = compile(program, { fileName: "custom.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    // The user's program type-checks against the API under strict.
    const project = createProject();
    const input = project.createSourceFile("/virtual/custom-in.ts", program);
    expect(input.getPreEmitDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n"))).toEqual([]);
    (globalThis as Record<string, unknown>).externalHypot = (a: number, b: number) => Math.hypot(a, b);
    const m = await load(r.code, "custom.ts");
    for (const x of [0.3, 2, -1.4]) {
      // 3 clip(x^2): the cotangent 3 is clipped to 1, times 2x; softplus(2x): 2 sigmoid(2x);
      // round(x) x, straight through: x + round(x); hypot(x, 2): x / hypot.
      const want = 2 * x + 2 * sigmoid(2 * x) + (x + Math.round(x)) + x / Math.hypot(x, 2);
      expect(m.df(x)).toBeCloseTo(want, 12);
    }
    expect(m.dClip(5)).toBe(1);
    expect(m.dClip(0.25)).toBe(1);
    for (const x of [-30, -1, 0, 1, 40]) {
      expect(m.dSoft(x)).toBeCloseTo(sigmoid(x), 14);
      const [value, slope] = m.vSoft(x);
      expect(value).toBeCloseTo(Math.log1p(Math.exp(x)) || x, 12);
      expect(slope).toBeCloseTo(sigmoid(x), 14);
      expect(m.tangentSoft(x)[1]).toBeCloseTo(sigmoid(x), 14);
    }
    const [h, pull] = m.pullHypot(3, 4);
    expect(h).toBe(5);
    expect(pull(2)).toEqual([1.2, 1.6]);
    // sqNorm: forward rule, transposed in reverse mode; both modes agree with the analytic values.
    const v = new Float64Array([0.5, -1.5, 2]);
    const s = 0.7;
    const [gv, gs] = m.dg(v, s);
    const sq = 0.25 + 2.25 + 4;
    const wantV = [2 * 0.5 * s + s * sigmoid(s * 0.5), 2 * -1.5 * s, 2 * 2 * s];
    Array.from(gv as Float64Array).forEach((x, k) => expect(x).toBeCloseTo(wantV[k], 12));
    expect(gs).toBeCloseTo(sq + 0.5 * sigmoid(s * 0.5), 12);
    const dv = new Float64Array([0.1, 0.2, -0.3]);
    const [, gDot] = m.tangentG(v, s, dv, 0.4);
    expect(gDot).toBeCloseTo(wantV.reduce((a, w, k) => a + w * dv[k], 0) + gs * 0.4, 12);
    // NDArrays, in JAX style and in a record block.
    const xs = [1, 2, 3];
    const want = softmax(xs);
    Array.from(m.dLse(m.np.array(xs)).data as Float64Array).forEach((x, k) => expect(x).toBeCloseTo(2 * want[k], 14));
    Array.from(m.recorded(m.np.array(xs)).data as Float64Array).forEach((x, k) => expect(x).toBeCloseTo(3 * want[k], 14));
  });

  it("second derivatives through a customJvp function differentiate its rule, as in JAX", async () => {
    const source = `import { grad, hessian, jvp, customJvp } from "adc";
// round with a made-up derivative cos(x): derivatives of the rule, not of round, are expected.
export const wavy = customJvp((x: number) => Math.round(x), ([x]: number[], [t]: number[]): [number, number] => [Math.round(x), t * Math.cos(x)]);
function rule2(p: [number, number], t: [number, number]): [number, number] {
  const [a, b] = p;
  return [a * b * b, t[0] * b * b + 2 * a * b * t[1]];
}
export const prod = customJvp((a: number, b: number) => a * b * b, rule2);
export function f(x: number): number { return wavy(x) * x + prod(x, 2 * x); }
export const d2 = grad(grad(f));
export const d2wavy = grad(grad(wavy));
export const H = hessian(prod, 1);
export const hvp = (x: number) => jvp(grad(f), [x], [1]);
`;
    const r = compile(source, { fileName: "custom2.ts" });
    expect(r.diagnostics.map((x) => formatDiagnostic(x))).toEqual([]);
    const m = await load(r.code, "custom2.ts");
    // With the rule's derivatives (wavy' = cos): f' = cos(x) x + round(x) + 12 x^2 and
    // f'' = -sin(x) x + 2 cos(x) + 24 x; round's own would give 1 + 24 x.
    const x = 0.7;
    expect(m.d2(x)).toBeCloseTo(-Math.sin(x) * x + 2 * Math.cos(x) + 24 * x, 12);
    expect(m.d2wavy(x)).toBeCloseTo(-Math.sin(x), 14);
    expect(m.H(1.5, 2)).toBe(3);
    expect(m.hvp(x)[1]).toBeCloseTo(m.d2(x), 12);
  });

  it("refuses what the rules do not give: forward mode of a customVjp function; second derivatives; a rule not at module level", () => {
    const d = (source: string): string => compile(`import { grad, jvp, customVjp } from "adc";\n${source}`, { fileName: "m.ts" }).diagnostics.map((x) => formatDiagnostic(x)).join("\n");
    expect(d(`export const c = customVjp((x: number) => x, (x: number) => [x, 0] as const, (_r: number, g: number) => [g] as [number]);
export const t = (x: number) => jvp((y: number) => c(y) * y, [x], [1]);`)).toContain("error ADC1026: 'c' has a customVjp rule, which gives no forward-mode derivative (jvp, jacfwd, second derivatives), as in JAX - define it with customJvp");
    expect(d(`export const c = customVjp((x: number) => x * x, (x: number) => [x * x, x] as const, (x: number, g: number) => [2 * x * g] as [number]);
export const h = grad(grad((y: number) => c(y) * y));`)).toContain("error ADC1026: a higher derivative through 'c', which has a custom rule, is not supported");
    // A customJvp rule adc cannot read is fine to first order, refused to second.
    expect(d(`import { customJvp } from "adc";
declare function opaqueRule(p: [number], t: [number]): [number, number];
export const s = customJvp((x: number) => x * x, opaqueRule);
export const g1 = grad((y: number) => s(y) * y);
export const h = grad(grad((y: number) => s(y) * y));`)).toMatch(/error ADC1026: a higher derivative through 's' differentiates its customJvp rule, but adc cannot read the rule: 'opaqueRule' has no body/);
    expect(d(`export function run(x: number): number {
  const c = customVjp((y: number) => y, (y: number) => [y, 0] as const, (_r: number, g: number) => [g] as [number]);
  return grad((y: number) => c(y) * y)(x);
}`)).toContain("error ADC1016: a customVjp function must be a module-level const");
  });
});
