/**
 * `grad(f, { hasAux: true })` and `valueAndGrad(f, { hasAux: true })` (issue 16, item 3): f returns
 * `[value, aux]`; the value is differentiated, aux comes back as computed, in JAX's layout
 * (`[gradient, aux]`, `[[value, aux], gradient]`). Gradients are checked against finite
 * differences and against the same function without aux; the API's types under strict; the
 * options spelled every way JAX users write them; refusals.
 */
import { describe, expect, it } from "vitest";
import { ts } from "ts-morph";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { createProject } from "../compiler/program.js";
import { load } from "./helpers/load.js";
import { fdGradient, flatten } from "./helpers/pytree.js";

const program = `
import { grad, valueAndGrad, np, NDArray } from "adc";

export function fit(w: number[], xs: number[], ys: number[]): [number, { mse: number; maxErr: number; residuals: number[] }] {
  let s = 0;
  let maxErr = 0;
  const residuals: number[] = new Array(xs.length).fill(0);
  for (let i = 0; i < xs.length; i++) {
    const e = w[0] * Math.sin(xs[i]) + w[1] - ys[i];
    s += e * e;
    maxErr = Math.max(maxErr, Math.abs(e));
    residuals[i] = e;
  }
  if (s > 100) return [Math.sqrt(s), { mse: s / xs.length, maxErr, residuals }];
  return [s / xs.length, { mse: s / xs.length, maxErr, residuals }];
}
export function fitValue(w: number[], xs: number[], ys: number[]): number {
  return fit(w, xs, ys)[0];
}
export const gradAux = grad(fit, { hasAux: true });
export const gradAuxXs = grad(fit, 1, { hasAux: true });
export const both = valueAndGrad(fit, { argnums: [0, 2], hasAux: true });

export class Model {
  constructor(public W: NDArray) {}
  predict(X: NDArray): NDArray { return np.tanh(np.dot(X, this.W)); }
}
export const modelLoss = (m: Model, X: NDArray, y: NDArray) => {
  const yHat = m.predict(X);
  return [np.mean(np.square(np.sub(yHat, y))), { yHat, correct: np.equal(np.sign(yHat), np.sign(y)) }] as const;
};
export const modelGrad = valueAndGrad(modelLoss, { hasAux: true });
export const plainArgnums = grad((a: number, b: number) => a * Math.exp(b), { argnums: 1 });
export { np };
`;

describe("hasAux", () => {
  it("the value's gradient, with aux as computed, in JAX's layout; types check under strict", async () => {
    const r = compile(program, { fileName: "aux.ts" });
    expect(r.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
    const project = createProject();
    const input = project.createSourceFile("/virtual/aux-in.ts", `${program}
const [g, aux] = gradAux([1, 2], [0.5], [1]);
const checked: [number[], number, number[]] = [g, aux.maxErr, aux.residuals];
const [[v, aux2], [gw, gys]] = both([1, 2], [0.5], [1]);
const more: number = v + aux2.mse + gw[0] + gys[0];
const [[l, extra], gm] = modelGrad(new Model(np.zeros([2, 1])), np.zeros([1, 2]), np.zeros([1, 1]));
const nd: NDArray[] = [gm.W, extra.yHat, extra.correct];
const b: number = plainArgnums(1, 2) + l;
void [checked, more, nd, b];
`);
    const out = project.createSourceFile("/virtual/aux-out.ts", r.code);
    const errors = [input, out].flatMap((f) => f.getPreEmitDiagnostics().map((d) => `${f.getBaseName()}: ${ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n")}`));
    expect(errors).toEqual([]);

    const m = await load(r.code, "aux.ts");
    const w = [0.7, -0.3];
    const xs = [0.1, 0.9, 2.3, -1.2];
    const ys = [0.5, 0.2, 0.8, -0.4];
    for (const scale of [1, 10]) {
      const ysScaled = ys.map((y) => y * scale); // scale 10 takes the other return
      const fresh = (): unknown[] => [w.slice(), xs.slice(), ysScaled.slice()];
      const [g, aux] = m.gradAux(...fresh());
      const [value, want] = m.fit(...fresh());
      expect(aux).toEqual(want);
      expect(flatten(g).map((x) => +x.toFixed(7))).toEqual(fdGradient(m.fitValue, fresh, 0).map((x) => +x.toFixed(7)));
      const [gx, auxX] = m.gradAuxXs(...fresh());
      expect(auxX).toEqual(want);
      expect(flatten(gx).map((x) => +x.toFixed(6))).toEqual(fdGradient(m.fitValue, fresh, 1).map((x) => +x.toFixed(6)));
      const [[v, aux2], [gw, gys]] = m.both(...fresh());
      expect(v).toBe(value);
      expect(aux2).toEqual(want);
      expect(gw).toEqual(g);
      expect(flatten(gys).map((x) => +x.toFixed(6))).toEqual(fdGradient(m.fitValue, fresh, 2).map((x) => +x.toFixed(6)));
    }
    // NDArrays in aux, a model as the parameter.
    const np = m.np;
    const X = np.array([[0.5, -1], [2, 0.3], [-0.7, 0.8]]);
    const y = np.array([[0.2], [-0.5], [0.9]]);
    const model = new m.Model(np.array([[0.4], [-0.6]]));
    const [[l, extra], gm] = m.modelGrad(model, X, y);
    const [l0, extra0] = m.modelLoss(model, X, y);
    expect(l).toBeCloseTo(l0.item(), 14);
    expect(Array.from(extra.yHat.data)).toEqual(Array.from(extra0.yHat.data));
    expect(Array.from(extra.correct.data)).toEqual(Array.from(extra0.correct.data));
    const fd = fdGradient((mm: any) => m.modelLoss(mm, X, y)[0].item(), () => [new m.Model(np.array([[0.4], [-0.6]]))], 0);
    flatten(gm).forEach((g, k) => expect(g).toBeCloseTo(fd[k], 7));
    expect(m.plainArgnums(1.5, 0.25)).toBeCloseTo(1.5 * Math.exp(0.25), 14);
  });

  it("refuses a function that does not return a pair, and options that are not literals", () => {
    const d = (source: string): string => compile(`import { grad, valueAndGrad } from "adc";\n${source}`, { fileName: "m.ts" }).diagnostics.map((x) => formatDiagnostic(x)).join("\n");
    expect(d(`export const g = grad((x: number) => x * x, { hasAux: true } as never);`)).toContain("error ADC1007: with hasAux, the function must return a pair [value, aux]");
    expect(d(`function f(x: number): [number, number] { const t: [number, number] = [x * x, 1]; return t; }
export const g = grad(f, { hasAux: true });`)).toContain("error ADC1007: with hasAux, every return must be a pair written out: return [value, aux]");
    expect(d(`const flag = Math.random() > 0.5;
export const g = grad((x: number) => [x * x, 1] as const, { hasAux: flag } as never);`)).toContain("error ADC1006: hasAux must be the literal true or false");
    expect(d(`export const g = grad((x: number) => x * x, { argnums: 0, lr: 1 } as never);`)).toContain("error ADC1006: grad's options are { argnums, hasAux }");
    expect(d(`export const g = grad((x: number, y: number) => x * y, { argnums: 1 }, { argnums: 0 } as never);`)).toContain("error ADC1006: argnums goes in the options object or before it, not after");
  });
});
