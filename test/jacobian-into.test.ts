/**
 * jacrevInto and jacfwdInto as a user calls them: the Jacobian written into a buffer the caller
 * passes, m x n row-major from an offset, the columns of the arguments in argnums side by side.
 * Each generated path (one shared forward sweep, a forward sweep per row with a tape, a number
 * output, a function that writes its argument, a closure, a function value marked
 * @differentiable, forward mode) against central finite differences and against jacrev; the
 * entries outside the block untouched; a buffer too small refused before anything is written.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { strictErrors } from "./helpers/strict.js";
import { load, type Loaded } from "./helpers/load.js";

const SOURCE = `
import { jacfwd, jacrevInto, jacfwdInto } from "adc";

/** Straight-line code: the rows share one forward sweep. */
export function pair(x: Float64Array, s: number): Float64Array {
  const out = new Float64Array(2);
  out[0] = Math.sin(x[0] * s) * x[1];
  out[1] = x[2] * s + x[0] * x[0];
  return out;
}
/** A loop that records its branches: a forward sweep per row. */
export function field(x: Float64Array, s: number): Float64Array {
  const out = new Float64Array(2);
  for (let i = 0; i < x.length; i++) {
    out[0] += Math.sin(x[i] * s);
    out[1] += i % 2 === 0 ? x[i] * x[i] : Math.exp(-x[i]) * s;
  }
  return out;
}
/** A number output: the block is the gradient. */
export function energy(x: number[], k: number): number {
  let e = 0;
  for (let i = 0; i + 1 < x.length; i++) e += (x[i + 1] - x[i]) ** 2 * x[i] * k;
  return e;
}
/** A number input. */
export function curve(t: number): number[] {
  return [Math.cos(t), Math.sin(t), t * t];
}
/** Writes into its argument. */
export function normalize(v: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = v[i] / n;
  return v.slice();
}
/** Copies its argument whole: its adjoint is added whole, so it stays an array. */
export function shifted(x: Float64Array): Float64Array {
  const y = Float64Array.from(x);
  for (let i = 0; i < y.length; i++) y[i] = y[i] * y[i] + x[0];
  return y;
}
/** Outputs as many as asked: none at all for n = 0. */
export function walk(x: Float64Array, n: number): number[] {
  const out = new Array<number>(n).fill(0);
  let y = 1;
  for (let i = 0; i < n; i++) {
    y = Math.sin(y * x[i % x.length]) + y;
    out[i] = y;
  }
  return out;
}
/** Reads some entries only: the others' columns are zero. */
export function sparse(x: Float64Array): Float64Array {
  return Float64Array.from([x[0] * x[3], Math.sin(x[3])]);
}
/** Reads past x's end when n > x.length (x[i] is undefined there, as JavaScript has it). */
export function past(x: Float64Array, y: Float64Array, n: number): Float64Array {
  const out = new Float64Array(2);
  for (let i = 0; i < n; i++) out[0] += x[i] * 2;
  out[1] = y[0] * 3;
  return out;
}
export const pastRev = jacrevInto(past, [0, 1]);
/** Outputs that do not depend on x: every column zero (no lane's tangent is computed). */
export function flat(x: Float64Array, c: number[]): Float64Array {
  return Float64Array.from(c);
}
export function level(x: Float64Array): number {
  return 2.5;
}
/** @differentiable */
export function scaled(x: Float64Array, s: number): Float64Array {
  return Float64Array.from([x[0] * s, x[1] * x[0]]);
}

export const rev = {
  pair: jacrevInto(pair, [0, 1]), field: jacrevInto(field, [0, 1]), energy: jacrevInto(energy, [0, 1]),
  curve: jacrevInto(curve), normalize: jacrevInto(normalize), shifted: jacrevInto(shifted), walk: jacrevInto(walk),
  fieldS: jacrevInto(field, 1), pairSX: jacrevInto(pair, [1, 0]), sparse: jacrevInto(sparse),
  flat: jacrevInto(flat), level: jacrevInto(level),
};
export const fwd = {
  pair: jacfwdInto(pair, [0, 1]), field: jacfwdInto(field, [0, 1]), energy: jacfwdInto(energy, [0, 1]),
  curve: jacfwdInto(curve), normalize: jacfwdInto(normalize), shifted: jacfwdInto(shifted), walk: jacfwdInto(walk),
  fieldS: jacfwdInto(field, 1), pairSX: jacfwdInto(pair, [1, 0]), sparse: jacfwdInto(sparse),
  flat: jacfwdInto(flat), level: jacfwdInto(level),
};
/** The same by jacfwd, in JAX's layout (vector forward mode, then laid out). */
export const plain = { flat: jacfwd(flat), level: jacfwd(level), pair: jacfwd(pair, [0, 1]) };

/** A closure over the caller's data. */
export function fitBlock(xs: number[], p: Float64Array, J: Float64Array, at: number): Float64Array {
  const model = (q: Float64Array): Float64Array => {
    const r = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) r[i] = q[0] * Math.exp(q[1] * xs[i]);
    return r;
  };
  return jacrevInto(model)(J, at, p);
}
/** The same closure by forward mode (lanes with the captured data after them). */
export function fitColumns(xs: number[], p: Float64Array): Float64Array[] {
  const model = (q: Float64Array): Float64Array => {
    const r = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) r[i] = q[0] * Math.exp(q[1] * xs[i]);
    return r;
  };
  return jacfwd(model)(p);
}

/** A function value: the derivatives it carries, looked up when the program runs. */
export function valueBlocks(f: (x: Float64Array, s: number) => Float64Array, x: Float64Array, s: number, J: Float64Array): void {
  jacrevInto(f, [0, 1])(J, 0, x, s);
  jacfwdInto(f, [0, 1])(J, 6, x, s);
}

// The types a user sees.
const block: Float64Array = rev.pair(new Float64Array(8), 0, new Float64Array(3), 1);
void block;
`;

type Arr = Float64Array | number[];
const copy = (args: unknown[]): unknown[] => args.map((a) => (a instanceof Float64Array ? a.slice() : Array.isArray(a) ? [...a] : a));

/** Central differences of f, the block of columns for the arguments `ks`, row-major as a flat list. */
function fdBlock(f: (...a: unknown[]) => unknown, args: unknown[], ks: number[]): number[] {
  const h = 1e-6;
  const flat = (v: unknown): number[] => (typeof v === "number" ? [v] : Array.from(v as ArrayLike<number>));
  const cols: number[][] = [];
  for (const k of ks) {
    const x = args[k];
    const n = typeof x === "number" ? 1 : (x as Arr).length;
    for (let j = 0; j < n; j++) {
      const at = (d: number): number[] => {
        const a = copy(args);
        if (typeof x === "number") a[k] = x + d;
        else (a[k] as Arr)[j] += d;
        return flat(f(...a));
      };
      const p = at(h), m = at(-h);
      cols.push(p.map((v, i) => (v - m[i]) / (2 * h)));
    }
  }
  const m = cols.length ? cols[0].length : 0;
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (const col of cols) out.push(col[i]);
  return out;
}

function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what = ""): void {
  expect(got.length, what).toBe(want.length);
  for (let k = 0; k < want.length; k++) expect(Math.abs(got[k] - want[k]), `${what} [${k}]`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[k])));
}

describe("jacrevInto and jacfwdInto", () => {
  let m: Loaded;
  it("compile as a user writes them; input and output type-check under strict", async () => {
    const r = compile(SOURCE, { fileName: "into-input.ts" });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(strictErrors({ "into-in.ts": SOURCE, "into-out.ts": r.code })).toEqual([]);
    // The straight-line function accumulates its adjoint straight into the buffer's row.
    const from = r.code.slice(r.code.indexOf("export function pair_jacrev"));
    const body = from.slice(0, from.indexOf("\n}\n"));
    expect(body).toMatch(/J\[x_at \+ 2\] = /);
    expect(body).not.toMatch(/zerosLike\(x\)/);
    m = await load(r.code, "into-input.ts");
  });

  const x3 = (): Float64Array => Float64Array.from([0.3, -0.7, 1.1]);
  const cases: [string, unknown[], number[]][] = [
    ["pair", [x3(), 1.3], [0, 1]],
    ["field", [x3(), 1.3], [0, 1]],
    ["energy", [[0.5, 1.5, -0.25, 2], 0.7], [0, 1]],
    ["curve", [0.8], [0]],
    ["normalize", [Float64Array.from([1, 2, 2])], [0]],
    ["shifted", [x3()], [0]],
    ["walk", [x3(), 4], [0]],
    ["fieldS", [x3(), 1.3], [1]],
    ["pairSX", [x3(), 1.3], [1, 0]],
    ["sparse", [Float64Array.from([0.5, 9, 9, -1.5, 9, 9])], [0]],
    // (After the others: a lane whose tangent is never computed must not read what they left.)
    ["flat", [x3(), [1, 2]], [0]],
    ["level", [Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])], [0]],
  ];

  it("write the block at the offset, equal to finite differences, and leave the rest of the buffer as it was", () => {
    for (const [name, args, ks] of cases) {
      const f = m[name.replace(/S$|SX$/, "")] as (...a: unknown[]) => unknown;
      const want = fdBlock(f, args, ks);
      for (const mode of ["rev", "fwd"] as const) {
        const J = new Float64Array(want.length + 7).fill(NaN);
        // Garbage where the block goes: each entry must be written, not accumulated.
        J.fill(123, 3, 3 + want.length);
        const got = m[mode][name](J, 3, ...copy(args));
        expect(got, `${mode} ${name}`).toBe(J);
        closeTo(J.subarray(3, 3 + want.length), want, 1e-6, `${mode} ${name}`);
        expect(Array.from(J.subarray(0, 3)).every(Number.isNaN), `${mode} ${name}`).toBe(true);
        expect(Array.from(J.subarray(3 + want.length)).every(Number.isNaN), `${mode} ${name}`).toBe(true);
        // Called again on the same buffer: the same block.
        const first = J.slice(3, 3 + want.length);
        m[mode][name](J, 3, ...copy(args));
        closeTo(J.subarray(3, 3 + want.length), first, 0);
      }
    }
  });

  it("agree with each other to rounding", () => {
    for (const [name, args] of cases) {
      const n = fdBlock(m[name.replace(/S$|SX$/, "")] as (...a: unknown[]) => unknown, args, cases.find((c) => c[0] === name)![2]).length;
      const a = m.rev[name](new Float64Array(n), 0, ...copy(args));
      const b = m.fwd[name](new Float64Array(n), 0, ...copy(args));
      closeTo(a, b, 1e-12);
    }
  });

  it("jacfwd in JAX's layout, from the same lanes: rows shaped like the input, zeros where nothing depends", () => {
    m.rev.pair(new Float64Array(8), 0, x3(), 1.3); // leaves values in the return slots
    const [Jx, Js] = m.plain.pair(x3(), 1.3);
    const block = m.rev.pair(new Float64Array(8), 0, x3(), 1.3);
    expect(Jx).toHaveLength(2);
    expect(Jx[0]).toBeInstanceOf(Float64Array);
    expect(Js).toBeInstanceOf(Float64Array);
    closeTo([...Jx[0], Js[0], ...Jx[1], Js[1]], block, 1e-12);
    const flat = m.plain.flat(x3(), [1, 2]);
    expect(flat.map((r: Float64Array) => Array.from(r))).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(Array.from(m.plain.level(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("refuse a buffer too small for the block, before writing into it", () => {
    for (const mode of ["rev", "fwd"] as const) {
      const J = new Float64Array(10).fill(7);
      expect(() => m[mode].pair(J, 3, x3(), 1.3), mode).toThrow(RangeError);
      expect(() => m[mode].pair(J, 3, x3(), 1.3)).toThrow(/2 x 4 \(8 entries\); it does not fit at offset 3 of a buffer of 10/);
      expect(Array.from(J).every((v) => v === 7)).toBe(true);
      expect(() => m[mode].energy(new Float64Array(3), 0, [1, 2, 3], 1)).toThrow(RangeError);
      expect(() => m[mode].pair(new Float64Array(8), -1, x3(), 1.3)).toThrow(RangeError);
    }
    // Past the end at an index known only when it runs: nothing lands in y's column or outside.
    const P = new Float64Array(8).fill(7);
    m.pastRev(P, 1, Float64Array.from([0.5, 0.25]), Float64Array.from([4]), 3);
    expect(Array.from(P)).toEqual([7, 2, 2, 0, 0, 0, 3, 7]);
    // A function that reads past its argument's end: the entry's derivative has no column.
    const J = new Float64Array(6).fill(7);
    expect(() => m.rev.pair(J, 0, Float64Array.from([0.5, 0.25]), 1.3)).toThrow(/reads x\[2\], but x has 2 entries/);
  });

  it("an output of no entries writes nothing and leaves the tape as it was", () => {
    const tops = (): number[] => [m.tape?.fTop, m.tape?.iTop, m.tape?.bTop, m.tape?.oTop];
    const before = tops();
    for (const mode of ["rev", "fwd"] as const) {
      const J = new Float64Array(4).fill(5);
      m[mode].walk(J, 0, x3(), 0);
      expect(Array.from(J)).toEqual([5, 5, 5, 5]);
      expect(tops()).toEqual(before);
    }
  });

  it("leave the caller's array as one run leaves it, for a function that writes its argument", () => {
    const want = fdBlock(m.normalize as (...a: unknown[]) => unknown, [Float64Array.from([1, 2, 2])], [0]);
    for (const mode of ["rev", "fwd"] as const) {
      const v = Float64Array.from([1, 2, 2]);
      closeTo(m[mode].normalize(new Float64Array(9), 0, v), want, 1e-6);
      closeTo(v, [1 / 3, 2 / 3, 2 / 3], 1e-15);
    }
  });

  it("differentiate a closure, and a function value marked @differentiable", () => {
    const xs = [0, 0.5, 1];
    const p = Float64Array.from([2, -0.3]);
    const model = (q: unknown): unknown => Float64Array.from(xs, (t) => (q as Float64Array)[0] * Math.exp((q as Float64Array)[1] * t));
    const J = new Float64Array(8).fill(NaN);
    m.fitBlock(xs, p, J, 2);
    closeTo(J.subarray(2), fdBlock(model, [p], [0]), 1e-6);
    const cols = m.fitColumns(xs, p) as Float64Array[];
    closeTo(cols.flatMap((r) => Array.from(r)), J.subarray(2), 1e-12);
    const x = Float64Array.from([0.4, -1.2]);
    const both = new Float64Array(12);
    m.valueBlocks(m.scaled, x, 1.5, both);
    const want = fdBlock(m.scaled as (...a: unknown[]) => unknown, [x, 1.5], [0, 1]);
    closeTo(both.subarray(0, 6), want, 1e-6);
    closeTo(both.subarray(6), want, 1e-6);
  });

  it("refuse at compile time what they cannot do, with file, line and column", () => {
    const r = compile(
      `import { grad, jacrevInto, jacfwdInto } from "adc";
       function r(p: Float64Array, t: number): Float64Array { return Float64Array.from([p[0] * t, Math.sin(p[1])]); }
       export function loss(p: Float64Array): number {
         const J = new Float64Array(4);
         jacrevInto(r, 0)(J, 0, p, 0.5);
         return J[0] + p[0];
       }
       export const g = grad(loss);
       export const alias = jacfwdInto;
       export const bad = jacrevInto(r, [0, 5]);`,
      { fileName: "into-bad.ts" },
    );
    const text = r.diagnostics.map(formatDiagnostic).join("\n");
    expect(text).toMatch(/into-bad\.ts\(5,10\): error ADC1023: jacrevInto called inside a differentiated function/);
    expect(text).toMatch(/into-bad\.ts\(9,29\): error ADC1008: jacfwdInto is used as a value here/);
    expect(text).toMatch(/into-bad\.ts\(10,41\): error ADC1010: argnums 5 is outside the function's 2 parameter/);
    expect(r.code).toBe("");
  });
});
