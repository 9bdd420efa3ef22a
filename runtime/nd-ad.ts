/**
 * What generated code calls for NDArray operations: the tangent of an op given its operands'
 * tangents, and the adjoint contribution to one operand, over the op registry. `null` is a
 * symbolic zero at run time: an adjoint nothing has flowed into yet, or an inactive tangent.
 * Keeping zeros symbolic means no zero arrays are allocated for unused paths.
 */
import { NDArray } from "./ndarray/ndarray.js";
import { accumulate, anyOp, ndOps, onesLikeOperand, zerosLikeOperand } from "./ndarray/registry.js";
import type { Operand } from "./ndarray/types.js";

function op(name: string) {
  const o = anyOp(name);
  if (!o) throw new Error(`adc: no NDArray op '${name}'`);
  return o;
}

/** Every op's primal by name, for ops generated code cannot reach through `np`. */
export const ndPrimal: Readonly<Record<string, (...args: any[]) => any>> = Object.fromEntries(
  Object.keys(ndOps).concat(["attachGrad", "fromArray"]).map((k) => [k, anyOp(k)!.primal]),
);

/** The tangent of `out = name(...args)` given tangents per argument (null: inactive). */
export function ndJvp(name: string, args: readonly unknown[], dots: readonly (Operand | readonly (Operand | null)[] | ArrayLike<number> | null)[], out: unknown): Operand {
  const o = op(name);
  let acc: Operand | null = null;
  for (const i of o.diff) {
    const t = dots[i];
    if (t === null || t === undefined) continue;
    // A list operand (concat, stack) comes with a list of tangents; the op's rule takes it whole.
    acc = accumulate(acc, o.jvp(i, t as Operand, args, out));
  }
  return acc ?? zerosLikeOperand(out as Operand);
}

/**
 * While a record block's pullback runs (backward()): the block's input arrays that need no
 * adjoint, because no gradient is attached to them and no recorded computation made them (the
 * data a training step reads). An adjoint with respect to one of them is not computed: the
 * block was compiled with every input active, and this is where that is undone at run time (for
 * `matmul(X, W)` it is a product as large as the forward one). Values computed inside the block
 * are never in the set, so what flows to the other inputs is unchanged.
 */
export const constantInputs: { current: ReadonlySet<unknown> | null } = { current: null };

/**
 * The adjoint contribution of `g` to argument i of `out = name(...args)`; null when g is, or when
 * the argument is an input that needs none (constantInputs). `elem` picks one array of a list
 * operand (concat, stack), whose adjoint is a list.
 */
export function ndVjp(name: string, i: number, g: Operand | null, args: readonly unknown[], out: unknown, elem?: number): NDArray | null {
  if (g === null) return null;
  const constants = constantInputs.current;
  if (constants !== null && constants.has(elem === undefined ? args[i] : (args[i] as readonly unknown[])[elem])) return null;
  const r = op(name).vjp(i, g, args, out);
  return (elem === undefined ? r : (r as unknown as Operand[])[elem]) as NDArray;
}

/** The same for a plain array argument (np.array(xs)): its adjoint added into the array's, `bar`. */
export function ndVjpInto(bar: Float64Array | number[], name: string, i: number, g: Operand | null, args: readonly unknown[], out: unknown): void {
  if (g === null) return;
  const r = op(name).vjp(i, g, args, out) as unknown as Float64Array;
  for (let k = 0; k < r.length; k++) bar[k] += r[k];
}

/** The same for a number argument (a scalar broadcast into the op). */
export function ndVjpNum(name: string, i: number, g: Operand | null, args: readonly unknown[], out: unknown, elem?: number): number {
  if (g === null) return 0;
  const r = op(name).vjp(i, g, args, out);
  return (elem === undefined ? r : (r as unknown as Operand[])[elem]) as number;
}

/** acc + contrib, where either may be a symbolic zero (null). */
export function ndAcc(acc: NDArray | null, contrib: NDArray | null): NDArray | null {
  if (contrib === null) return acc;
  return accumulate(acc, contrib) as NDArray;
}

/**
 * The seed cotangent of `grad` for a function whose result is an NDArray: allowed when it holds
 * one element (a 0-d array, as JAX's scalars), checked here because shapes are known only when the
 * program runs.
 */
export function scalarSeed(out: NDArray): NDArray {
  if (out.size !== 1)
    throw new Error(`adc: grad needs a function whose result is a number or an NDArray with one element; this one returned shape [${out.shape.join(", ")}]. Reduce it (np.sum, np.mean, .item()) or use vjp with a head gradient.`);
  return onesLikeOperand(out) as NDArray;
}

/** An adjoint that may still be symbolic, made concrete in x's shape. */
export function ndOrZeros(bar: NDArray | null, x: NDArray): NDArray {
  return bar ?? (zerosLikeOperand(x) as NDArray);
}

/** A tangent that is zero: float64 zeros in x's shape. */
export function ndZerosLike(x: NDArray): NDArray {
  return zerosLikeOperand(x) as NDArray;
}
