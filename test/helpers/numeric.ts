/**
 * Numeric checks of generated derivatives: central finite differences, forward against reverse,
 * and the dot-product identity <ct, J t> = <J^T ct, t>. Points come from fast-check with a fixed
 * seed, so a failure names a replayable point.
 *
 * Finite differences use two step sizes; where they disagree with each other the point is a kink
 * (or too badly conditioned to judge) and that coordinate is skipped, not passed.
 */
import fc from "fast-check";

export type Value = number | Float64Array | number[];
export type ParamKind =
  | { k: "num" }
  | { k: "arr"; ctor: "Float64Array" | "Array" }
  | { k: "nd"; shape: readonly number[] }
  | { k: "fixed"; value: number };

export interface Domain {
  readonly lo: number;
  readonly hi: number;
  readonly length: number;
}

export function randomValues(kinds: readonly ParamKind[], d: Domain, seed: number, count: number): Value[][] {
  const arb = fc.tuple(
    ...kinds.map((k): fc.Arbitrary<Value> => {
      if (k.k === "fixed") return fc.constant(k.value);
      // Uniform points: fc.double favours special values (0, tiny, extremes), which are kinks.
      const x = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 })).map((k) => d.lo + ((d.hi - d.lo) * k) / 2 ** 30);
      if (k.k === "num") return x;
      if (k.k === "nd") {
        const n = k.shape.reduce((a, b) => a * b, 1);
        return fc.array(x, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a));
      }
      return fc.array(x, { minLength: d.length, maxLength: d.length }).map((a) => (k.ctor === "Float64Array" ? Float64Array.from(a) : a));
    }),
  );
  return fc.sample(arb, { seed, numRuns: count });
}

export function clone(v: Value): Value {
  return typeof v === "number" ? v : v.slice();
}

/** Coordinates of the differentiable arguments: [arg index, element index or -1]. */
export function coordinates(args: readonly Value[], kinds: readonly ParamKind[]): [number, number][] {
  const out: [number, number][] = [];
  args.forEach((a, i) => {
    if (kinds[i].k === "fixed") return;
    if (typeof a === "number") out.push([i, -1]);
    else for (let j = 0; j < a.length; j++) out.push([i, j]);
  });
  return out;
}

export function perturb(args: readonly Value[], [i, j]: [number, number], h: number): Value[] {
  const c = args.map(clone);
  if (j < 0) c[i] = (c[i] as number) + h;
  else (c[i] as Float64Array)[j] += h;
  return c;
}

export function get(v: Value, j: number): number {
  return j < 0 ? (v as number) : (v as Float64Array)[j];
}

/** Flattens a result (number or array) to a list of numbers. */
export function flat(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (v instanceof Float64Array || Array.isArray(v)) return Array.from(v as ArrayLike<number>);
  if (v && typeof v === "object" && "data" in v) return Array.from((v as { data: Float64Array }).data);
  throw new Error(`cannot flatten ${String(v)}`);
}

/**
 * d f / d coord by central differences at two step sizes; null where they disagree (a kink).
 * `f` returns a flattened result; the derivative is returned per output element.
 */
export function finiteDifference(f: (args: Value[]) => number[], args: readonly Value[], coord: [number, number], rtol: number): number[] | null {
  const x = get(args[coord[0]], coord[1]);
  const est = (h: number): number[] => {
    const a = f(perturb(args, coord, h));
    const b = f(perturb(args, coord, -h));
    return a.map((v, k) => (v - b[k]) / (2 * h));
  };
  const h = 1e-5 * Math.max(1, Math.abs(x));
  // A step that moves a piecewise-constant primitive (floor, trunc, sign, ...) onto another
  // piece crosses a jump, however smooth the rest looks (frac(x) of a large intermediate).
  const at = jumps(() => f(args.map(clone)));
  for (const d of [h, -h, h / 4, -h / 4]) if (jumps(() => f(perturb(args, coord, d))) !== at) return null;
  const d1 = est(h);
  const d2 = est(h / 4);
  // One-sided differences differ by O(h) where f is smooth and by the jump at a kink.
  const f0 = f(args.map(clone));
  const fwd = f(perturb(args, coord, h)).map((v, k) => (v - f0[k]) / h);
  const bwd = f(perturb(args, coord, -h)).map((v, k) => (f0[k] - v) / h);
  for (let k = 0; k < d1.length; k++) {
    if (!Number.isFinite(d1[k]) || !Number.isFinite(d2[k])) return null;
    if (!close(d1[k], d2[k], rtol * 10, rtol * 10)) return null;
    if (!close(fwd[k], bwd[k], 1e-3, 1e-3)) return null;
  }
  // Richardson extrapolation: the O(h^2) error terms of the two estimates cancel.
  return d2.map((v, k) => v + (v - d1[k]) / 15);
}

export function close(a: number, b: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b));
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const MathFns = Math as unknown as Record<string, (...a: unknown[]) => unknown>;
const MATH = Object.getOwnPropertyNames(Math).filter((k) => typeof MathFns[k] === "function");

/**
 * Whether `run` passes a non-finite number to a Math function or gets one back: an intermediate
 * overflowed. Derivatives there may be NaN (0 * Infinity) where finite differences see a flat
 * function, as docs/semantics.md says; such points are skipped, as kinks are. So are points where
 * sin, cos or tan see an argument beyond 1e6: a finite-difference step there spans many periods,
 * so nothing can check the (huge, and correct) derivative.
 */
export function overflows(run: () => unknown): boolean {
  let bad = false;
  const saved = MATH.map((k) => MathFns[k]);
  MATH.forEach((k, i) => {
    const periodic = k === "sin" || k === "cos" || k === "tan";
    MathFns[k] = (...a: unknown[]): unknown => {
      const r = saved[i](...a);
      if ((typeof r === "number" && !Number.isFinite(r)) || a.some((x) => typeof x === "number" && !Number.isFinite(x))) bad = true;
      if (periodic && typeof a[0] === "number" && Math.abs(a[0]) > 1e6) bad = true;
      return r;
    };
  });
  try {
    run();
  } catch {
    bad = true;
  } finally {
    MATH.forEach((k, i) => (MathFns[k] = saved[i]));
  }
  return bad;
}

const STEPS = ["floor", "ceil", "round", "trunc", "sign", "fround"];

/** The results of every piecewise-constant Math primitive `run` called, in order, as text. */
export function jumps(run: () => unknown): string {
  const seen: number[] = [];
  const saved = STEPS.map((k) => MathFns[k]);
  STEPS.forEach((k, i) => {
    MathFns[k] = (...a: unknown[]): unknown => {
      const r = saved[i](...a);
      seen.push(r as number);
      return r;
    };
  });
  try {
    run();
  } finally {
    STEPS.forEach((k, i) => (MathFns[k] = saved[i]));
  }
  return seen.join(",");
}
