// np.random's integer draws and orderings, from the generator np.random.seed
// seeds (random.ts), with numpy's argument conventions: randint, shuffle (in
// place, along axis 0), permutation and choice. Results are float64 arrays
// holding integers, since arrays are float64 or bool.
// An integer in [0, n) is floor(u * n) for a 53-bit uniform u; its bias is
// below n / 2^53.

import { NDArray } from "./ndarray.js";
import { sizeOf, toShape, emptyShape } from "./layout.js";
import { array, type ArrayInput } from "./creation.js";
import { sharedGenerator, sized } from "./random.js";

type Size = number | readonly number[] | null | undefined;

function below(n: number): number {
  return Math.floor(sharedGenerator().nextDouble() * n);
}

/** Integers in [low, high), or [0, low) without high; no size gives a 0-d array. */
export function randint(low: number, high?: number | null, size?: Size): NDArray {
  if (high === undefined || high === null) [low, high] = [0, low];
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new TypeError(`randint: low and high must be integers, got ${low}, ${high}`);
  if (low >= high) throw new RangeError(`randint: low >= high (${low} >= ${high})`);
  const span = high - low;
  return sized(size, () => low + below(span));
}

/** Fisher-Yates over the rows (blocks along axis 0) of data. */
function shuffleRows(data: Float64Array, rows: number): void {
  const inner = rows === 0 ? 0 : data.length / rows;
  const tmp = new Float64Array(inner);
  for (let i = rows - 1; i > 0; i--) {
    const j = below(i + 1);
    if (j === i) continue;
    tmp.set(data.subarray(i * inner, (i + 1) * inner));
    data.copyWithin(i * inner, j * inner, (j + 1) * inner);
    data.set(tmp, j * inner);
  }
}

/** Reorders x along axis 0 in place, as numpy's shuffle (the array's buffer changes). */
export function shuffle(x: NDArray): void {
  if (!(x instanceof NDArray) || x.ndim === 0) throw new TypeError("shuffle: needs an NDArray with at least one axis");
  shuffleRows(x.data, x.shape[0]);
}

/** A shuffled copy of x along axis 0, or of arange(n) for a number. */
export function permutation(x: number | NDArray): NDArray {
  if (typeof x === "number") {
    if (!Number.isInteger(x) || x < 0) throw new RangeError(`permutation: n must be a non-negative integer, got ${x}`);
    const data = Float64Array.from({ length: x }, (_v, i) => i);
    shuffleRows(data, x);
    return new NDArray(data, [x]);
  }
  const c = array(x);
  shuffle(c);
  return c;
}

/** Cumulative probabilities of p (checked as numpy does: non-negative, summing to 1). */
function cumulative(p: ArrayInput, n: number): Float64Array {
  const w = array(p).data;
  if (w.length !== n) throw new RangeError("choice: a and p must have the same size");
  const c = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!(w[i] >= 0)) throw new RangeError("choice: probabilities are not non-negative");
    c[i] = total += w[i];
  }
  if (Math.abs(total - 1) > 1e-8) throw new RangeError("choice: probabilities do not sum to 1");
  return c;
}

/** The first position whose cumulative weight exceeds u * total (never one of weight 0). */
function byWeight(c: Float64Array): number {
  const u = sharedGenerator().nextDouble() * c[c.length - 1];
  let k = 0;
  while (k < c.length - 1 && c[k] <= u) k++;
  return k;
}

/**
 * Samples from a (a 1-D array or list, or arange(a) for a number): with
 * replacement by default, optionally with probabilities p; no size gives a 0-d array.
 */
export function choice(a: number | ArrayInput, size?: Size, replace = true, p?: ArrayInput | null): NDArray {
  const pool = typeof a === "number" ? null : array(a);
  const n = pool === null ? (a as number) : pool.size;
  if (pool !== null && pool.ndim !== 1) throw new RangeError("choice: a must be 1-dimensional");
  if (!Number.isInteger(n) || n <= 0) throw new RangeError("choice: a must be a positive integer or a non-empty array");
  const shape = size === undefined || size === null ? emptyShape : toShape(size, "size");
  const count = sizeOf(shape);
  const value = (k: number): number => (pool === null ? k : pool.data[k]);
  const c = p === undefined || p === null ? null : cumulative(p, n);
  if (replace) return sized(size, () => value(c === null ? below(n) : byWeight(c)));
  if (count > n) throw new RangeError("choice: cannot take a larger sample than the population when replace is false");
  const out = new Float64Array(count);
  if (c === null) {
    // The first `count` steps of Fisher-Yates over the positions.
    const order = Float64Array.from({ length: n }, (_v, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + below(n - i);
      [order[i], order[j]] = [order[j], order[i]];
      out[i] = value(order[i]);
    }
  } else {
    // Draw by weight, then remove the drawn entry's weight and draw again.
    const w = array(p as ArrayInput).data.slice();
    if (w.filter((x) => x > 0).length < count) throw new RangeError("choice: fewer non-zero entries in p than size");
    for (let i = 0; i < count; i++) {
      let total = 0;
      for (let k = 0; k < n; k++) c[k] = total += w[k];
      const k = byWeight(c);
      w[k] = 0;
      out[i] = value(k);
    }
  }
  return new NDArray(out, shape);
}

export const draws = { randint, shuffle, permutation, choice };
