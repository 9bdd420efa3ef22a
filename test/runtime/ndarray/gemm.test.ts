// The matrix-product kernels (runtime/ndarray/kernels/matmul.ts) against naive
// triple loops: random shapes around the kernels' 4 x 4 blocks (1 x N, N x 1,
// sizes that are not multiples of 4, an empty summed index), operands that are
// blocks of larger buffers (offsets, row strides wider than the rows), and a
// destination that already holds values (the kernels accumulate). Besides the
// 1e-12 relative agreement, each kernel must sum every element in the order its
// header documents, so its results are bit-for-bit those of the naive loop
// written in that order, whichever of its loops computes the element.

import { describe, expect, test } from "vitest";
import { gemm, gemmNT, gemmTN } from "../../../runtime/ndarray/kernels/matmul.js";
import { ndOps, np, type NDArray } from "../../../runtime/ndarray/index.js";
import { normalArray, rng } from "./helpers.js";

const r = rng(17);

/** A matrix of rows x cols stored at `off` in a larger buffer with row stride ld >= cols. */
interface Block {
  data: Float64Array;
  off: number;
  ld: number;
}

function block(rows: number, cols: number, pad: { off: number; extra: number }): Block {
  const ld = cols + pad.extra;
  const data = new Float64Array(pad.off + rows * ld + pad.extra);
  for (let i = 0; i < data.length; i++) data[i] = r.nextNormal();
  return { data, off: pad.off, ld };
}

const at = (x: Block, i: number, j: number) => x.data[x.off + i * x.ld + j];

/** Naive c += a.b (a n x k, b k x m): c + a[i,0]b[0,j] + a[i,1]b[1,j] + ..., left to right. */
function naiveGemm(n: number, k: number, m: number, a: Block, b: Block, c: Block): Float64Array {
  const out = c.data.slice();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = at(c, i, j);
      for (let p = 0; p < k; p++) s += at(a, i, p) * at(b, p, j);
      out[c.off + i * c.ld + j] = s;
    }
  }
  return out;
}

/** Naive c += g.b^T (g n x m, b k x m): c + (g[i,0]b[p,0] + g[i,1]b[p,1] + ...). */
function naiveNT(n: number, m: number, k: number, g: Block, b: Block, c: Block): Float64Array {
  const out = c.data.slice();
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += at(g, i, j) * at(b, p, j);
      out[c.off + i * c.ld + p] = at(c, i, p) + s;
    }
  }
  return out;
}

/** Naive c += a^T.g (a n x k, g n x m): c + a[0,p]g[0,j] + a[1,p]g[1,j] + ..., left to right. */
function naiveTN(n: number, k: number, m: number, a: Block, g: Block, c: Block): Float64Array {
  const out = c.data.slice();
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < m; j++) {
      let s = at(c, p, j);
      for (let i = 0; i < n; i++) s += at(a, i, p) * at(g, i, j);
      out[c.off + p * c.ld + j] = s;
    }
  }
  return out;
}

/** Largest |x - y| relative to the largest |y| (1 if y is all zeros). */
function relErr(x: Float64Array, y: Float64Array): number {
  let err = 0, big = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    big = Math.max(big, Math.abs(y[i]));
  }
  return err / Math.max(big, 1);
}

// [n, k, m] in each kernel's own argument order; every size is used for all three.
const sizes: [number, number, number][] = [
  [1, 1, 1], [1, 7, 1], [1, 9, 13], [13, 9, 1], [1, 1, 9], [9, 1, 1],
  [4, 4, 4], [8, 3, 8], [5, 6, 7], [7, 5, 3], [3, 11, 4], [4, 11, 3],
  [12, 1, 12], [16, 16, 16], [17, 19, 23], [33, 2, 31], [31, 40, 6], [6, 40, 31],
  [2, 3, 0], [0, 3, 2], [3, 0, 2],
];
for (let t = 0; t < 8; t++) sizes.push([1 + Math.floor(40 * r.nextDouble()), 1 + Math.floor(40 * r.nextDouble()), 1 + Math.floor(40 * r.nextDouble())]);

// Operands packed (offset 0, ld = cols) and as blocks inside larger buffers.
const layouts = [
  { name: "packed", a: { off: 0, extra: 0 }, b: { off: 0, extra: 0 }, c: { off: 0, extra: 0 } },
  { name: "strided", a: { off: 3, extra: 5 }, b: { off: 1, extra: 2 }, c: { off: 7, extra: 3 } },
];

describe("matrix-product kernels against naive loops", () => {
  for (const { name, a: pa, b: pb, c: pc } of layouts) {
    test(`gemm, ${name} operands`, () => {
      for (const [n, k, m] of sizes) {
        const a = block(n, k, pa), b = block(k, m, pb), c = block(n, m, pc);
        const want = naiveGemm(n, k, m, a, b, c);
        gemm(n, k, m, a.data, a.off, a.ld, b.data, b.off, b.ld, c.data, c.off, c.ld);
        expect(relErr(c.data, want), `${n}x${k}x${m}`).toBeLessThanOrEqual(1e-12);
        expect(c.data, `${n}x${k}x${m}`).toEqual(want);
      }
    });

    test(`gemmNT, ${name} operands`, () => {
      for (const [n, m, k] of sizes) {
        const g = block(n, m, pa), b = block(k, m, pb), c = block(n, k, pc);
        const want = naiveNT(n, m, k, g, b, c);
        gemmNT(n, m, k, g.data, g.off, g.ld, b.data, b.off, b.ld, c.data, c.off, c.ld);
        expect(relErr(c.data, want), `${n}x${m}x${k}`).toBeLessThanOrEqual(1e-12);
        expect(c.data, `${n}x${m}x${k}`).toEqual(want);
      }
    });

    test(`gemmTN, ${name} operands`, () => {
      for (const [n, k, m] of sizes) {
        const a = block(n, k, pa), g = block(n, m, pb), c = block(k, m, pc);
        const want = naiveTN(n, k, m, a, g, c);
        gemmTN(n, k, m, a.data, a.off, a.ld, g.data, g.off, g.ld, c.data, c.off, c.ld);
        expect(relErr(c.data, want), `${n}x${k}x${m}`).toBeLessThanOrEqual(1e-12);
        expect(c.data, `${n}x${k}x${m}`).toEqual(want);
      }
    });
  }

  test("the same inputs give the same bits on every call", () => {
    const [n, k, m] = [37, 29, 41];
    const a = block(n, k, { off: 0, extra: 0 }), b = block(k, m, { off: 0, extra: 0 });
    const once = () => {
      const c = new Float64Array(n * m);
      gemm(n, k, m, a.data, 0, k, b.data, 0, m, c, 0, m);
      return c;
    };
    expect(once()).toEqual(once());
  });

  test("non-finite values reach only the elements they belong to", () => {
    // A NaN in a[1,2] must spoil row 1 of c only, and an infinity in b[0,5] column 5 only,
    // also when they fall in the 4 x 4 blocks.
    const [n, k, m] = [6, 5, 7];
    const a = new Float64Array(n * k).fill(1), b = new Float64Array(k * m).fill(1);
    a[1 * k + 2] = NaN;
    b[0 * m + 5] = Infinity;
    const c = new Float64Array(n * m);
    gemm(n, k, m, a, 0, k, b, 0, m, c, 0, m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const v = c[i * m + j];
        if (i === 1) expect(v).toBeNaN();
        else if (j === 5) expect(v).toBe(Infinity);
        else expect(v).toBe(k);
      }
    }
  });
});

describe("matmul through the kernels", () => {
  // NDArrays are always contiguous (np.transpose materialises), so the kernels see row-major
  // buffers; a batch broadcast makes the pullbacks accumulate several blocks into one.
  const naiveProduct = (rows: number, inner: number, cols: number, x: (i: number, p: number) => number, y: (p: number, j: number) => number, into = new Float64Array(rows * cols)) => {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let p = 0; p < inner; p++) s += x(i, p) * y(p, j);
        into[i * cols + j] += s;
      }
    }
    return into;
  };

  test("matmul of a transposed operand and its pullbacks", () => {
    const [n, k, m] = [9, 14, 6];
    const A = np.transpose(normalArray(r, [k, n]));
    const B = normalArray(r, [k, m]);
    const G = normalArray(r, [n, m]);
    const a = (i: number, p: number) => A.data[i * k + p];
    const b = (p: number, j: number) => B.data[p * m + j];
    const g = (i: number, j: number) => G.data[i * m + j];
    expect(relErr(np.matmul(A, B).data, naiveProduct(n, k, m, a, b))).toBeLessThanOrEqual(1e-12);
    const op = ndOps.matmul;
    const out = op.primal(A, B);
    const gA = op.vjp(0, G, [A, B], out) as NDArray;
    const gB = op.vjp(1, G, [A, B], out) as NDArray;
    expect(relErr(gA.data, naiveProduct(n, m, k, g, (j, p) => b(p, j)))).toBeLessThanOrEqual(1e-12);
    expect(relErr(gB.data, naiveProduct(k, n, m, (p, i) => a(i, p), g))).toBeLessThanOrEqual(1e-12);
  });

  test("a batch-broadcast operand's adjoint sums the blocks", () => {
    const [t, n, k, m] = [3, 7, 5, 6];
    const A = normalArray(r, [n, k]);
    const B = normalArray(r, [t, k, m]);
    const G = normalArray(r, [t, n, m]);
    const op = ndOps.matmul;
    const out = op.primal(A, B);
    const gA = op.vjp(0, G, [A, B], out) as NDArray;
    const want = new Float64Array(n * k);
    for (let q = 0; q < t; q++) {
      naiveProduct(n, m, k, (i, j) => G.data[q * n * m + i * m + j], (j, p) => B.data[q * k * m + p * m + j], want);
    }
    expect(gA.shape).toEqual([n, k]);
    expect(relErr(gA.data, want)).toBeLessThanOrEqual(1e-12);
  });
});
