/**
 * jacfwd, jacrev and jacobian as a user calls them: every pairing of number, number[] and
 * Float64Array inputs and outputs, checked entry by entry against central finite differences
 * and against each other, with JAX's layout (a row per output entry, shaped like the input) and
 * the types of runtime/api.ts; argnums, a closure's captured locals, a function that writes its
 * array argument (the Jacobian at the point given; the caller's array ends as one run of the
 * function leaves it, docs/semantics.md), loops and branches; and the refusals.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { strictErrors } from "./helpers/strict.js";
import { load, type Loaded } from "./helpers/load.js";

const SOURCE = `
import { jacfwd, jacrev, jacobian } from "adc";

/** R^3 -> R^2, with a loop and a branch. */
export function field(x: Float64Array, s: number): Float64Array {
  const out = new Float64Array(2);
  for (let i = 0; i < x.length; i++) {
    out[0] += Math.sin(x[i] * s);
    out[1] += i % 2 === 0 ? x[i] * x[i] : Math.exp(-x[i]) * s;
  }
  return out;
}
/** R^3 -> R (a gradient). */
export function energy(x: number[]): number {
  let e = 0;
  for (let i = 0; i + 1 < x.length; i++) e += (x[i + 1] - x[i]) ** 2 * x[i];
  return e;
}
/** R -> R^3 (a curve). */
export function curve(t: number): number[] {
  return [Math.cos(t), Math.sin(t), t * t];
}
/** R -> R. */
export function scalar(t: number): number {
  return Math.tanh(t) * t;
}
/** Writes into its argument: the caller's array must stay as it was. */
export function normalize(v: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = v[i] / n;
  return v.slice();
}

/** Several number parameters: straight-line, and with a loop whose reverse sweep restores values. */
export function pair(a: number, b: number): number[] {
  return [a * b, a + b];
}
export function spiral(r: number, t: number, s: number): number[] {
  const out = [0, 0, 0];
  let q = r;
  for (let i = 0; i < 3; i++) {
    q = q * Math.cos(t) + s;
    out[i] = q * q;
  }
  return out;
}

export const J = {
  pairRev: jacrev(pair, [0, 1]), pairFwd: jacfwd(pair, [0, 1]),
  spiralRev: jacrev(spiral, [0, 1, 2]), spiralFwd: jacfwd(spiral, [2, 0, 1]),
  fieldRev: jacrev(field), fieldFwd: jacfwd(field), fieldS: jacfwd(field, 1), fieldSRev: jacobian(field, 1),
  energyRev: jacrev(energy), energyFwd: jacfwd(energy),
  curveRev: jacrev(curve), curveFwd: jacfwd(curve),
  scalarRev: jacrev(scalar), scalarFwd: jacfwd(scalar),
  normRev: jacrev(normalize), normFwd: jacfwd(normalize),
  bothRev: jacrev(field, [0, 1]), bothFwd: jacfwd(field, [1, 0]), oneRev: jacobian(field, [0]),
  // The same parameters in the other order, in the same module: their own functions.
  swappedRev: jacrev(field, [1, 0]), straightFwd: jacfwd(field, [0, 1]),
};

/** A closure over the caller's locals. */
export function fitJacobian(xs: number[], w: Float64Array): Float64Array[] {
  const model = (p: Float64Array): Float64Array => {
    const r = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) r[i] = p[0] * Math.exp(p[1] * xs[i]);
    return r;
  };
  return jacrev(model)(w);
}

// The types a user sees.
const a: Float64Array[] = J.fieldRev(new Float64Array(3), 1);
const b: Float64Array = J.fieldS(new Float64Array(3), 1);
const c: number[] = J.energyRev([1, 2, 3]);
const d: number[] = J.curveFwd(0.5);
const e: number = J.scalarRev(0.5);
const [gx, gs]: [Float64Array[], Float64Array] = J.bothRev(new Float64Array(3), 1);
const [hs, hx]: [Float64Array, Float64Array[]] = J.bothFwd(new Float64Array(3), 1);
const [only]: [Float64Array[]] = J.oneRev(new Float64Array(3), 1);
void a; void b; void c; void d; void e; void gx; void gs; void hs; void hx; void only;
`;

type Arr = Float64Array | number[];
/** A Jacobian as a matrix: `row` when f returns a number (its Jacobian is one row, the gradient). */
const rows = (v: unknown, row = false): number[][] =>
  typeof v === "number" ? [[v]] : row ? [Array.from(v as ArrayLike<number>)] : Array.from(v as ArrayLike<unknown>, (r) => (typeof r === "number" ? [r] : Array.from(r as ArrayLike<number>)));

/** Central differences of f at x (arguments `args`, differentiated at `k`), in the Jacobian's layout. */
function fdJacobian(f: (...a: unknown[]) => unknown, args: unknown[], k: number): number[][] {
  const h = 1e-6;
  const x = args[k];
  const copy = (): unknown[] => args.map((a) => (a instanceof Float64Array ? a.slice() : Array.isArray(a) ? [...a] : a));
  const flat = (v: unknown): number[] => (typeof v === "number" ? [v] : Array.from(v as ArrayLike<number>));
  const n = typeof x === "number" ? 1 : (x as Arr).length;
  const cols: number[][] = [];
  for (let j = 0; j < n; j++) {
    const at = (d: number): number[] => {
      const a = copy();
      if (typeof x === "number") a[k] = x + d;
      else (a[k] as Arr)[j] += d;
      return flat(f(...a));
    };
    const p = at(h), m = at(-h);
    cols.push(p.map((v, i) => (v - m[i]) / (2 * h)));
  }
  return cols[0].map((_, i) => cols.map((col) => col[i]));
}

function close(got: number[][], want: number[][], tol: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((r, i) => {
    expect(r.length).toBe(want[i].length);
    r.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i][j]))));
  });
}

describe("jacfwd, jacrev and jacobian", () => {
  let m: Loaded;
  it("compiles as a user writes it; the input (with its typed uses) and the output type-check under strict", async () => {
    const r = compile(SOURCE, { fileName: "jac-input.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "jac-in.ts": SOURCE, "jac-out.ts": r.code })).toEqual([]);
    m = await load(r.code, "jac-input.ts");
  });

  it("agree with finite differences and with each other, in JAX's layout", () => {
    const J = m.J;
    const x = Float64Array.from([0.3, -0.7, 1.1]);
    const cases: [string, string, (...a: unknown[]) => unknown, unknown[], number][] = [
      ["fieldRev", "fieldFwd", m.field, [x, 1.3], 0],
      ["fieldSRev", "fieldS", m.field, [x, 1.3], 1],
      ["energyRev", "energyFwd", m.energy, [[0.5, 1.5, -0.25]], 0],
      ["curveRev", "curveFwd", m.curve, [0.8], 0],
      ["scalarRev", "scalarFwd", m.scalar, [0.8], 0],
      ["normRev", "normFwd", m.normalize, [Float64Array.from([1, 2, 2])], 0],
    ];
    for (const [rev, fwd, f, args, k] of cases) {
      const want = fdJacobian(f, args, k);
      const row = typeof f(...args.map((a) => (a instanceof Float64Array ? a.slice() : a))) === "number";
      const copy = (): unknown[] => args.map((a) => (a instanceof Float64Array ? a.slice() : Array.isArray(a) ? [...a] : a));
      const jr = J[rev](...copy());
      const jf = J[fwd](...copy());
      close(rows(jr, row), want, 1e-6);
      close(rows(jf, row), rows(jr, row), 1e-12);
    }
  });

  it("give each row the input's type and the container the output's (JAX's output shape x input shape)", () => {
    const J = m.J;
    const x = Float64Array.from([0.3, -0.7, 1.1]);
    const jr = J.fieldRev(x, 1.3);
    expect(Array.isArray(jr) && jr.length).toBe(2);
    expect(jr[0]).toBeInstanceOf(Float64Array);
    expect(jr[0].length).toBe(3);
    expect(J.fieldS(x, 1.3)).toBeInstanceOf(Float64Array); // number input, Float64Array output
    expect(Array.isArray(J.energyFwd([1, 2, 3]))).toBe(true); // number output: the gradient
    expect(Array.isArray(J.curveRev(0.5))).toBe(true);
    expect(typeof J.scalarFwd(0.5)).toBe("number");
  });

  it("with argnums as a list give a tuple of Jacobians, the same as one at a time", () => {
    const J = m.J;
    const x = Float64Array.from([0.3, -0.7, 1.1]);
    const [rx, rs] = J.bothRev(x, 1.3);
    const [fs, fx] = J.bothFwd(x, 1.3);
    close(rows(rx), rows(J.fieldRev(x, 1.3)), 1e-12);
    close(rows(fx), rows(J.fieldRev(x, 1.3)), 1e-12);
    close(rows(rs), rows(J.fieldSRev(x, 1.3)), 1e-12);
    close(rows(fs), rows(J.fieldSRev(x, 1.3)), 1e-12);
    const [ss, sx] = J.swappedRev(x, 1.3);
    const [tx, ts_] = J.straightFwd(x, 1.3);
    close(rows(sx), rows(rx), 1e-12);
    close(rows(ss), rows(rs), 1e-12);
    close(rows(tx), rows(rx), 1e-12);
    close(rows(ts_), rows(rs), 1e-12);
    const one = J.oneRev(x, 1.3);
    expect(one.length).toBe(1);
    close(rows(one[0]), rows(rx), 0);
  });

  it("with several number parameters give each its own column", () => {
    const J = m.J;
    const [pa, pb] = J.pairRev(3, 5);
    expect([pa, pb]).toEqual([[5, 1], [3, 1]]);
    expect(J.pairFwd(3, 5)).toEqual([[5, 1], [3, 1]]);
    const args = [0.7, 0.4, -0.2];
    const rev = J.spiralRev(...args);
    const [fs, fr, ft] = J.spiralFwd(...args);
    [0, 1, 2].forEach((k) => {
      const want = fdJacobian(m.spiral as (...a: unknown[]) => unknown, args, k);
      close(rows(rev[k]), want, 1e-7);
      close(rows([fr, ft, fs][k]), want, 1e-7);
    });
  });

  it("leave the caller's arrays as one run of the function leaves them, for a function that writes its argument", () => {
    const want = fdJacobian(m.normalize, [Float64Array.from([1, 2, 2])], 0);
    for (const j of [m.J.normRev, m.J.normFwd]) {
      const v = Float64Array.from([1, 2, 2]);
      close(rows(j(v)), want, 1e-6); // at the point given, not at the normalized one
      expect(Array.from(v)).toEqual([1 / 3, 2 / 3, 2 / 3]);
    }
  });

  it("differentiate a closure over the caller's locals", () => {
    const xs = [0, 0.5, 1, 1.5];
    const w = Float64Array.from([2, -0.3]);
    const model = (p: Float64Array): Float64Array => Float64Array.from(xs, (t) => p[0] * Math.exp(p[1] * t));
    close(rows(m.fitJacobian(xs, w)), fdJacobian(model as (...a: unknown[]) => unknown, [w], 0), 1e-6);
  });

  it("jacrev runs f's fused sweeps once per output entry: an empty output, a tape left as it was, helpers inlined", async () => {
    const r = compile(
      `import { jacrev } from "adc";
       export { tape } from "adc/runtime";
       function bump(v: number, k: number): number { return Math.sin(v) * k + v; }
       /** n outputs from a loop that records what it overwrites. */
       export function walk(x: Float64Array, s: number, n: number): number[] {
         const out = new Array<number>(n).fill(0);
         let y = s;
         for (let i = 0; i < n; i++) {
           y = bump(y * x[i % x.length], 0.5);
           out[i] = y;
         }
         return out;
       }
       export const J = jacrev(walk, [0, 1]);`,
      { fileName: "jac-walk.ts" },
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(r.code).not.toContain("bump_fwd");
    const w = await load(r.code, "jac-walk.ts");
    const tops = (): number[] => [w.tape.fTop, w.tape.iTop, w.tape.bTop, w.tape.oTop];
    const before = tops();
    const x = Float64Array.from([0.7, -0.4, 1.1]);
    for (const n of [0, 1, 5]) {
      const [Jx, Js] = w.J(x, 0.9, n);
      expect(Jx.length).toBe(n);
      expect(Js).toHaveLength(n);
      expect(Array.isArray(Js)).toBe(true);
      expect(tops()).toEqual(before);
      if (n === 0) continue;
      close(rows(Jx), fdJacobian(w.walk, [x, 0.9, n], 0), 1e-6);
      close(rows(Js), fdJacobian(w.walk, [x, 0.9, n], 1), 1e-6);
    }
  });

  it("jacrev shares one forward sweep between the rows where the reverse sweep records and restores nothing", async () => {
    const r = compile(
      `import { jacrev } from "adc";
       function rot(a: number, b: number, t: number): number { return a * Math.cos(t) - b * Math.sin(t); }
       /** Straight-line code writing a local output array: nothing to record. */
       export function polar(p: Float64Array, s: number): Float64Array {
         const out = new Float64Array(3);
         let r = 0;
         if (s > 0) r = p[0] * s;
         else r = p[0];
         out[0] = rot(r, p[1], p[2]);
         out[1] = rot(p[1], r, p[2]);
         out[2] = out[0] * out[1] + s;
         return out;
       }
       export const J = jacrev(polar, [0, 1]);`,
      { fileName: "jac-polar.ts" },
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const body = r.code.slice(r.code.indexOf("export function polar_jacrev"));
    // One forward sweep, then the rows' loop of reverse sweeps.
    expect(body.indexOf("// forward sweep")).toBeLessThan(body.indexOf("for (let i = 0; i < m; i++)"));
    expect(body.split("// forward sweep").length).toBe(2);
    expect(body.slice(0, body.indexOf("\n}\n"))).not.toMatch(/tape/);
    const w = await load(r.code, "jac-polar.ts");
    const p = Float64Array.from([0.7, -0.4, 1.1]);
    for (const s of [0.9, -0.5]) {
      const [Jp, Js] = w.J(p, s);
      close(rows(Jp), fdJacobian(w.polar, [p, s], 0), 1e-6);
      close(rows(Js), fdJacobian(w.polar, [p, s], 1), 1e-6);
    }
  });

  it("refuse what they cannot do, at compile time", () => {
    const r = compile(
      `import { jacrev, jacfwd } from "adc";
       function f(x: number): { a: number } { return { a: Math.sin(x) }; }
       function g(x: number, s: string): number[] { return [x, x]; }
       export const a = jacrev(f);
       export const b = jacfwd(g, 1);
       export const c = jacrev(f, [0]);`,
      { fileName: "jac-bad.ts" },
    );
    const text = r.diagnostics.map(formatDiagnostic).join("\n");
    expect(text).toMatch(/jac-bad\.ts\(4,\d+\): error ADC1007: jacrev needs a function that returns a number, number\[\], Float64Array or NDArray/);
    expect(text).toMatch(/jac-bad\.ts\(5,\d+\): error ADC1012: jacfwd needs parameter 's' of 'g'/);
    expect(text).toMatch(/jac-bad\.ts\(6,\d+\): error ADC1007: jacrev needs a function that returns/);
    expect(r.code).toBe("");
  });
});

describe("the Jacobian of a gradient", () => {
  it("is the Hessian (jacrev(grad(f)), jacfwd of a const bound to grad(f), along the same parameter); other mixes are refused", async () => {
    const source = `import { grad, jacrev, jacfwd, jacobian } from "adc";
export function cube(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i] * x[i] * (i + 1) + Math.sin(x[i] * x[(i + 1) % x.length]);
  return s;
}
export function two(a: number, x: number[]): number { return a * a * x[0] * x[1]; }
const g = grad(cube);
export const Jr = jacrev(grad(cube));
export const Jf = jacfwd(g);
export const Jx = jacobian(grad(two, 1), 1);
export const Ja = jacrev(grad(two));
`;
    const r = compile(source, { fileName: "jac-grad.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const m = await load(r.code, "jac-grad.ts");
    const x = Float64Array.from([0.3, 0.8, -0.6]);
    const h = 1e-6;
    const grad = (v: Float64Array): Float64Array => Float64Array.from(v, (_, j) => { const p = v.slice(), q = v.slice(); p[j] += h; q[j] -= h; return (m.cube(p) - m.cube(q)) / (2 * h); });
    const Jr = m.Jr(x), Jf = m.Jf(x);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const p = x.slice(), q = x.slice();
        p[j] += 1e-4;
        q[j] -= 1e-4;
        const fd = (grad(p)[i] - grad(q)[i]) / 2e-4;
        expect(Jr[i][j]).toBeCloseTo(fd, 4);
        expect(Jf[i][j]).toBeCloseTo(Jr[i][j], 12);
      }
    expect(m.Jx(2, [3, 5])).toEqual([[0, 4], [4, 0]]);
    expect(m.Ja(2, [3, 5])).toBe(30);
    const bad = compile(`import { grad, jacrev } from "adc";\nfunction two(a: number, x: number[]): number { return a * x[0]; }\nexport const J = jacrev(grad(two, 1));\n`, { fileName: "jac-mixed.ts" });
    expect(bad.diagnostics.map(formatDiagnostic).join("\n")).toMatch(/jac-mixed\.ts\(3,\d+\): error ADC1008: jacrev of a derivative is not supported yet/);
  });
});

describe("second-order entry points of a function that writes its argument", () => {
  it("differentiate at the point passed and leave the caller's array as one run of f leaves it", async () => {
    const r = compile(
      `import { grad, hessian, jvp, vjp } from "adc";
       export function f(x: number[], s: number): number {
         for (let i = 0; i < x.length; i++) x[i] = x[i] * s + Math.sin(x[i]);
         let e = 0;
         for (let i = 0; i + 1 < x.length; i++) e += x[i] * x[i + 1] * x[i];
         return e;
       }
       export const g = grad(f);
       export const H = hessian(f);
       export const hvp = (x: number[], s: number, v: number[]) => jvp(grad(f), [x, s], [v, 0]);
       export const pull = (x: number[], s: number) => vjp(grad(f), x, s);`,
      { fileName: "written-input.ts" },
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const w = await load(r.code, "written-input.ts");
    const x0 = [0.3, 0.8, -0.4];
    const after = x0.slice();
    w.f(after, 1.3);
    const want = fdJacobian((x) => w.g((x as number[]).slice(), 1.3), [x0.slice()], 0);
    const xa = x0.slice();
    close(rows(w.H(xa, 1.3)), want, 1e-6);
    expect(xa).toEqual(after);
    const xb = x0.slice();
    const [gb, hv] = w.hvp(xb, 1.3, [1, 0, 0]);
    close([hv], [want.map((row) => row[0])], 1e-6);
    close([gb], [w.g(x0.slice(), 1.3)], 1e-12);
    expect(xb).toEqual(after);
    const xc = x0.slice();
    const [, pb] = w.pull(xc, 1.3);
    const first = pb([0, 1, 0])[0];
    close([first], [want[1]], 1e-6); // H symmetric: row 1
    expect(pb([0, 1, 0])[0]).toEqual(first);
    expect(xc).toEqual(after);
  });
});
