// Dense matrix-product loops with BLAS-style row strides ("ld" = elements
// between consecutive rows; the elements of a row are adjacent), accumulating
// into the destination (c += ...). Accumulation lets the adjoints of broadcast
// batch dimensions sum into one block simply by reusing its offset. NDArrays are
// always contiguous (np.transpose copies), so operands arrive as whole matrices
// or as row-strided blocks of one (dot's batches), never as strided views.
//   gemm   c += a.b
//   gemmNT c += g.b^T
//   gemmTN c += a^T.g
//
// Why they are shaped this way: each kernel keeps a 4 x 4 block of c in sixteen
// local variables while it runs along the summed index, so one step loads 4 + 4
// operands for 16 multiply-adds, and c is read and written once per block. The
// kernels these replaced read and wrote c in the innermost loop (gemm, gemmTN:
// an "axpy" of a row into four rows of c) or waited on one running sum at each
// step (gemmNT: one dot product at a time); at the MLP benchmark's sizes
// (256 x 784 by 784 x 256 and its transposed forms) the blocked kernels take
// 0.2 to 0.55 of their time (bench/gemm.ts). What is left over when a size is
// not a multiple of 4 goes through the plain loops below (gemmRows, dotRows,
// gemmTNRows), except gemm's and gemmTN's last columns, done four rows and one
// column at a time (four running sums rather than rows of at most 3).
// gemm takes its column blocks outermost, which measured a little faster than
// rows outermost. Tried and not kept: copying b transposed, or in 4-column
// strips, into a scratch buffer (within the machine's noise at these sizes, and
// slower for thin products), blocking over the summed index in panels of 128 or
// 256 and unrolling the inner loop by 2 (no change).
//
// Every element of c is summed in the same order whichever loop computes it:
// c + x0*y0 + x1*y1 + ... from left to right (gemm, gemmTN), and
// c + (x0*y0 + x1*y1 + ...) (gemmNT). Results are thus deterministic and equal
// bit for bit to the plain loops' (and to the kernels these replaced).

/** c[i,j] += sum_p a[i,p] * b[p,j]; a is n x k, b is k x m, c is n x m. */
export function gemm(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  const n4 = n - (n % 4), m4 = m - (m % 4);
  for (let j = 0; j < m4; j += 4) {
    for (let i = 0; i < n4; i += 4) {
      const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
      const c0 = cOff + i * ldc + j, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      let s00 = c[c0], s01 = c[c0 + 1], s02 = c[c0 + 2], s03 = c[c0 + 3];
      let s10 = c[c1], s11 = c[c1 + 1], s12 = c[c1 + 2], s13 = c[c1 + 3];
      let s20 = c[c2], s21 = c[c2 + 1], s22 = c[c2 + 2], s23 = c[c2 + 3];
      let s30 = c[c3], s31 = c[c3 + 1], s32 = c[c3 + 2], s33 = c[c3 + 3];
      for (let p = 0, bp = bOff + j; p < k; p++, bp += ldb) {
        const y0 = b[bp], y1 = b[bp + 1], y2 = b[bp + 2], y3 = b[bp + 3];
        let x = a[a0 + p];
        s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
        x = a[a1 + p];
        s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
        x = a[a2 + p];
        s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
        x = a[a3 + p];
        s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
      }
      c[c0] = s00; c[c0 + 1] = s01; c[c0 + 2] = s02; c[c0 + 3] = s03;
      c[c1] = s10; c[c1 + 1] = s11; c[c1 + 2] = s12; c[c1 + 3] = s13;
      c[c2] = s20; c[c2 + 1] = s21; c[c2 + 2] = s22; c[c2 + 3] = s23;
      c[c3] = s30; c[c3 + 1] = s31; c[c3 + 2] = s32; c[c3 + 3] = s33;
    }
  }
  // The last m % 4 columns (every column when m < 4) of the rows done so far: a block of
  // four rows and one column at a time.
  for (let j = m4; j < m; j++) {
    for (let i = 0; i < n4; i += 4) {
      const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
      const c0 = cOff + i * ldc + j, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      let s0 = c[c0], s1 = c[c1], s2 = c[c2], s3 = c[c3];
      for (let p = 0, bp = bOff + j; p < k; p++, bp += ldb) {
        const y = b[bp];
        s0 += a[a0 + p] * y; s1 += a[a1 + p] * y; s2 += a[a2 + p] * y; s3 += a[a3 + p] * y;
      }
      c[c0] = s0; c[c1] = s1; c[c2] = s2; c[c3] = s3;
    }
  }
  // The last n % 4 rows, every column.
  gemmRows(n - n4, k, m, a, aOff + n4 * lda, lda, b, bOff, ldb, c, cOff + n4 * ldc, ldc);
}

/** gemm one row of c at a time: c[i,:] += a[i,p] * b[p,:] for each p in turn. */
function gemmRows(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  for (let i = 0; i < n; i++) {
    const ai = aOff + i * lda, ci = cOff + i * ldc;
    for (let p = 0; p < k; p++) {
      const x = a[ai + p], bp = bOff + p * ldb;
      for (let j = 0; j < m; j++) c[ci + j] += x * b[bp + j];
    }
  }
}

/** c[i,p] += sum_j g[i,j] * b[p,j]; g is n x m, b is k x m, c is n x k. */
export function gemmNT(
  n: number, m: number, k: number,
  g: Float64Array, gOff: number, ldg: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  const n4 = n - (n % 4), k4 = k - (k % 4);
  for (let i = 0; i < n4; i += 4) {
    const g0 = gOff + i * ldg, g1 = g0 + ldg, g2 = g1 + ldg, g3 = g2 + ldg;
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    for (let p = 0; p < k4; p += 4) {
      const b0 = bOff + p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let j = 0; j < m; j++) {
        const y0 = b[b0 + j], y1 = b[b1 + j], y2 = b[b2 + j], y3 = b[b3 + j];
        let x = g[g0 + j];
        s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
        x = g[g1 + j];
        s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
        x = g[g2 + j];
        s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
        x = g[g3 + j];
        s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
      }
      c[c0 + p] += s00; c[c0 + p + 1] += s01; c[c0 + p + 2] += s02; c[c0 + p + 3] += s03;
      c[c1 + p] += s10; c[c1 + p + 1] += s11; c[c1 + p + 2] += s12; c[c1 + p + 3] += s13;
      c[c2 + p] += s20; c[c2 + p + 1] += s21; c[c2 + p + 2] += s22; c[c2 + p + 3] += s23;
      c[c3 + p] += s30; c[c3 + p + 1] += s31; c[c3 + p + 2] += s32; c[c3 + p + 3] += s33;
    }
  }
  // The last n % 4 rows (every column), then the last k % 4 columns of the other rows.
  dotRows(n - n4, m, k, g, gOff + n4 * ldg, ldg, b, bOff, ldb, c, cOff + n4 * ldc, ldc);
  dotRows(n4, m, k - k4, g, gOff, ldg, b, bOff + k4 * ldb, ldb, c, cOff + k4, ldc);
}

/** gemmNT one element of c at a time: the dot product of row i of g and row p of b. */
function dotRows(
  n: number, m: number, k: number,
  g: Float64Array, gOff: number, ldg: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  for (let i = 0; i < n; i++) {
    const gi = gOff + i * ldg, ci = cOff + i * ldc;
    for (let p = 0; p < k; p++) {
      const bp = bOff + p * ldb;
      let s = 0;
      for (let j = 0; j < m; j++) s += g[gi + j] * b[bp + j];
      c[ci + p] += s;
    }
  }
}

/** c[p,j] += sum_i a[i,p] * g[i,j]; a is n x k, g is n x m, c is k x m. */
export function gemmTN(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  g: Float64Array, gOff: number, ldg: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  const k4 = k - (k % 4), m4 = m - (m % 4);
  for (let p = 0; p < k4; p += 4) {
    const c0 = cOff + p * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    for (let j = 0; j < m4; j += 4) {
      let s00 = c[c0 + j], s01 = c[c0 + j + 1], s02 = c[c0 + j + 2], s03 = c[c0 + j + 3];
      let s10 = c[c1 + j], s11 = c[c1 + j + 1], s12 = c[c1 + j + 2], s13 = c[c1 + j + 3];
      let s20 = c[c2 + j], s21 = c[c2 + j + 1], s22 = c[c2 + j + 2], s23 = c[c2 + j + 3];
      let s30 = c[c3 + j], s31 = c[c3 + j + 1], s32 = c[c3 + j + 2], s33 = c[c3 + j + 3];
      for (let i = 0, ai = aOff + p, gi = gOff + j; i < n; i++, ai += lda, gi += ldg) {
        const y0 = g[gi], y1 = g[gi + 1], y2 = g[gi + 2], y3 = g[gi + 3];
        let x = a[ai];
        s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
        x = a[ai + 1];
        s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
        x = a[ai + 2];
        s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
        x = a[ai + 3];
        s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
      }
      c[c0 + j] = s00; c[c0 + j + 1] = s01; c[c0 + j + 2] = s02; c[c0 + j + 3] = s03;
      c[c1 + j] = s10; c[c1 + j + 1] = s11; c[c1 + j + 2] = s12; c[c1 + j + 3] = s13;
      c[c2 + j] = s20; c[c2 + j + 1] = s21; c[c2 + j + 2] = s22; c[c2 + j + 3] = s23;
      c[c3 + j] = s30; c[c3 + j + 1] = s31; c[c3 + j + 2] = s32; c[c3 + j + 3] = s33;
    }
  }
  // The last m % 4 columns (every column when m < 4) of the rows done so far: a block of
  // four rows and one column at a time.
  for (let p = 0; p < k4; p += 4) {
    const c0 = cOff + p * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    for (let j = m4; j < m; j++) {
      let s0 = c[c0 + j], s1 = c[c1 + j], s2 = c[c2 + j], s3 = c[c3 + j];
      for (let i = 0, ai = aOff + p, gi = gOff + j; i < n; i++, ai += lda, gi += ldg) {
        const y = g[gi];
        s0 += a[ai] * y; s1 += a[ai + 1] * y; s2 += a[ai + 2] * y; s3 += a[ai + 3] * y;
      }
      c[c0 + j] = s0; c[c1 + j] = s1; c[c2 + j] = s2; c[c3 + j] = s3;
    }
  }
  // The last k % 4 rows of c, every column.
  gemmTNRows(n, k - k4, m, a, aOff + k4, lda, g, gOff, ldg, c, cOff + k4 * ldc, ldc);
}

/** gemmTN one row of g at a time: c[p,:] += a[i,p] * g[i,:] for each i in turn. */
function gemmTNRows(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  g: Float64Array, gOff: number, ldg: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  for (let i = 0; i < n; i++) {
    const ai = aOff + i * lda, gi = gOff + i * ldg;
    for (let p = 0; p < k; p++) {
      const x = a[ai + p], cp = cOff + p * ldc;
      for (let j = 0; j < m; j++) c[cp + j] += x * g[gi + j];
    }
  }
}
