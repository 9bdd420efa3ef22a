/**
 * Pytrees: what adc differentiates inside a parameter is a number, a number array, a
 * Float64Array, an NDArray, or an object or array of those, nested to any depth. Adjoints have
 * the same structure (as in JAX). NDArray adjoints start as `null`, a symbolic zero, and are made
 * concrete at the end (`fillBar`); parts that carry no derivative (strings, booleans, functions)
 * are copied into the gradient as they are, so it keeps the parameter's type.
 */
import { zerosF64 } from "./alloc.js";
import { NDArray } from "./ndarray/ndarray.js";
import { accumulate, zerosLikeOperand } from "./ndarray/registry.js";
export { checkCotangent } from "./cotangent.js";

/** The adjoint of a T while it is being accumulated. */
export type Bar<T> = T extends NDArray
  ? NDArray | null
  : T extends number
    ? number
    : T extends Float64Array
      ? Float64Array
      : T extends readonly (infer E)[]
        ? Bar<E>[]
        : T extends (...args: never[]) => unknown
          ? T
          : T extends object
            ? { -readonly [K in keyof T]: Bar<T[K]> }
            : T;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !(x instanceof NDArray) && !ArrayBuffer.isView(x) && !Array.isArray(x);
}

/**
 * An empty object of x's kind: a plain object for a plain one, an object with the same prototype
 * for a class instance (a model's gradient is a model, with its methods, as a JAX pytree keeps
 * its node type). The constructor does not run: the fields are filled in by the caller.
 */
function sameKind(x: object): Record<string, unknown> {
  const proto = Object.getPrototypeOf(x) as object | null;
  return proto === Object.prototype || proto === null ? {} : (Object.create(proto) as Record<string, unknown>);
}

/** A zero adjoint with x's structure. */
export function barOf<T>(x: T): Bar<T> {
  return zeroOf(x) as Bar<T>;
}

function zeroOf(x: unknown): unknown {
  if (typeof x === "number") return 0;
  if (x instanceof NDArray) return null;
  if (x instanceof Float64Array) return zerosF64(x.length);
  if (Array.isArray(x)) return x.map(zeroOf);
  if (isPlainObject(x)) {
    const out = sameKind(x);
    for (const k of Object.keys(x)) out[k] = zeroOf(x[k]);
    return out;
  }
  return x;
}

/** The final gradient: symbolic NDArray zeros made concrete in the shape of `like`. */
export function fillBar<T>(bar: Bar<NoInfer<T>>, like: T): T {
  return fill(bar, like) as T;
}

function fill(bar: unknown, like: unknown): unknown {
  if (typeof like === "number") return bar;
  if (like instanceof NDArray) return (bar as NDArray | null) ?? zerosLikeOperand(like);
  if (like instanceof Float64Array) return bar;
  if (Array.isArray(like)) return like.map((v, k) => fill((bar as unknown[])[k], v));
  if (isPlainObject(like)) {
    const out = sameKind(like);
    for (const k of Object.keys(like)) out[k] = fill((bar as Record<string, unknown>)[k], like[k]);
    return out;
  }
  return like;
}

/**
 * `dst += src` for two adjoints of one structure, in place: the adjoint of reading a part of a
 * parameter (`const layer = p.l1`) adds what reached the part into the parameter's adjoint.
 */
export function addTree(dst: unknown, src: unknown): void {
  if (src === null || src === undefined || typeof dst !== "object" || dst === null) return;
  const d = dst as Record<string | number, unknown>;
  const s = src as Record<string | number, unknown>;
  for (const k of Object.keys(s)) {
    const a = d[k];
    const b = s[k];
    if (typeof b === "number") d[k] = (a as number) + b;
    else if (b instanceof NDArray) d[k] = a === null ? b : accumulate(a as NDArray, b);
    else addTree(a, b);
  }
}

/** A copy of x whose arrays (at any depth) are fresh; NDArrays and numbers are shared. */
export function copyArrays<T>(x: T): T {
  if (x instanceof Float64Array) return x.slice() as T;
  if (Array.isArray(x)) return x.map(copyArrays) as T;
  if (isPlainObject(x)) {
    const out = sameKind(x);
    for (const k of Object.keys(x)) out[k] = copyArrays(x[k]);
    return out as T;
  }
  return x;
}
