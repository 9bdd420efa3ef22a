// The NDArray class: an owned, contiguous, row-major Float64Array plus a
// frozen shape and a dtype, with numpy-like methods whose receiver is operand
// 0 of the registry op of the same name.
// Invariants:
//   - data.length === product(shape); data is never shared with another
//     NDArray (every op returns a fresh buffer), so nothing observes aliasing;
//   - bool arrays store exactly 0/1 and come from comparisons; arithmetic
//     reads them as numbers and returns float64;
//   - methods only forward to the op functions. The op modules import this
//     class and this module imports them back; the cycle is safe because
//     neither side touches the other's bindings while modules evaluate.
// The class is deliberately small: an imperative autograd layer (grad fields
// etc.) is to be added later, so its only state is data, shape and dtype.

import { ND_BRAND } from "./brand.js";
import { attachGrad, detach, gradOf, zeroGrad } from "../autograd-state.js";
import { formatNDArray } from "./format.js";
import { sizeOf, toShape, type Shape } from "./layout.js";
import type { DType, Nested, Operand } from "./types.js";
import { broadcastTo } from "./operand.js";
import * as bin from "./ops/binary.js";
import * as clp from "./ops/clip.js";
import * as cmp from "./ops/compare.js";
import * as dis from "./ops/discrete.js";
import * as gat from "./ops/gather.js";
import * as idx from "./ops/indexing.js";
import * as la from "./ops/linalg.js";
import * as mom from "./ops/moments.js";
import * as red from "./ops/reduce.js";
import * as shp from "./ops/shape.js";
import * as smx from "./ops/softmax.js";
import type { Axis } from "./ops/axes.js";
import type { Indices } from "./ops/gather.js";
import * as un from "./ops/unary.js";

/**
 * backward() is the imperative autograd runtime's (runtime/autograd.ts), which installs it here
 * when a record block loads it, so this class stays free of an import cycle with it. The rest of
 * the imperative API is per-array state (autograd-state.ts), which every program that makes an
 * NDArray may need, record block or not.
 */
export const autogradHooks: {
  backward?: (x: NDArray, head?: NDArray | null, options?: { retainGraph?: boolean }) => void;
} = {};

export class NDArray {
  /** Lets code that must stay small tell an NDArray apart without importing this class (brand.ts). */
  get [ND_BRAND](): true {
    return true;
  }
  readonly data: Float64Array;
  readonly shape: Shape;
  readonly dtype: DType;

  /** Adopts `data` (no copy): the caller hands over ownership of the buffer. */
  constructor(data: Float64Array, shape: readonly number[], dtype: DType = "float64") {
    if (!(data instanceof Float64Array)) throw new TypeError("NDArray data must be a Float64Array");
    const s = toShape(shape);
    if (data.length !== sizeOf(s)) {
      throw new RangeError(`data has ${data.length} elements but shape [${s.join(", ")}] needs ${sizeOf(s)}`);
    }
    this.data = data;
    this.shape = s;
    this.dtype = dtype;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The single element as a number; throws unless size is 1. */
  item(): number {
    return idx.item(this);
  }

  /** Nested JS arrays (booleans for bool dtype); a 0-d array gives its value. */
  toArray(): Nested {
    const { data, shape, dtype } = this;
    const value = (x: number): number | boolean => (dtype === "bool" ? x !== 0 : x);
    if (shape.length === 0) return value(data[0]);
    let pos = 0;
    const build = (axis: number): Nested[] => {
      const n = shape[axis];
      const row: Nested[] = new Array(n);
      for (let i = 0; i < n; i++) row[i] = axis === shape.length - 1 ? value(data[pos++]) : build(axis + 1);
      return row;
    };
    return build(0);
  }

  // ---- the imperative API (runtime/autograd.ts) ----

  /** Allocates `grad` (zeros); backward then writes ("write"), adds ("add") or drops ("null") into it. */
  attachGrad(req: "write" | "add" | "null" = "write"): void {
    attachGrad(this, req);
  }

  /** The gradient buffer, after attachGrad. */
  get grad(): NDArray {
    const g = gradOf(this);
    if (!g) throw new Error("adc: this array has no gradient attached; call attachGrad() first");
    return g;
  }

  /**
   * Writes `value` (a number or an array broadcast to this shape) into this array in place and
   * returns it: MXNet's `param[:] = param - lr * param.grad`, TensorFlow's `v.assign(...)`. For
   * updating parameters between training steps; the array keeps its attached gradient. adc
   * refuses it inside differentiated code and record blocks, whose derivatives rely on arrays
   * not changing.
   */
  assign(value: Operand): this {
    if (this.dtype === "bool") throw new TypeError("assign: a bool array cannot be assigned numbers");
    this.data.set(broadcastTo(value, this.shape).data);
    versions.set(this, versionOf(this) + 1);
    return this;
  }

  /** Backpropagates from this array (a non-scalar array means its sum, unless a head is given). */
  backward(head: NDArray | null = null, options: { retainGraph?: boolean } = {}): void {
    const run = autogradHooks.backward;
    // Without a record block in the program, nothing was recorded to go back through.
    if (!run) throw new Error("adc: backward() needs a computation recorded inside record(() => { ... })");
    run(this, head, options);
  }

  /** The same values, outside any recorded computation. */
  detach(): NDArray {
    return detach(this);
  }

  zeroGrad(): void {
    zeroGrad(this);
  }

  /** Index along axis 0, dropping it; an integer array or list takes those rows (alias of index(i)). */
  get(i: number | Indices): NDArray {
    return idx.index(this, i);
  }

  toString(): string {
    return formatNDArray(this.data, this.shape, this.dtype);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- elementwise ----
  add(b: Operand): NDArray { return bin.add(this, b); }
  sub(b: Operand): NDArray { return bin.sub(this, b); }
  mul(b: Operand): NDArray { return bin.mul(this, b); }
  div(b: Operand): NDArray { return bin.div(this, b); }
  pow(b: Operand): NDArray { return bin.pow(this, b); }
  maximum(b: Operand): NDArray { return bin.maximum(this, b); }
  minimum(b: Operand): NDArray { return bin.minimum(this, b); }
  neg(): NDArray { return un.neg(this); }
  square(): NDArray { return un.square(this); }
  exp(): NDArray { return un.exp(this); }
  log(): NDArray { return un.log(this); }
  sqrt(): NDArray { return un.sqrt(this); }
  sin(): NDArray { return un.sin(this); }
  cos(): NDArray { return un.cos(this); }
  tanh(): NDArray { return un.tanh(this); }
  sigmoid(): NDArray { return un.sigmoid(this); }
  relu(): NDArray { return un.relu(this); }
  abs(): NDArray { return un.abs(this); }
  log1p(): NDArray { return un.log1p(this); }
  sign(): NDArray { return un.sign(this); }
  clip(lo: Operand | null, hi?: Operand | null): NDArray { return clp.clip(this, lo, hi); }

  // ---- reductions ----
  sum(axis?: Axis, keepdims?: boolean): NDArray { return red.sum(this, axis, keepdims); }
  mean(axis?: Axis, keepdims?: boolean): NDArray { return red.mean(this, axis, keepdims); }
  max(axis?: Axis, keepdims?: boolean): NDArray { return red.max(this, axis, keepdims); }
  min(axis?: Axis, keepdims?: boolean): NDArray { return red.min(this, axis, keepdims); }
  prod(axis?: Axis, keepdims?: boolean): NDArray { return red.prod(this, axis, keepdims); }
  var(axis?: Axis, keepdims?: boolean, ddof?: number): NDArray { return mom.variance(this, axis, keepdims, ddof); }
  std(axis?: Axis, keepdims?: boolean, ddof?: number): NDArray { return mom.std(this, axis, keepdims, ddof); }
  logsumexp(axis?: Axis, keepdims?: boolean): NDArray { return smx.logsumexp(this, axis, keepdims); }
  argmax(axis?: number | null, keepdims?: boolean): NDArray { return dis.argmax(this, axis, keepdims); }
  argmin(axis?: number | null, keepdims?: boolean): NDArray { return dis.argmin(this, axis, keepdims); }
  softmax(axis?: Axis): NDArray { return smx.softmax(this, axis); }
  logSoftmax(axis?: Axis): NDArray { return smx.logSoftmax(this, axis); }

  // ---- linear algebra ----
  dot(b: Operand): NDArray { return la.dot(this, b); }
  matmul(b: Operand): NDArray { return la.matmul(this, b); }
  norm(): NDArray { return la.norm(this); }

  // ---- shape ----
  reshape(shape: number | readonly number[]): NDArray { return shp.reshape(this, shape); }
  transpose(axes?: readonly number[] | null): NDArray { return shp.transpose(this, axes); }
  /** transpose() with reversed axes, as numpy's `.T`. */
  get T(): NDArray { return shp.transpose(this); }
  expandDims(axis: number): NDArray { return shp.expandDims(this, axis); }
  squeeze(axis?: number | null): NDArray { return shp.squeeze(this, axis); }
  copy(): NDArray { return shp.copy(this); }
  slice(begin: readonly number[], end: readonly number[]): NDArray { return idx.slice(this, begin, end); }
  index(i: number | Indices): NDArray { return idx.index(this, i); }
  take(indices: Indices, axis?: number | null): NDArray { return gat.take(this, indices, axis); }
  pick(index: Indices, axis?: number, keepdims?: boolean): NDArray { return gat.pick(this, index, axis, keepdims); }
  astype(dtype: string): NDArray { return shp.astype(this, dtype); }

  // ---- comparisons and logic (not differentiable) ----
  greater(b: Operand): NDArray { return cmp.greater(this, b); }
  less(b: Operand): NDArray { return cmp.less(this, b); }
  greaterEqual(b: Operand): NDArray { return cmp.greaterEqual(this, b); }
  lessEqual(b: Operand): NDArray { return cmp.lessEqual(this, b); }
  equal(b: Operand): NDArray { return cmp.equal(this, b); }
  notEqual(b: Operand): NDArray { return cmp.notEqual(this, b); }
  all(): boolean { return cmp.all(this); }
  any(): boolean { return cmp.any(this); }
}

/**
 * How many times each array was changed in place (assign). A record block or a pullback notes
 * its inputs' counts and refuses to run after one changed: its derivatives were recorded at the
 * old values, and reading the new ones would give the derivative of a different point.
 */
const versions = new WeakMap<NDArray, number>();

export function versionOf(a: NDArray): number {
  return versions.get(a) ?? 0;
}
