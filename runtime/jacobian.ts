/**
 * Jacobians from the generated vjp and jvp entry points, in JAX's layout: one row per output
 * entry, each row shaped like the input (a number input gives a column in the output's shape;
 * a number output gives one row in the input's shape, the gradient).
 *
 * jacrev runs the forward sweep once and the pullback once per output entry (a pullback may be
 * called again, it owns its records); jacfwd runs forward mode once per input entry.
 */
import { zerosLike } from "./scratch.js";
import { NDArray } from "./ndarray/ndarray.js";
import { zerosF64 } from "./alloc.js";

type Arr = Float64Array | number[];

function rowOf(values: readonly number[], like: Arr): Arr {
  return like instanceof Float64Array ? Float64Array.from(values) : [...values];
}

function own(v: unknown): unknown {
  return v instanceof Float64Array ? v.slice() : Array.isArray(v) ? [...v] : v;
}

/**
 * jacrev(f, k) at a point: `pair` is f_vjp's result, `k` the argument differentiated, or a list
 * of them (argnums as a list: a tuple of Jacobians, all from the same pullback calls); `args`
 * the arguments f was called with.
 */
export function jacobianRows(pair: readonly [unknown, (outBar: never) => readonly unknown[]], k: number | readonly number[], args: readonly unknown[]): unknown {
  const [out, pullback] = pair;
  const call = pullback as (outBar: unknown) => readonly unknown[];
  const ks = typeof k === "number" ? [k] : k;
  if (out instanceof NDArray || ks.some((j) => args[j] instanceof NDArray)) {
    const nd = ndRows(out, call, ks.map((j) => args[j]), ks);
    return typeof k === "number" ? nd[0] : nd;
  }
  let result: unknown[];
  if (typeof out === "number") {
    const cot = call(1);
    result = ks.map((j) => cot[j]);
  } else {
    const o = out as Arr;
    const ct = zerosLike(o);
    const rows: unknown[][] = ks.map(() => []);
    for (let i = 0; i < o.length; i++) {
      ct[i] = 1;
      const cot = call(ct);
      ks.forEach((j, n) => rows[n].push(own(cot[j])));
      ct[i] = 0;
    }
    // A number argument: one entry per output entry, in the output's shape.
    result = rows.map((r, n) => (typeof args[ks[n]] === "number" ? rowOf(r as number[], o) : r));
  }
  return typeof k === "number" ? result[0] : result;
}

/**
 * jacfwd(f, k) at a point: `jvp(t, last)` is f_jvpPair with tangent `t` for argument k (on
 * copies of the arrays f writes, but for the `last` call, so that the caller's arrays end as
 * one run of f leaves them), `x` that argument.
 */
export function jacobianColumns(jvp: (t: never, last: boolean) => readonly [unknown, unknown], x: number | Arr | NDArray): unknown {
  const call = jvp as (t: unknown, last: boolean) => readonly [unknown, unknown];
  if (x instanceof NDArray) return ndColumns(call, x);
  if (typeof x === "number") {
    const [out, t] = call(1, true);
    return out instanceof NDArray ? ndColumns(call, x) : t;
  }
  // (x itself may be written by the last call.)
  const n = x.length;
  const like = zerosLike(x);
  const e = zerosLike(x);
  const cols: unknown[] = [];
  for (let j = 0; j < n; j++) {
    e[j] = 1;
    cols.push(own(call(e, j === n - 1)[1]));
    e[j] = 0;
  }
  // The output's shape, when there is no column to learn it from.
  const sample = cols.length ? cols[0] : call(e, true)[1];
  if (typeof sample === "number") return rowOf(cols as number[], like);
  // An NDArray output (np.array(xs) inside f): one NDArray of shape out.shape ++ [n].
  if (sample instanceof NDArray) {
    const m = sample.size;
    const block = new Float64Array(m * n);
    cols.forEach((c, j) => {
      const col = entries(c, m);
      for (let i = 0; i < m; i++) block[i * n + j] = col[i];
    });
    return new NDArray(block, [...sample.shape, n]);
  }
  const m = (sample as Arr).length;
  const rows: Arr[] = [];
  for (let i = 0; i < m; i++) rows.push(rowOf(cols.map((c) => (c as Arr)[i]), like));
  return rows;
}

/**
 * hessian(f) of an NDArray argument x, from `hvp(e)` = the Hessian times e: one product per
 * entry of x (column j is H e_j), as one NDArray of shape x.shape ++ x.shape.
 */
export function hessianOfNd(hvp: (e: NDArray) => NDArray, x: NDArray): NDArray {
  return ndColumns((t) => [x, hvp(t as NDArray)], x);
}

/**
 * Checks that `J` has room for an m x n block at `at` (jacrevInto, jacfwdInto): a typed array
 * drops writes past its end without a word, which would leave part of the Jacobian unwritten.
 */
export function jacobianSpace(J: Float64Array, at: number, m: number, n: number): void {
  if (!(J instanceof Float64Array)) throw new TypeError("adc: the Jacobian buffer must be a Float64Array");
  if (!Number.isInteger(at) || at < 0 || at + m * n > J.length)
    throw new RangeError(`adc: the Jacobian is ${m} x ${n} (${m * n} entries); it does not fit at offset ${at} of a buffer of ${J.length}`);
}

/**
 * Writes Jacobians in JAX's layout (`parts`, one per argument differentiated; `inputs`, those
 * arguments) into `J` at `at` as one row-major block: a row per output entry, the arguments'
 * columns side by side (a number argument one column, an array one per entry). Returns J.
 */
export function jacobianInto(J: Float64Array, at: number, parts: readonly unknown[], inputs: readonly unknown[]): Float64Array {
  if (parts.some((p) => p instanceof NDArray)) return ndInto(J, at, parts as NDArray[], inputs);
  const widths = inputs.map((x) => (typeof x === "number" ? 1 : (x as Arr).length));
  const n = widths.reduce((s, w) => s + w, 0);
  // A number output's Jacobian is one row: a number for a number argument, the gradient (an
  // array of numbers) for an array one. An array output's is a column for a number argument and
  // a list of rows for an array one. (An empty list is either, and writes nothing either way.)
  const gradientRow = (p: unknown): boolean => p instanceof Float64Array || (Array.isArray(p) && typeof p[0] === "number");
  const scalarOut = parts.some((p, k) => typeof p === "number" || (typeof inputs[k] !== "number" && gradientRow(p)));
  const m = scalarOut ? 1 : parts.length ? (parts[0] as Arr | Arr[]).length : 0;
  jacobianSpace(J, at, m, n);
  let col = at;
  parts.forEach((p, k) => {
    for (let i = 0; i < m; i++) {
      const row = col + i * n;
      if (typeof p === "number") J[row] = p;
      else if (scalarOut) for (let j = 0; j < widths[k]; j++) J[row + j] = (p as Arr)[j];
      else if (typeof inputs[k] === "number") J[row] = (p as Arr)[i];
      else for (let j = 0; j < widths[k]; j++) J[row + j] = (p as Arr[])[i][j];
    }
    col += widths[k];
  });
  return J;
}

/**
 * jacrevInto of a function that reads `x[k]` for a k past x's end: the adjoint of that entry
 * would land in the next argument's columns (or past the block), so it is refused.
 */
export function jacobianIndexError(name: string, k: number, length: number): never {
  throw new RangeError(`adc: the function reads ${name}[${k}], but ${name} has ${length} entries: jacrevInto cannot place that entry's derivative in the block`);
}

type Kind = "num" | "Float64Array" | "Array";

/** `w` entries of J from `from`, every `stride`-th, as an array of `kind`. */
function take(J: Float64Array, kind: Kind, from: number, w: number, stride: number): Arr {
  // (zerosF64: a small Float64Array of its own would cost microseconds on Node 20, runtime/alloc.ts.)
  const a = kind === "Float64Array" ? zerosF64(w) : new Array<number>(w);
  for (let k = 0; k < w; k++) a[k] = J[from + k * stride];
  return a;
}

/**
 * jacfwd's result in JAX's layout from the row-major m x n block it computed (the arguments'
 * columns side by side): for each argument, the output's shape x its shape; `kinds` says what
 * each argument is, `out` what the output is. A tuple for argnums written as a list.
 */
export function jacobianFromBlock(J: Float64Array, m: number, inputs: readonly unknown[], kinds: readonly Kind[], out: Kind, tuple: boolean): unknown {
  const n = m ? J.length / m : 0;
  const parts: unknown[] = [];
  let col = 0;
  for (let k = 0; k < inputs.length; k++) {
    const w = kinds[k] === "num" ? 1 : (inputs[k] as Arr).length;
    if (out === "num") parts.push(kinds[k] === "num" ? J[col] : take(J, kinds[k], col, w, 1));
    else if (kinds[k] === "num") parts.push(take(J, out, col, m, n));
    else {
      const rows: Arr[] = [];
      for (let i = 0; i < m; i++) rows.push(take(J, kinds[k], i * n + col, w, 1));
      parts.push(rows);
    }
    col += w;
  }
  return tuple ? parts : parts[0];
}

// ---- NDArray Jacobians ----------------------------------------------------------------------
// Where the output or the argument is an NDArray, the Jacobian is one NDArray of shape
// output shape ++ argument shape (a number's shape is [], an array's [length]), as in JAX.

function shapeOf(v: unknown): number[] {
  if (v instanceof NDArray) return [...v.shape];
  return typeof v === "number" ? [] : [(v as Arr).length];
}

function sizeOf(v: unknown): number {
  return shapeOf(v).reduce((a, b) => a * b, 1);
}

/** v's entries, row-major; a symbolically zero (null) cotangent or tangent has `size` zeros. */
function entries(v: unknown, size: number): ArrayLike<number> {
  if (v === null || v === undefined) return new Float64Array(size);
  if (v instanceof NDArray) return v.data;
  return typeof v === "number" ? [v] : (v as Arr);
}

/** The unit vector e_i shaped like `like`. */
function unit(like: unknown, i: number): unknown {
  if (typeof like === "number") return 1;
  if (like instanceof NDArray) {
    const d = new Float64Array(like.size);
    d[i] = 1;
    return new NDArray(d, like.shape);
  }
  const e = zerosLike(like as Arr);
  e[i] = 1;
  return e;
}

/** jacrev with NDArrays: one pullback call per output entry, its cotangents the block's rows. */
function ndRows(out: unknown, call: (outBar: unknown) => readonly unknown[], inputs: readonly unknown[], ks: readonly number[]): NDArray[] {
  const m = sizeOf(out);
  const blocks = inputs.map((x) => new Float64Array(m * sizeOf(x)));
  for (let i = 0; i < m; i++) {
    const cot = call(unit(out, i));
    ks.forEach((j, n) => {
      const w = sizeOf(inputs[n]);
      blocks[n].set(entries(cot[j], w), i * w);
    });
  }
  return inputs.map((x, n) => new NDArray(blocks[n], [...shapeOf(out), ...shapeOf(x)]));
}

/** jacfwd with NDArrays: one tangent evaluation per argument entry, its tangent the block's column. */
function ndColumns(call: (t: unknown, last: boolean) => readonly [unknown, unknown], x: unknown): NDArray {
  const n = sizeOf(x);
  let out: unknown = undefined;
  let block = new Float64Array(0);
  let m = 0;
  for (let j = 0; j < n; j++) {
    const [o, t] = call(unit(x, j), j === n - 1);
    if (j === 0) {
      out = o;
      m = sizeOf(o);
      block = new Float64Array(m * n);
    }
    const col = entries(t, m);
    for (let i = 0; i < m; i++) block[i * n + j] = col[i];
  }
  // With no entries, the output's shape from one evaluation.
  if (n === 0) out = call(typeof x === "number" ? 0 : unit(x, -1), true)[0];
  return new NDArray(block, [...shapeOf(out), ...shapeOf(x)]);
}

/** jacobianInto for NDArray Jacobians (output shape ++ argument shape): the blocks side by side. */
function ndInto(J: Float64Array, at: number, parts: readonly NDArray[], inputs: readonly unknown[]): Float64Array {
  const widths = inputs.map(sizeOf);
  const n = widths.reduce((s, w) => s + w, 0);
  // The output's entries: the leading dimensions of a part, before the argument's own.
  const rows = parts.length ? parts[0].shape.slice(0, parts[0].shape.length - shapeOf(inputs[0]).length).reduce((a, b) => a * b, 1) : 0;
  jacobianSpace(J, at, rows, n);
  let col = 0;
  parts.forEach((p, k) => {
    const w = widths[k];
    for (let i = 0; i < rows; i++) for (let j = 0; j < w; j++) J[at + i * n + col + j] = p.data[i * w + j];
    col += w;
  });
  return J;
}
