/**
 * checkGrads: checks a function's compiled derivatives against central finite differences, as
 * JAX's `check_grads` does. The compiler turns `checkGrads(f, args, options)` into a call of this
 * function with f's generated jvp and vjp (compiler/requests.ts).
 *
 * Along a random direction t (seeded, so a failure repeats):
 * - forward mode: jvp(args; t) against (f(args + eps t) - f(args - eps t)) / 2 eps, entry by entry;
 * - reverse mode: for a random cotangent u, <u, J t> by finite differences against
 *   <vjp(args)(u), t>, one number, which checks every entry of every cotangent at once over
 *   random directions.
 * Each agrees when |derivative - finite difference| <= atol + rtol |finite difference|. The
 * values jvp and vjp return must equal f's. Arguments are copied for every call, so a function
 * that writes its arrays is checked at the point given.
 */
import { NDArray } from "./ndarray/ndarray.js";

export interface CheckOptions {
  /** "fwd" (jvp) and/or "rev" (vjp); both by default. */
  readonly modes?: readonly ("fwd" | "rev")[];
  /** Finite-difference step (default 1e-6). */
  readonly eps?: number;
  /** Tolerances (default 1e-5 each, JAX's for float64). */
  readonly atol?: number;
  readonly rtol?: number;
  /** Seed of the random direction and cotangent (default 0). */
  readonly seed?: number;
  /** The arguments to perturb and check (default: every differentiable one); others, such as an index, stay fixed. */
  readonly argnums?: readonly number[];
  /** Only 1 here; check a second derivative as checkGrads(grad(f, i), args). */
  readonly order?: number;
}

export interface CheckReport {
  /** Each comparison made: its mode, the largest error found and the tolerance it had. */
  readonly checks: readonly { mode: "fwd" | "rev" | "value"; error: number; tolerance: number }[];
}

type Fn = (...args: any[]) => unknown;
// (Parameters typed `any`: the generated f_jvpPair and f_vjp take f's own parameter types.)
type JvpFn = (primals: any, tangents: any) => readonly [unknown, unknown];
type VjpFn = (...primals: any[]) => readonly [unknown, (outBar: any) => readonly unknown[]];

/** `jvp` or `vjp` is null when the build left that mode out (options.modes written as a literal). */
export function checkGrads(f: Fn, jvp: JvpFn | null, vjp: VjpFn | null, diff: readonly boolean[], args: readonly unknown[], options: CheckOptions = {}): CheckReport {
  if (options.order !== undefined && options.order !== 1)
    throw new Error(`checkGrads: order ${options.order} is not an option; check a second derivative as checkGrads(grad(f, i), args)`);
  if (args.length !== diff.length) throw new Error(`checkGrads: ${args.length} argument(s) given to a function of ${diff.length}`);
  const bad = options.argnums?.find((i) => !diff[i]);
  if (bad !== undefined) throw new Error(`checkGrads: argument ${bad} ${bad >= 0 && bad < diff.length ? "carries no derivative" : "does not exist"}`);
  const mask = diff.map((d, i) => d && (options.argnums?.includes(i) ?? true));
  const name = f.name || "f";
  for (let i = 0; i < args.length; i++) {
    const why = mask[i] ? notDifferentiable(args[i], "") : undefined;
    if (why) throw new Error(`checkGrads: argument ${i} of ${name} ${why}, not a number, a number array, a Float64Array or an NDArray (or an array or object of them)`);
  }
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-5;
  const modes = options.modes ?? ["fwd", "rev"];
  const random = generator(options.seed ?? 0);
  const t = args.map((a, i) => (mask[i] ? rebuild(a, leaves(a).map(() => random())) : a));
  const shifted = (s: number): unknown[] => args.map((a, i) => (mask[i] ? rebuild(a, add(leaves(a), leaves(t[i]), s * eps)) : copy(a)));
  const value = f(...args.map(copy));
  const fd = sub(leaves(f(...shifted(1))), leaves(f(...shifted(-1)))).map((d) => d / (2 * eps));
  const checks: { mode: "fwd" | "rev" | "value"; error: number; tolerance: number }[] = [];
  const agree = (mode: "fwd" | "rev" | "value", got: readonly number[], want: readonly number[], what: (k: number) => string): void => {
    if (got.length !== want.length) throw new Error(`checkGrads: ${mode === "fwd" ? "jvp" : "vjp"} gave ${got.length} numbers where f gives ${want.length}`);
    // The entry furthest outside (or least inside) its tolerance; NaN counts as outside.
    let worst = { error: 0, tolerance: atol, k: 0, ratio: -1 };
    for (let k = 0; k < got.length; k++) {
      const error = Math.abs(got[k] - want[k]);
      const tolerance = atol + rtol * Math.abs(want[k]);
      const ratio = Number.isNaN(error) ? Infinity : error / tolerance;
      if (ratio > worst.ratio) worst = { error, tolerance, k, ratio };
    }
    checks.push({ mode, error: worst.error, tolerance: worst.tolerance });
    if (worst.ratio > 1) throw new Error(`checkGrads: ${what(worst.k)}: ${got[worst.k]} against ${want[worst.k]} (error ${worst.error.toExponential(2)} > tolerance ${worst.tolerance.toExponential(2)}; eps ${eps}, seed ${options.seed ?? 0})`);
  };
  for (const [mode, made] of [["fwd", jvp], ["rev", vjp]] as const)
    if (modes.includes(mode) && !made) throw new Error(`checkGrads: ${mode === "fwd" ? "forward" : "reverse"} mode was not compiled for this call (its options.modes leave it out)`);
  if (jvp && modes.includes("fwd")) {
    const [out, outDot] = jvp(args.map(copy), t.map((x, i) => (mask[i] ? x : zeroLike(x))));
    agree("value", leaves(out), leaves(value), (k) => `jvp of ${name} returned a value that is not f's (entry ${k})`);
    agree("fwd", leaves(outDot), fd, (k) => `forward mode (jvp) of ${name} disagrees with central finite differences at output entry ${k}`);
  }
  if (vjp && modes.includes("rev")) {
    const [out, pullback] = vjp(...args.map(copy));
    agree("value", leaves(out), leaves(value), (k) => `vjp of ${name} returned a value that is not f's (entry ${k})`);
    const u = leaves(value).map(() => random());
    const cts = pullback(rebuild(value, u));
    let byRev = 0;
    for (let i = 0; i < args.length; i++) if (mask[i]) byRev += dot(leaves(cts[i]), leaves(t[i]));
    agree("rev", [byRev], [dot(u, fd)], () => `reverse mode (vjp) of ${name} disagrees with central finite differences: <u, J t>`);
  }
  return { checks };
}

/**
 * Why a value given for a differentiated parameter has no derivative to check (a string, a
 * boolean, undefined, an Int32Array, also inside an array); undefined when it has. An object's
 * fields are not looked at: an object parameter may carry fields that are not differentiated.
 */
function notDifferentiable(x: unknown, at: string): string | undefined {
  if (typeof x === "number" || x instanceof NDArray || x instanceof Float64Array) return undefined;
  if (Array.isArray(x)) {
    for (let k = 0; k < x.length; k++) {
      const why = notDifferentiable(x[k], `${at}[${k}]`);
      if (why) return why;
    }
    return undefined;
  }
  if (typeof x === "object" && x !== null && !ArrayBuffer.isView(x)) return undefined;
  const what =
    typeof x === "string" ? `a string (${JSON.stringify(x.length > 20 ? x.slice(0, 17) + "..." : x)})`
    : typeof x === "boolean" || typeof x === "bigint" ? `a ${typeof x} (${String(x)}${typeof x === "bigint" ? "n" : ""})`
    : x === undefined || x === null ? String(x)
    : typeof x === "function" ? "a function"
    : typeof x === "symbol" ? "a symbol"
    : ((kind) => `${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind}`)((x as object).constructor?.name ?? "value of another kind");
  return at ? `holds ${what} at ${at}` : `is ${what}`;
}

/** Every number of a value, in a fixed order (arrays in index order, objects in key order). */
function leaves(x: unknown, out: number[] = []): number[] {
  if (typeof x === "number") out.push(x);
  else if (x instanceof NDArray) for (const v of x.data) out.push(v);
  else if (x instanceof Float64Array || Array.isArray(x)) for (const v of x) leaves(v, out);
  else if (typeof x === "object" && x !== null && !ArrayBuffer.isView(x)) for (const k of Object.keys(x)) leaves((x as Record<string, unknown>)[k], out);
  return out;
}

/** A copy of x with its numbers replaced, in leaves' order. */
function rebuild(x: unknown, values: readonly number[]): unknown {
  let k = 0;
  const go = (v: unknown): unknown => {
    if (typeof v === "number") return values[k++];
    if (v instanceof NDArray) return new NDArray(Float64Array.from(v.data, () => values[k++]), v.shape);
    if (v instanceof Float64Array) return Float64Array.from(v, () => values[k++]);
    if (Array.isArray(v)) return v.map(go);
    if (typeof v === "object" && v !== null && !ArrayBuffer.isView(v)) {
      // (A class instance stays one: f may call its methods.)
      const proto = Object.getPrototypeOf(v) as object | null;
      const o: Record<string, unknown> = proto === Object.prototype || proto === null ? {} : Object.create(proto);
      for (const key of Object.keys(v)) o[key] = go((v as Record<string, unknown>)[key]);
      return o;
    }
    return v;
  };
  return go(x);
}

const copy = (x: unknown): unknown => rebuild(x, leaves(x));
const zeroLike = (x: unknown): unknown => rebuild(x, leaves(x).map(() => 0));
const add = (a: readonly number[], b: readonly number[], s: number): number[] => a.map((v, k) => v + s * b[k]);
const sub = (a: readonly number[], b: readonly number[]): number[] => a.map((v, k) => v - b[k]);
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, k) => s + v * b[k], 0);

/** Numbers uniform in [-1, 1) from a seed (xorshift32), so a failing check repeats. */
function generator(seed: number): () => number {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}
