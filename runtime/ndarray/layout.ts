// Shape arithmetic shared by the NDArray class, the kernels and the ops:
// sizes, row-major strides, numpy broadcasting and axis normalisation.
// Invariants: every array is contiguous row-major, so its strides are a pure
// function of its shape; shapes handed out are frozen so they can be shared
// between arrays without copying.

export type Shape = readonly number[];

const EMPTY: Shape = Object.freeze([]);

/** Validates a shape argument (numpy accepts a bare int for 1-D); returns it frozen (copied unless already frozen). */
export function toShape(shape: number | Shape, what = "shape"): Shape {
  if (typeof shape === "number") shape = [shape];
  if (!Array.isArray(shape)) throw new TypeError(`${what} must be a number or an array of numbers`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${what} entries must be non-negative integers, got [${shape.join(", ")}]`);
    }
  }
  if (shape.length === 0) return EMPTY;
  return Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
}

/** Freezes without validation: for shapes computed by the runtime itself. */
export function frozen(shape: readonly number[]): Shape {
  return Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapeString(shape: Shape): string {
  return shape.length === 0 ? "scalar" : shape.join("x");
}

function fmt(shape: Shape): string {
  return `(${shape.join(",")}${shape.length === 1 ? "," : ""})`;
}

/** numpy broadcasting: align on the right; each pair of dims must match or one must be 1. */
export function broadcastShapes(...shapes: Shape[]): Shape {
  let nd = 0;
  for (const s of shapes) if (s.length > nd) nd = s.length;
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    const off = nd - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i];
      const o = out[off + i];
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else throw new RangeError(`operands could not be broadcast together with shapes ${shapes.map(fmt).join(" ")}`);
    }
  }
  return frozen(out);
}

/**
 * Strides that read a contiguous array of `shape` as if it had `outShape`:
 * missing leading axes and size-1 axes get stride 0. Throws if `shape`
 * cannot broadcast to `outShape`.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const nd = outShape.length;
  const off = nd - shape.length;
  if (off < 0) throw new RangeError(`cannot broadcast shape ${fmt(shape)} to ${fmt(outShape)}`);
  const own = contiguousStrides(shape);
  const s = new Array<number>(nd).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === outShape[off + i]) s[off + i] = d === 1 ? 0 : own[i];
    else if (d !== 1) throw new RangeError(`cannot broadcast shape ${fmt(shape)} to ${fmt(outShape)}`);
  }
  return s;
}

/** Maps a possibly negative axis into [0, ndim); throws numpy's AxisError text otherwise. */
export function normalizeAxis(axis: number, ndim: number): number {
  if (typeof axis !== "number") {
    // A list reaches here from a function that takes one axis; say which ones take a list.
    const a: unknown = axis;
    const got = Array.isArray(a) ? `the list [${a.join(", ")}]` : String(a);
    throw new TypeError(
      `axis must be one integer here, got ${got}; a list of axes is accepted by the reductions sum, mean, max, min, prod, var, std and logsumexp (and by softmax, logSoftmax)`,
    );
  }
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new RangeError(`axis ${axis} is out of bounds for array of dimension ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Splits a shape around `axis` into (outer, n, inner) block sizes for axis-wise kernels. */
export function splitAt(shape: Shape, axis: number): [outer: number, n: number, inner: number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

export const emptyShape = EMPTY;
