// Strided loops over contiguous Float64Array buffers: gather (broadcast,
// transpose, slice), scatter-add (unbroadcast, slice/index adjoints) and the
// broadcasting elementwise maps. Pure typed-array code; knows nothing about
// NDArray, so it sits below the class in the import graph.
// Invariant: every source buffer is contiguous row-major; a "view" is only
// ever described by (offset, strides, shape) for the length of one loop and
// the result is always written into a fresh or caller-owned buffer.
// All loops walk the output's last axis in a tight inner loop and advance an
// odometer over the outer axes, so there is no per-element allocation.

import { broadcastShapes, broadcastStrides, sameShape, sizeOf, type Shape } from "../layout.js";

/** out[i] = src[offset + sum_d idx_d * strides[d]] for every index of `shape` (row-major out). */
export function gather(src: Float64Array, offset: number, strides: readonly number[], shape: Shape): Float64Array {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  if (n === 0) return out;
  const nd = shape.length;
  if (nd === 0) {
    out[0] = src[offset];
    return out;
  }
  const inner = shape[nd - 1];
  const si = strides[nd - 1];
  const idx = new Int32Array(nd);
  const rows = n / inner;
  let base = offset;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    if (si === 1) {
      for (let j = 0, p = base; j < inner; j++) out[o++] = src[p++];
    } else {
      for (let j = 0, p = base; j < inner; j++, p += si) out[o++] = src[p];
    }
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** dst[offset + sum_d idx_d * strides[d]] += src[i]; the inverse walk of `gather`, accumulating. */
export function scatterAdd(
  dst: Float64Array,
  offset: number,
  strides: readonly number[],
  shape: Shape,
  src: Float64Array,
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const nd = shape.length;
  if (nd === 0) {
    dst[offset] += src[0];
    return;
  }
  const inner = shape[nd - 1];
  const si = strides[nd - 1];
  const idx = new Int32Array(nd);
  const rows = n / inner;
  let base = offset;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, p = base; j < inner; j++, p += si) dst[p] += src[o++];
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** A contiguous row-major buffer and its shape; an NDArray is one, and so is a kernel result. */
export interface Dense {
  readonly data: Float64Array;
  readonly shape: Shape;
}

/**
 * A row kernel: for k < n, out[o + k] = f(a[ia + k*sa], b[ib + k*sb]).
 * Each op writes its own (a one-line literal loop), so V8 optimises every op
 * separately and the per-element work is inlined arithmetic; passing a scalar
 * callback instead makes the call site megamorphic and boxes every result.
 */
export type Row2 = (
  out: Float64Array, o: number,
  a: Float64Array, ia: number, sa: number,
  b: Float64Array, ib: number, sb: number,
  n: number,
) => void;

/** As Row2 with a third operand. */
export type Row3 = (
  out: Float64Array, o: number,
  a: Float64Array, ia: number, sa: number,
  b: Float64Array, ib: number, sb: number,
  c: Float64Array, ic: number, sc: number,
  n: number,
) => void;

/** Elementwise op over two broadcast operands; one kernel call covers equal shapes and size-1 operands. */
export function binaryMap(a: Dense, b: Dense, row: Row2): Dense {
  const ad = a.data;
  const bd = b.data;
  if (sameShape(a.shape, b.shape)) {
    const out = new Float64Array(ad.length);
    row(out, 0, ad, 0, 1, bd, 0, 1, ad.length);
    return { data: out, shape: a.shape };
  }
  const shape = broadcastShapes(a.shape, b.shape);
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  // A size-1 operand against one that is not replicated: a single pass with stride 0.
  if (ad.length === 1 && n === bd.length) {
    row(out, 0, ad, 0, 0, bd, 0, 1, n);
    return { data: out, shape };
  }
  if (bd.length === 1 && n === ad.length) {
    row(out, 0, ad, 0, 1, bd, 0, 0, n);
    return { data: out, shape };
  }
  if (n === 0) return { data: out, shape };
  const nd = shape.length;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const inner = shape[nd - 1];
  const idx = new Int32Array(nd);
  const rows = n / inner;
  let baseA = 0;
  let baseB = 0;
  for (let r = 0, o = 0; r < rows; r++, o += inner) {
    row(out, o, ad, baseA, sa[nd - 1], bd, baseB, sb[nd - 1], inner);
    for (let d = nd - 2; d >= 0; d--) {
      baseA += sa[d];
      baseB += sb[d];
      if (++idx[d] < shape[d]) break;
      baseA -= sa[d] * shape[d];
      baseB -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return { data: out, shape };
}

/** Elementwise op over three broadcast operands (where). */
export function ternaryMap(a: Dense, b: Dense, c: Dense, row: Row3): Dense {
  const ad = a.data;
  const bd = b.data;
  const cd = c.data;
  if (sameShape(a.shape, b.shape) && sameShape(a.shape, c.shape)) {
    const out = new Float64Array(ad.length);
    row(out, 0, ad, 0, 1, bd, 0, 1, cd, 0, 1, ad.length);
    return { data: out, shape: a.shape };
  }
  const shape = broadcastShapes(a.shape, b.shape, c.shape);
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  if (n === 0) return { data: out, shape };
  const nd = shape.length;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const sc = broadcastStrides(c.shape, shape);
  const inner = shape[nd - 1];
  const idx = new Int32Array(nd);
  const rows = n / inner;
  let baseA = 0;
  let baseB = 0;
  let baseC = 0;
  for (let r = 0, o = 0; r < rows; r++, o += inner) {
    row(out, o, ad, baseA, sa[nd - 1], bd, baseB, sb[nd - 1], cd, baseC, sc[nd - 1], inner);
    for (let d = nd - 2; d >= 0; d--) {
      baseA += sa[d];
      baseB += sb[d];
      baseC += sc[d];
      if (++idx[d] < shape[d]) break;
      baseA -= sa[d] * shape[d];
      baseB -= sb[d] * shape[d];
      baseC -= sc[d] * shape[d];
      idx[d] = 0;
    }
  }
  return { data: out, shape };
}
