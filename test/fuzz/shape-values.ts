/**
 * Values for the shape checks (shape-checks.ts): seeded points filled into value structures
 * (`Tmpl`), paths into a loaded module, flattening and structure comparison of pytrees, finite
 * differences with kink detection (two step sizes, as check.ts), overflow detection, and the
 * caller's edits of what it passed.
 */
import { close, jumps } from "../helpers/numeric.js";
import { leaves } from "../helpers/pytree.js";
import type { Tmpl } from "./shapes.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;
export { overflows } from "../helpers/numeric.js";
export type Leaf = { get(): number; set(v: number): void };

export interface Ctx {
  /** The module's np (each bundle has its own runtime). */
  readonly np: Any;
  readonly seed: number;
  readonly points: number;
  fail(property: string, message: string): void;
  /** Counts comparisons that ran (a skipped point or coordinate counts nothing), against vacuity. */
  checked(n?: number): void;
}

export const FD_RTOL = 2e-5;
export const EXACT = 1e-9;

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function count(t: Tmpl): number {
  switch (t.k) {
    case "num":
      return 1;
    case "f64":
    case "arr":
      return t.len;
    case "nd":
      return t.shape.reduce((a, b) => a * b, 1);
    case "obj":
      return t.fields.reduce((s, [, f]) => s + count(f), 0);
    case "list":
      return t.items.reduce((s, f) => s + count(f), 0);
    default:
      return 0;
  }
}

/** Numbers for the templates' leaves, uniform in [lo, hi]. */
export function draw(ts: readonly Tmpl[], [lo, hi]: readonly [number, number], r: () => number): number[] {
  return Array.from({ length: ts.reduce((s, t) => s + count(t), 0) }, () => lo + (hi - lo) * r());
}

/** Fresh values of the templates, leaves from `vals` in order (`tangent`: fixed numbers are 0). */
export function instantiate(ts: readonly Tmpl[], vals: readonly number[], np: Any, tangent = false): unknown[] {
  let k = 0;
  const take = (n: number): number[] => vals.slice(k, (k += n));
  const make = (t: Tmpl): unknown => {
    switch (t.k) {
      case "num":
        return take(1)[0];
      case "const":
        return tangent ? 0 : t.v;
      case "f64":
        return Float64Array.from(take(t.len));
      case "arr":
        return take(t.len);
      case "nd":
        return np.reshape(np.array(take(count(t))), t.shape);
      case "str":
        return t.v;
      case "obj":
        return Object.fromEntries(t.fields.map(([n, f]) => [n, make(f)]));
      case "list":
        return t.items.map(make);
    }
  };
  return ts.map(make);
}

/** A value at a module path: "w", "__found.1.g". */
export function at(root: Any, path: string | readonly (string | number)[]): Any {
  return (typeof path === "string" ? path.split(".") : path).reduce((o: Any, k) => (o === undefined || o === null ? o : o[k]), root);
}

export const isNd = (x: unknown): x is { data: Float64Array; shape: number[] } => typeof x === "object" && x !== null && (x as Any).data instanceof Float64Array && Array.isArray((x as Any).shape);

/** Every number in x (a number, an array, an NDArray, or an object or list of those). */
export function flat(x: unknown): number[] {
  return typeof x === "number" ? [x] : leaves(x).map((l) => l.get());
}

export const argLeaves = (args: unknown[], i: number): Leaf[] => (typeof args[i] === "number" ? [{ get: () => args[i] as number, set: (v) => void (args[i] = v) }] : leaves(args[i]));

/** Where `g` does not have the structure of `like` (a gradient has its value's type), or undefined. */
export function structure(g: unknown, like: unknown, where = ""): string | undefined {
  const bad = (what: string): string => `${where || "the gradient"}: ${what}`;
  if (typeof like === "number") return typeof g === "number" ? undefined : bad(`a number expected, got ${describe(g)}`);
  if (typeof like === "string") return g === like ? undefined : bad(`the string ${JSON.stringify(like)} expected, got ${describe(g)}`);
  if (isNd(like)) return isNd(g) && g.shape.join() === like.shape.join() ? undefined : bad(`an NDArray of shape (${like.shape}) expected, got ${describe(g)}`);
  if (like instanceof Float64Array) return g instanceof Float64Array && g.length === like.length ? undefined : bad(`a Float64Array of length ${like.length} expected, got ${describe(g)}`);
  if (Array.isArray(like)) {
    if (!Array.isArray(g) || g.length !== like.length) return bad(`an array of length ${like.length} expected, got ${describe(g)}`);
    for (let k = 0; k < like.length; k++) {
      const m = structure(g[k], like[k], `${where}[${k}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (typeof like === "object" && like !== null) {
    if (typeof g !== "object" || g === null || Array.isArray(g) || isNd(g) || ArrayBuffer.isView(g)) return bad(`an object expected, got ${describe(g)}`);
    const a = Object.keys(like).join();
    if (Object.keys(g).join() !== a) return bad(`fields ${a} expected, got ${Object.keys(g).join()}`);
    for (const k of Object.keys(like)) {
      const m = structure((g as Any)[k], (like as Any)[k], `${where}.${k}`);
      if (m) return m;
    }
  }
  return undefined;
}

export function describe(x: unknown): string {
  if (isNd(x)) return `an NDArray of shape (${x.shape})`;
  if (x instanceof Float64Array) return `a Float64Array of length ${x.length}`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === "object" && x !== null) return `an object with fields ${Object.keys(x).join()}`;
  return typeof x === "string" ? JSON.stringify(x) : String(x);
}

/**
 * d out / d leaf by central differences at two step sizes, per output element; null where they
 * disagree or the one-sided differences do (a kink), or a value is not finite.
 */
export function fd(out: (args: unknown[]) => number[], fresh: () => unknown[], leaf: (args: unknown[]) => Leaf): number[] | null {
  const x = leaf(fresh()).get();
  const at = (d: number): number[] => {
    const args = fresh();
    const l = leaf(args);
    l.set(l.get() + d);
    return out(args);
  };
  const h = 1e-5 * Math.max(1, Math.abs(x));
  // A step that moves a piecewise-constant primitive (round, floor, sign, ...) onto another
  // piece crosses a jump, however smooth the rest looks: no estimate there.
  const base = jumps(() => at(0));
  for (const d of [h, -h, h / 4, -h / 4]) if (jumps(() => at(d)) !== base) return null;
  const [p1, m1, p2, m2, f0] = [at(h), at(-h), at(h / 4), at(-h / 4), at(0)];
  const d1 = p1.map((v, k) => (v - m1[k]) / (2 * h));
  const d2 = p2.map((v, k) => (v - m2[k]) / (h / 2));
  for (let k = 0; k < d1.length; k++) {
    if (!Number.isFinite(d1[k]) || !Number.isFinite(d2[k])) return null;
    if (!close(d1[k], d2[k], FD_RTOL * 10, FD_RTOL * 10)) return null;
    if (!close((p1[k] - f0[k]) / h, (f0[k] - m1[k]) / h, 1e-3, 1e-3)) return null;
  }
  return d2.map((v, k) => v + (v - d1[k]) / 15);
}

export const same = (a: readonly number[], b: readonly number[], rtol = EXACT, atol = 1e-12): boolean => a.length === b.length && a.every((x, k) => Object.is(x, b[k]) || close(x, b[k], rtol, atol));
/** Same length and numbers, compared exactly (nothing may have touched the array). */
export const untouched = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, k) => Object.is(x, b[k]));
export const show = (a: readonly number[]): string => `[${a.map((x) => +x.toPrecision(8)).join(", ")}]`;

/** Compares each gradient leaf of argument `i` with finite differences of `f`. */
export function checkAgainstFd(ctx: Ctx, label: string, f: Any, fresh: () => unknown[], i: number, grad: unknown, scale: number): void {
  const g = flat(grad);
  const n = argLeaves(fresh(), i).length;
  if (g.length !== n) return ctx.fail("gradient structure", `${label}: the gradient of argument ${i} has ${g.length} numbers, the argument ${n}`);
  for (let j = 0; j < n; j++) {
    const d = fd((args) => flat(f(...args)), fresh, (args) => argLeaves(args, i)[j]);
    if (d) ctx.checked();
    if (d && !close(g[j], d[0], FD_RTOL, FD_RTOL * scale)) return ctx.fail("gradient vs finite differences", `${label}: d/d(argument ${i}, number ${j}) = ${g[j]}, finite differences ${d[0]}`);
  }
}

/**
 * The caller's edits after a call: every number array inside `args` (not NDArrays) gets
 * `a[0] += 1.5`, or every number field of an object `+= 1.5`. Returns how many were edited.
 */
export function edit(args: unknown[], what: "arrays" | "fields"): number {
  let n = 0;
  const visit = (x: unknown): void => {
    if (x instanceof Float64Array || (Array.isArray(x) && x.every((v) => typeof v === "number"))) {
      if (what === "arrays" && x.length) (x as number[])[0] += 1.5, n++;
    } else if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === "object" && x !== null && !isNd(x))
      for (const [k, v] of Object.entries(x)) {
        if (typeof v === "number" && what === "fields") ((x as Any)[k] += 1.5), n++;
        else visit(v);
      }
  };
  args.forEach(visit);
  return n;
}

/** A cotangent for an output: a number, or an array of its kind and length. */
export function ctOf(out: unknown): Any {
  if (typeof out === "number") return 0.75;
  const v = flat(out).map((_, k) => Math.sin(k + 1.3));
  return out instanceof Float64Array ? Float64Array.from(v) : v;
}
