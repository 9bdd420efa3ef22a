/**
 * The tape's float lane kept in locals (compiler/optimize/local-tape.ts): the cases where the
 * locals and the tape could disagree. A loop that outgrows the tape many times over, a callee
 * that grows the tape while its caller holds the lane in a local, branches that push different
 * counts (and one with a loop inside), an early return, and a pullback that cuts the caller's
 * segment off the tape. Each gradient is checked against forward mode (which uses no tape) and
 * central differences; the tape's tops must be back where they started after every call.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../compiler/index.js";
import { load } from "./helpers/load.js";

const program = `
import { grad, jvp, vjp } from "adc";
export { tape } from "adc/runtime";

/** A contracting recurrence, three values overwritten per step: 3 floats per iteration, 1,024 of them fit the fresh tape. */
export function lorenz(a: number, b: number, c: number, n: number): number {
  let x = a;
  let y = b;
  let z = c;
  for (let i = 0; i < n; i++) {
    const x1 = x + 0.001 * (Math.sin(y) - x);
    const y1 = y + 0.001 * (x * Math.cos(z) - y);
    const z1 = z + 0.001 * (x * y - 2.6 * z);
    x = x1;
    y = y1;
    z = z1;
  }
  return x + y * z;
}

/**
 * A callee (recursive, so it stays a call) whose recording version pushes about k values: called
 * in a loop, it grows the tape while the caller holds the lane in a local.
 */
function churn(v: number, k: number): number {
  if (k <= 0) return v;
  return churn(Math.sin(v) + v * 0.5, k - 1);
}
export function caller(x: number, n: number, k: number): number {
  let acc = x;
  for (let i = 0; i < n; i++) {
    const t = acc * 0.9;
    acc = churn(t, k) + acc * 0.1;
    acc = Math.tanh(acc * acc * 0.5);
  }
  return acc;
}

/** Branches pushing different counts, one branch with a loop inside, and an early return. */
export function branches(x: number, n: number): number {
  let u = x;
  let w = 0.5;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      u = Math.sin(u) + x;
      w = w * u;
    } else if (i % 3 === 1) {
      u = Math.cos(u) * 0.5;
    } else {
      for (let j = 0; j < 2; j++) w = Math.tanh(w + u);
    }
    if (w > 2) return u;
  }
  return u * w;
}

/**
 * Branches that push 4 and 1 values in turn, after p pushes: for some p in 0..7 the larger
 * branch starts less than 4 slots below the end of the lane, so a reservation for the smaller
 * branch would write past it (a typed array drops such writes silently).
 */
export function uneven(x: number, n: number, p: number): number {
  let a = x;
  let b = 0.3;
  let c = 0.1;
  for (let j = 0; j < p; j++) a = Math.sin(a);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      a = Math.sin(a) + x;
      b = Math.cos(b) * a;
      c = Math.sin(c) + a * b;
    } else {
      a = a * 0.5 + 0.1 * b;
    }
  }
  return a + b + c;
}

export const dUneven = grad(uneven);
export const tUneven = (x: number, n: number, p: number) => jvp((z: number) => uneven(z, n, p), [x], [1])[1];
export const dLorenz = grad(lorenz, [0, 1, 2]);
export const tLorenz = (a: number, b: number, c: number, n: number, d: [number, number, number]) => jvp((p: number, q: number, r: number) => lorenz(p, q, r, n), [a, b, c], d)[1];
export const dCaller = grad(caller);
export const tCaller = (x: number, n: number, k: number) => jvp((z: number) => caller(z, n, k), [x], [1])[1];
export const dBranches = grad(branches);
export const tBranches = (x: number, n: number) => jvp((z: number) => branches(z, n), [x], [1])[1];
export const pullLorenz = (a: number, n: number) => vjp((p: number) => lorenz(p, 0.2, 0.3, n), a);
`;

const h = 1e-6;
const central = (f: (x: number) => number, x: number): number => (f(x + h) - f(x - h)) / (2 * h);

describe("the tape's float lane in locals", async () => {
  const r = compile(program, { fileName: "local-tape.ts" });
  const m = await load(r.code, "local-tape.ts");
  const tops = (): number[] => [m.tape.fTop, m.tape.iTop, m.tape.bTop, m.tape.oTop];

  it("is what the generated loops use (the test exercises the rewrite)", () => {
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const body = (fn: string): string => {
      const from = r.code.slice(r.code.indexOf(`export function ${fn}`));
      return from.slice(0, from.indexOf("\n}\n"));
    };
    // (_lambda4 is pullLorenz's arrow: its recording version, with lorenz inlined into it.)
    for (const fn of ["lorenz_grad", "_lambda4_fwd", "caller_grad", "branches_grad"]) expect(body(fn), fn).toContain("_tapeF[_topF] =");
    expect(body("caller_grad")).toMatch(/_rt\.tape\.fTop = _topF;\n\s*.*churn_fwd\w*\(/);
  });

  it("survives a loop that outgrows the tape many times over", () => {
    for (const n of [10, 400, 40_000]) {
      const g = m.dLorenz(1.1, 0.7, 0.4, n);
      expect(tops()).toEqual([0, 0, 0, 0]);
      const dirs: [number, number, number][] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
      dirs.forEach((d, i) => expect(g[i]).toBeCloseTo(m.tLorenz(1.1, 0.7, 0.4, n, d), 9));
      expect(g[0]).toBeCloseTo(central((a) => m.lorenz(a, 0.7, 0.4, n), 1.1), 4);
    }
  });

  it("reloads the lane after a callee that grew it", () => {
    for (const [n, k] of [[3, 2], [50, 900], [200, 2000]]) {
      const g = m.dCaller(0.3, n, k);
      expect(tops()).toEqual([0, 0, 0, 0]);
      expect(g).toBeCloseTo(m.tCaller(0.3, n, k), 9);
      expect(g).toBeCloseTo(central((x) => m.caller(x, n, k), 0.3), 4);
    }
  });

  it("reserves for the larger branch, checks again after a nested loop, and stores the top on an early return", () => {
    for (const [x, n] of [[0.4, 7], [0.4, 2000], [3.0, 2000]]) {
      const g = m.dBranches(x, n);
      expect(tops()).toEqual([0, 0, 0, 0]);
      expect(g).toBeCloseTo(m.tBranches(x, n), 9);
      expect(g).toBeCloseTo(central((z) => m.branches(z, n), x), 4);
    }
  });

  it("reserves for the larger of two branches wherever the lane ends", () => {
    for (let p = 0; p < 8; p++) {
      // A fresh lane (earlier tests grew it), which the last iterations outgrow: the loop's
      // recurrences contract, so only a value lost near the end would show in the gradient.
      m.tape.f = new Float64Array(1024);
      const g = m.dUneven(0.3, 420, p);
      expect(tops()).toEqual([0, 0, 0, 0]);
      expect(g, `p = ${p}`).toBeCloseTo(m.tUneven(0.3, 420, p), 9);
    }
  });

  it("hands a pullback its segment: the caller's records above it are intact", () => {
    const [y1, pull1] = m.pullLorenz(1.1, 3000);
    const [y2, pull2] = m.pullLorenz(0.9, 500);
    expect(tops()).toEqual([0, 0, 0, 0]);
    const [g2] = pull2(1);
    const [g1] = pull1(1);
    expect(tops()).toEqual([0, 0, 0, 0]);
    expect(y1).toBe(m.lorenz(1.1, 0.2, 0.3, 3000));
    expect(y2).toBe(m.lorenz(0.9, 0.2, 0.3, 500));
    expect(g1).toBeCloseTo(m.dLorenz(1.1, 0.2, 0.3, 3000)[0], 12);
    expect(g2).toBeCloseTo(m.dLorenz(0.9, 0.2, 0.3, 500)[0], 12);
  });
});
