// Array creation: array, arange, zeros, ones, full, eye, linspace, zerosLike,
// onesLike. None of these is an op (their results do not depend
// differentiably on any array argument), so they have no registry entry;
// `creationNames` lists them for the compiler.
// Invariants: results own fresh buffers; `array` copies its input; nested
// input must be rectangular; all-boolean input gives a bool array.

import { NDArray } from "./ndarray.js";
import { sizeOf, toShape } from "./layout.js";
import { shapeOf } from "./operand.js";
import type { DType, Operand } from "./types.js";

/** What np.array accepts: numbers, booleans, NDArrays, typed arrays, and (nested) JS arrays of these. */
export type ArrayInput = number | boolean | NDArray | ArrayLike<number> | readonly ArrayInput[];

function nestedShape(x: ArrayInput): number[] {
  if (typeof x === "number" || typeof x === "boolean") return [];
  if (x instanceof NDArray) return [...x.shape];
  if (Array.isArray(x)) return x.length === 0 ? [0] : [x.length, ...nestedShape(x[0] as ArrayInput)];
  if (ArrayBuffer.isView(x)) return [(x as ArrayLike<number>).length];
  throw new TypeError(`np.array: unsupported element ${String(x)}`);
}

export function array(x: ArrayInput): NDArray {
  if (x instanceof NDArray) return new NDArray(x.data.slice(), x.shape, x.dtype);
  const shape = nestedShape(x);
  const data = new Float64Array(sizeOf(shape));
  let pos = 0;
  let allBool = true;
  const ragged = (): never => {
    throw new RangeError("np.array: nested sequences must be rectangular (inhomogeneous shape)");
  };
  const fill = (v: ArrayInput, axis: number): void => {
    if (typeof v === "number" || typeof v === "boolean") {
      if (axis !== shape.length) ragged();
      if (typeof v === "number") allBool = false;
      data[pos++] = Number(v);
    } else if (v instanceof NDArray) {
      for (let i = 0; i < v.shape.length; i++) if (v.shape[i] !== shape[axis + i]) ragged();
      if (axis + v.shape.length !== shape.length) ragged();
      if (v.dtype !== "bool") allBool = false;
      data.set(v.data, pos);
      pos += v.size;
    } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const list = v as ArrayLike<ArrayInput>;
      if (axis >= shape.length || list.length !== shape[axis]) ragged();
      for (let i = 0; i < list.length; i++) fill(list[i], axis + 1);
    } else {
      throw new TypeError(`np.array: unsupported element ${String(v)}`);
    }
  };
  fill(x, 0);
  return new NDArray(data, shape, allBool && data.length > 0 ? "bool" : "float64");
}

/** arange(stop) or arange(start, stop, step = 1): [start, stop) in steps, as numpy. */
export function arange(start: number, stop?: number, step = 1): NDArray {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new RangeError("arange: step must be finite and nonzero");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new NDArray(data, [n]);
}

export function full(shape: number | readonly number[], value: number | boolean): NDArray {
  const s = toShape(shape);
  const dtype: DType = typeof value === "boolean" ? "bool" : "float64";
  return new NDArray(new Float64Array(sizeOf(s)).fill(Number(value)), s, dtype);
}

export function zeros(shape: number | readonly number[]): NDArray {
  const s = toShape(shape);
  return new NDArray(new Float64Array(sizeOf(s)), s);
}

export function ones(shape: number | readonly number[]): NDArray {
  return full(shape, 1);
}

/** n x m identity-like matrix (m defaults to n). */
export function eye(n: number, m: number = n): NDArray {
  const s = toShape([n, m]);
  const data = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return new NDArray(data, s);
}

/** num evenly spaced values from start to stop inclusive. */
export function linspace(start: number, stop: number, num = 50): NDArray {
  if (!Number.isInteger(num) || num < 0) throw new RangeError(`linspace: num must be a non-negative integer, got ${num}`);
  const data = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = start + i * step;
  // The endpoint is exact, as in numpy, rather than start + (num-1)*step.
  if (num > 1) data[num - 1] = stop;
  return new NDArray(data, [num]);
}

function dtypeOf(x: Operand): DType {
  return typeof x === "number" ? "float64" : x.dtype;
}

/** Zeros with x's shape and dtype (a 0-d array for a number). */
export function zerosLike(x: Operand): NDArray {
  return new NDArray(new Float64Array(sizeOf(shapeOf(x))), shapeOf(x), dtypeOf(x));
}

/** Ones with x's shape and dtype (a 0-d array for a number). */
export function onesLike(x: Operand): NDArray {
  return new NDArray(new Float64Array(sizeOf(shapeOf(x))).fill(1), shapeOf(x), dtypeOf(x));
}

/** Every np function that creates arrays from static arguments (dotted paths under np). */
export const creationNames: readonly string[] = Object.freeze([
  "array", "arange", "zeros", "ones", "full", "eye", "linspace", "zerosLike", "onesLike",
  "random.seed", "random.normal", "random.uniform",
]);
