/**
 * Second and third derivatives through every NDArray operation that has a tangent rule written
 * as IR (compiler/rules/nd-tangents.ts), as JAX's check_grads(order=2) does for its primitives.
 * Each row applies one op inside s(x) = sum(sin(op(x))) + 0.3 sum(op(x)^2), so that the op's
 * tangent and its adjoint both take part in the Hessian even for a linear op. Checked:
 * - hessian(s)(x) against central differences of grad(s), column by column;
 * - jvp(grad(s), [x], [v]) and vjp(grad(s), x) against that Hessian;
 * - the third derivative of t -> s(t x) against central differences of its second.
 * The table is checked against the rules, so an op given a rule without a row fails here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { ndTangentOps } from "../compiler/rules/nd-tangents.js";
import type { NDArray } from "../runtime/index.js";
import { load, type Loaded } from "./helpers/load.js";

/** The op applied to x (shape [2, 3]); `positive`: x drawn with every entry > 0. */
interface Row {
  readonly expr: string;
  readonly positive?: boolean;
}

const TABLE: Record<string, Row> = {
  neg: { expr: "x.neg()" },
  square: { expr: "x.square()" },
  exp: { expr: "x.exp()" },
  log: { expr: "x.log()", positive: true },
  sqrt: { expr: "x.sqrt()", positive: true },
  sin: { expr: "x.sin()" },
  cos: { expr: "x.cos()" },
  tanh: { expr: "x.tanh()" },
  sigmoid: { expr: "x.sigmoid()" },
  relu: { expr: "x.relu().add(x.mul(0.1))" },
  log1p: { expr: "x.log1p()", positive: true },
  sign: { expr: "x.sign().mul(x)" },
  abs: { expr: "x.abs()" },
  // Both operands carry derivatives and broadcast ([2, 3] against [3]); then one does ([2, 1]).
  add: { expr: "np.add(x, x.sum(0).mul(0.3)).add(C21)" },
  sub: { expr: "np.sub(x, x.sum(0).mul(0.3)).sub(C21)" },
  mul: { expr: "np.mul(x, x.sum(0).mul(0.3)).mul(C21)" },
  div: { expr: "np.div(x, x.square().sum(0).add(1)).div(C21)" },
  // With zero bases and zero exponents (Z), whose derivatives are taken as 0, and a literal exponent.
  pow: { expr: "np.pow(x, x.mul(0.3).add(1)).add(np.pow(Z, x)).add(np.pow(x, Z)).add(np.pow(x, 3))", positive: true },
  maximum: { expr: "np.maximum(x, x.mul(-0.5).add(0.2)).add(np.maximum(x, C21))" },
  minimum: { expr: "np.minimum(x, x.mul(-0.5).add(0.2)).add(np.minimum(x, C21))" },
  where: { expr: "np.where(np.greater(C23, 0), x.sin(), x.square())" },
  sum: { expr: "x.sum(1)" },
  mean: { expr: "x.mean(0, true)" },
  max: { expr: "x.max(1)" },
  min: { expr: "x.min(0, true)" },
  var: { expr: "x.var(1)" },
  std: { expr: "x.std(0)" },
  logsumexp: { expr: "x.logsumexp(1)" },
  softmax: { expr: "x.softmax()" },
  logSoftmax: { expr: "x.logSoftmax(0)" },
  clip: { expr: "x.clip(-0.5, 0.6).add(x.clip(null, 0.2))" },
  dot: { expr: "x.reshape([6]).dot(x.reshape([6]).sin())" },
  matmul: { expr: "x.matmul(x.T).add(C23.matmul(x.T))" },
  norm: { expr: "np.linalg.norm(x)" },
  reshape: { expr: "x.reshape([3, 2])" },
  transpose: { expr: "x.transpose()" },
  expandDims: { expr: "x.expandDims(0)" },
  squeeze: { expr: "x.reshape([1, 6]).squeeze()" },
  astype: { expr: 'x.astype("float64")' },
  copy: { expr: "x.copy()" },
  slice: { expr: "x.slice([0, 1], [2, 3])" },
  index: { expr: "x.index(1)" },
  item: { expr: "x.index(1).index(2).item()" },
  take: { expr: "x.take([0, 2], 1)" },
  pick: { expr: "x.pick([2, 0], 1)" },
  concat: { expr: "np.concat([x, x.sin(), C23], 0)" },
  stack: { expr: "np.stack([x, C23, x.square()])" },
  // np.array of a Float64Array whose entries carry derivatives (filled from x, entry by entry).
  fromArray: { expr: "np.array(entriesOf(x)).reshape([2, 3]).mul(x.sum())" },
};

const OPS = Object.keys(TABLE);
const X = [[0.3, -0.7, 1.1], [0.5, 0.9, -0.4]];
const XP = [[0.3, 0.7, 1.1], [0.5, 0.9, 1.4]];

function source(): string {
  const lines = ['import { grad, hessian, jvp, vjp, np, NDArray } from "adc";', "const C21 = np.array([[0.4], [-0.6]]);", "const C23 = np.array([[0.2, -0.5, 0.8], [-0.3, 0.6, 0.1]]);", "const Z = np.array([[0, 2, 1.5], [0.5, 0, 3]]);", "function entriesOf(x: NDArray): Float64Array { const a = new Float64Array(6); const f = x.reshape([6]); for (let i = 0; i < 6; i++) a[i] = f.get(i).item(); return a; }"];
  OPS.forEach((op, k) => {
    lines.push(
      `function s${k}(x: NDArray): number { const o = ${TABLE[op].expr}; return np.sin(o).sum().item() + np.square(o).sum().item() * 0.3; }`,
      `function g${k}(t: number, x: NDArray): number { return s${k}(x.mul(t)); }`,
      `export const grad${k} = grad(s${k});`,
      `export const hess${k} = hessian(s${k});`,
      `export const hvp${k} = (x: NDArray, v: NDArray) => jvp(grad(s${k}), [x], [v])[1];`,
      `export const vhp${k} = (x: NDArray, u: NDArray) => vjp(grad(s${k}), x)[1](u)[0];`,
      `export const second${k} = grad(grad(g${k}));`,
      `export const third${k} = grad(grad(grad(g${k})));`,
    );
  });
  // hessian of a function returning a one-element NDArray (as grad accepts), and its .item() twin.
  lines.push(
    "function one(x: NDArray): NDArray { return x.sin().mul(x.sum()).sum(); }",
    "export const hessOne = hessian(one);",
    "export const hessItem = hessian((x: NDArray) => one(x).item());",
  );
  // The module's own np: an NDArray made by another copy of the runtime would not be one to it.
  lines.push("export { np };");
  return lines.join("\n") + "\n";
}

let m: Loaded;
let np: { array(x: unknown): NDArray };
beforeAll(async () => {
  const r = compile(source(), { fileName: "nd-second-order.ts" });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  m = await load(r.code, "nd-second-order.ts");
  np = m.np as typeof np;
}, 120_000);

const flat = (a: NDArray): number[] => Array.from(a.copy().data);
const fn = (name: string, k: number) => m[`${name}${k}`] as (...args: unknown[]) => unknown;

describe("NDArray second derivatives", () => {
  it("every op with an IR tangent rule has a row, and every row a rule", () => {
    expect([...OPS].sort()).toEqual([...ndTangentOps()].sort());
  });

  it("hessian of a function returning a one-element NDArray is that of the number it holds", () => {
    const x = np.array(X);
    const a = flat((m.hessOne as (x: NDArray) => NDArray)(x));
    const b = flat((m.hessItem as (x: NDArray) => NDArray)(x));
    expect(a.length).toBe(36);
    expect(a).toEqual(b);
    expect(a.some((v) => v !== 0)).toBe(true);
  });

  OPS.forEach((op, k) => {
    it(`${op}: the Hessian against differences of the gradient, and the Hessian-vector products against it`, () => {
      const x0 = TABLE[op].positive ? XP : X;
      const x = np.array(x0);
      const H = flat(fn("hess", k)(x) as NDArray);
      expect((fn("hess", k)(x) as NDArray).shape).toEqual([2, 3, 2, 3]);
      const h = 1e-5;
      for (let j = 0; j < 6; j++) {
        const at = (d: number): number[] => {
          const xs = x0.flat();
          xs[j] += d;
          return flat(fn("grad", k)(np.array(xs).reshape([2, 3])) as NDArray);
        };
        const [up, down] = [at(h), at(-h)];
        for (let i = 0; i < 6; i++) {
          const fd = (up[i] - down[i]) / (2 * h);
          expect(Math.abs(H[i * 6 + j] - fd), `${op}: H[${i}, ${j}] = ${H[i * 6 + j]}, differences give ${fd}`).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
        }
      }
      const v = np.array([[0.5, -1, 0.25], [2, 0.1, -0.3]]);
      const hv = flat(fn("hvp", k)(x, v) as NDArray);
      const uh = flat(fn("vhp", k)(x, v) as NDArray);
      const vs = flat(v);
      for (let i = 0; i < 6; i++) {
        const want = vs.reduce((s, vj, j) => s + H[i * 6 + j] * vj, 0);
        expect(hv[i]).toBeCloseTo(want, 9);
        expect(uh[i]).toBeCloseTo(want, 9);
      }
    });

    it(`${op}: the third derivative along a ray against differences of the second`, () => {
      const x = np.array(TABLE[op].positive ? XP : X);
      const h = 1e-5;
      for (const t of [0.8, 1.1]) {
        const fd = ((fn("second", k)(t + h, x) as number) - (fn("second", k)(t - h, x) as number)) / (2 * h);
        const d3 = fn("third", k)(t, x) as number;
        expect(Math.abs(d3 - fd), `${op} at t = ${t}: ${d3}, differences give ${fd}`).toBeLessThan(1e-5 * (1 + Math.abs(fd)));
      }
    });
  });
});
