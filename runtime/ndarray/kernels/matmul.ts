// Dense matrix-product loops with BLAS-style row strides ("ld" = elements
// between consecutive rows), accumulating into the destination (c += ...).
// Accumulation lets the adjoints of broadcast batch dimensions sum into one
// block simply by reusing its offset. The loop order is chosen so that the
// innermost loop walks contiguous memory of both operands:
//   gemm   c += a.b     i-k-j (axpy of a row of b into a row of c)
//   gemmNT c += g.b^T   i-p then a dot product along contiguous rows
//   gemmTN c += a^T.g   i-p-j (axpy of a row of g into a row of c)

/** c[i,j] += sum_p a[i,p] * b[p,j]; a is n x k, b is k x m, c is n x m. */
export function gemm(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  for (let i = 0; i < n; i++) {
    const ci = cOff + i * ldc;
    const ai = aOff + i * lda;
    for (let p = 0; p < k; p++) {
      const aip = a[ai + p];
      const bp = bOff + p * ldb;
      for (let j = 0; j < m; j++) c[ci + j] += aip * b[bp + j];
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
  for (let i = 0; i < n; i++) {
    const gi = gOff + i * ldg;
    const ci = cOff + i * ldc;
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
  for (let i = 0; i < n; i++) {
    const ai = aOff + i * lda;
    const gi = gOff + i * ldg;
    for (let p = 0; p < k; p++) {
      const aip = a[ai + p];
      const cp = cOff + p * ldc;
      for (let j = 0; j < m; j++) c[cp + j] += aip * g[gi + j];
    }
  }
}
