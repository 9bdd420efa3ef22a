/**
 * Jacobians of NDArray functions, as in JAX: one NDArray of shape output shape ++ input shape (a
 * number's shape is []), from jacrev (a pullback per output entry)
 * and jacfwd (a tangent evaluation per input entry), each entry against central finite
 * differences and against the other mode; argnums lists, a number output, mixed NDArray and
 * number arguments, and jacrevInto's row-major block.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { strictErrors } from "./helpers/strict.js";
import { load, type Loaded } from "./helpers/load.js";

const SOURCE = `
import { jacrev, jacfwd, jacrevInto, jacfwdInto, np, NDArray } from "adc";

/** Elementwise and a matrix product: R^(2x3) -> R^(2x2). */
export function layer(x: NDArray, w: NDArray): NDArray {
  return np.tanh(np.matmul(x, w.T)).mul(x.sum(1, true));
}
/** R^(2x3) x R -> R^(2x3). */
export function scaled(x: NDArray, s: number): NDArray {
  return np.sin(x.mul(s)).add(x.mul(x));
}
/** R^(2x3) -> R: the Jacobian is the gradient, shaped like x. */
export function energy(x: NDArray): number {
  return np.sum(np.exp(x.mul(0.5))).item();
}
/** A vector to a vector: R^3 -> R^3. */
export function lift(v: NDArray): NDArray {
  return v.mul(v).add(np.sin(v));
}

export const J = {
  layerRev: jacrev(layer, [0, 1]), layerFwd: jacfwd(layer, [0, 1]),
  scaledRev: jacrev(scaled, [0, 1]), scaledFwd: jacfwd(scaled, [0, 1]),
  energyRev: jacrev(energy), energyFwd: jacfwd(energy),
  liftRev: jacrev(lift), liftFwd: jacfwd(lift),
  scaledInto: jacrevInto(scaled, [0, 1]), scaledFwdInto: jacfwdInto(scaled, [0, 1]),
};
export const make = (values: number[], shape: number[]): NDArray => np.reshape(np.array(values), shape);

// The types a user sees.
const one: NDArray = J.energyRev(make([1, 2, 3, 4, 5, 6], [2, 3]));
const [jx, js]: [NDArray, NDArray] = J.scaledRev(make([1, 2, 3, 4, 5, 6], [2, 3]), 2);
void one; void jx; void js;
`;

type Nd = { data: Float64Array; shape: readonly number[] };
type Arg = Nd | number | Float64Array;

const flat = (v: unknown): number[] => (typeof v === "number" ? [v] : Array.from((v as Nd).data ?? (v as Float64Array)));

/** Central differences of f with respect to argument k: the m x n block, row-major. */
function fdBlock(f: (...a: unknown[]) => unknown, args: Arg[], k: number, mk: (d: number[], s: number[]) => Nd): number[] {
  const h = 1e-6;
  const x = args[k];
  const base = flat(x);
  const cols: number[][] = [];
  for (let j = 0; j < base.length; j++) {
    const at = (d: number): number[] => {
      const v = base.slice();
      v[j] += d;
      const a = args.slice();
      a[k] = typeof x === "number" ? v[0] : x instanceof Float64Array ? Float64Array.from(v) : mk(v, [...(x as Nd).shape]);
      return flat(f(...a));
    };
    const p = at(h), q = at(-h);
    cols.push(p.map((y, i) => (y - q[i]) / (2 * h)));
  }
  const m = cols.length ? cols[0].length : 0;
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (const c of cols) out.push(c[i]);
  return out;
}

function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let k = 0; k < want.length; k++) expect(Math.abs(got[k] - want[k]), `${what} [${k}]`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[k])));
}

describe("Jacobians of NDArray functions", () => {
  let m: Loaded;
  it("compile as a user writes them; input and output type-check under strict", async () => {
    const r = compile(SOURCE, { fileName: "jac-nd.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "jac-nd-in.ts": SOURCE, "jac-nd-out.ts": r.code })).toEqual([]);
    m = await load(r.code, "jac-nd.ts");
  });

  it("are output shape ++ input shape, equal to finite differences and to each other", () => {
    const mk = m.make as (d: number[], s: number[]) => Nd;
    const x = (): Nd => mk([0.3, -0.7, 1.1, 0.2, 0.5, -0.4], [2, 3]);
    const w = mk([0.1, 0.2, -0.3, 0.4, -0.5, 0.6], [2, 3]);
    const cases: [string, (...a: unknown[]) => unknown, Arg[], number[][]][] = [
      ["layer", m.layer, [x(), w], [[2, 2, 2, 3], [2, 2, 2, 3]]],
      ["scaled", m.scaled, [x(), 1.3], [[2, 3, 2, 3], [2, 3]]],
      ["energy", m.energy, [x()], [[2, 3]]],
      ["lift", m.lift, [mk([0.3, -0.7, 1.1], [3])], [[3, 3]]],
    ];
    for (const [name, f, args, shapes] of cases) {
      const rev = m.J[`${name}Rev`](...args);
      const fwd = m.J[`${name}Fwd`](...args);
      const rs = shapes.length > 1 || name === "layer" || name === "scaled" ? rev : [rev];
      const fs = shapes.length > 1 || name === "layer" || name === "scaled" ? fwd : [fwd];
      shapes.forEach((shape, k) => {
        expect([...rs[k].shape], `${name} ${k}`).toEqual(shape);
        expect([...fs[k].shape], `${name} ${k}`).toEqual(shape);
        closeTo(rs[k].data, fdBlock(f, args, k, mk), 1e-6, `${name} rev ${k}`);
        closeTo(fs[k].data, rs[k].data, 1e-12, `${name} fwd ${k}`);
      });
    }
  });

  it("jacrevInto and jacfwdInto write the same entries as one row-major block", () => {
    const mk = m.make as (d: number[], s: number[]) => Nd;
    const x = mk([0.3, -0.7, 1.1, 0.2, 0.5, -0.4], [2, 3]);
    const [jx, js] = m.J.scaledRev(x, 1.3);
    for (const into of [m.J.scaledInto, m.J.scaledFwdInto]) {
      const J = new Float64Array(6 * 7 + 2).fill(NaN);
      into(J, 1, x, 1.3);
      expect(Number.isNaN(J[0]) && Number.isNaN(J[43])).toBe(true);
      for (let i = 0; i < 6; i++) {
        closeTo(J.subarray(1 + i * 7, 1 + i * 7 + 6), jx.data.subarray(i * 6, i * 6 + 6), 1e-12, `row ${i}`);
        expect(Math.abs(J[1 + i * 7 + 6] - js.data[i])).toBeLessThan(1e-12);
      }
      expect(() => into(new Float64Array(41), 0, x, 1.3)).toThrow(RangeError);
    }
  });
});
