/**
 * The per-array state of the imperative API, kept apart from autograd.ts so the NDArray op for
 * attaching a gradient inside a record block can use it without an import cycle through the op
 * registry. Arrays are keyed weakly: an array without a gradient or a graph costs nothing.
 */
import { NDArray } from "./ndarray/ndarray.js";

export type GradReq = "write" | "add" | "null";

export interface Autograd {
  /** The record block (and output slot) that made the array; null or absent for leaves. */
  node?: { readonly block: unknown; readonly index: number } | null;
  grad?: NDArray;
  gradReq?: GradReq;
  /**
   * Blocks numbered from here on treat the array as a leaf (its gradient was attached after it
   * was made); so does its own backward(). Blocks recorded before still reach what made it.
   */
  leafSince?: number;
}

/** Record blocks are numbered in the order they run. */
export const blocks = { next: 0 };

export const meta = new WeakMap<NDArray, Autograd>();

export function metaOf(x: NDArray): Autograd {
  let a = meta.get(x);
  if (!a) meta.set(x, (a = {}));
  return a;
}

/** Allocates x.grad (zeros), sets how backward stores into it, and makes x a leaf. */
export function attachGrad(x: NDArray, req: GradReq = "write"): void {
  const a = metaOf(x);
  a.grad = new NDArray(new Float64Array(x.size), x.shape);
  a.gradReq = req;
  a.leafSince = blocks.next;
}

/** Cotangents reaching arrays that had a gradient attached inside a block, during one backward. */
export const deposits: { current: Map<NDArray, NDArray> | null } = { current: null };

/** The gradient buffer of an array (undefined until a gradient is attached). */
export function gradOf(x: NDArray): NDArray | undefined {
  return meta.get(x)?.grad;
}

export function zeroGrad(x: NDArray): void {
  const g = meta.get(x)?.grad;
  if (g) g.data.fill(0);
}

/** The same values with no graph behind them. */
export function detach(x: NDArray): NDArray {
  return new NDArray(x.data.slice(), x.shape, x.dtype);
}
