/**
 * The matrix-product kernels (runtime/ndarray/kernels/matmul.ts) against the ones they replaced,
 * in one run, at the MLP benchmark's sizes (bench/mlp.ts: batch 256, 784 -> 256 -> 10) and a
 * small case:
 *   gemm    X.W1       256 x 784 by 784 x 256   (the forward pass's first product)
 *   gemmNT  G.W1^T     256 x 256 by (784 x 256)^T  (the data's adjoint)
 *   gemmTN  X^T.G      (256 x 784)^T by 256 x 256  (W1's adjoint)
 *   the same three for the second layer (256 x 256 by 256 x 10 and its adjoints), and at 64 x 64 x 64.
 * Before timing, each new kernel must give the old one's results bit for bit (they sum in the
 * same order); the run stops otherwise.
 *
 * Timing: interleavedMedians (bench/lib/harness.ts): each task warmed up for WARMUP_MS, then
 * ROUNDS rounds that take the tasks in turn for TIME_MS each; medians over all samples and the
 * ratios new / old, all from this run. Each call writes into a freshly zeroed destination (as
 * np.matmul and its pullbacks do), which the times include.
 *   ROUNDS [5]  TIME_MS [600]  WARMUP_MS [500]
 */
import { fmtNs, interleavedMedians, machine, table } from "./lib/harness.js";
import { gemm, gemmNT, gemmTN } from "../runtime/ndarray/kernels/matmul.js";

const env = (name: string, dflt: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`${name}=${v}: expected a positive number`);
  return x;
};
const ROUNDS = env("ROUNDS", 5);
const TIME_MS = env("TIME_MS", 600);
const WARMUP_MS = env("WARMUP_MS", 500);

type Kernel = typeof gemm;

// The baseline: the kernels as they were before the 4 x 4 blocking (i-k-j "axpy" loops updating
// four rows of c per pass, and one dot product at a time for gemmNT), copied unchanged.
// ---------------------------------------------------------------------------------------------
/** c[i,j] += sum_p a[i,p] * b[p,j]; a is n x k, b is k x m, c is n x m. */
function oldGemm(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    const a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
    for (let p = 0; p < k; p++) {
      const x0 = a[a0 + p], x1 = a[a1 + p], x2 = a[a2 + p], x3 = a[a3 + p];
      const bp = bOff + p * ldb;
      for (let j = 0; j < m; j++) {
        const bj = b[bp + j];
        c[c0 + j] += x0 * bj;
        c[c1 + j] += x1 * bj;
        c[c2 + j] += x2 * bj;
        c[c3 + j] += x3 * bj;
      }
    }
  }
  for (; i < n; i++) {
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
function oldGemmNT(
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
function oldGemmTN(
  n: number, k: number, m: number,
  a: Float64Array, aOff: number, lda: number,
  g: Float64Array, gOff: number, ldg: number,
  c: Float64Array, cOff: number, ldc: number,
): void {
  // Four rows of c (four values of p) per pass over a row of g.
  for (let i = 0; i < n; i++) {
    const ai = aOff + i * lda;
    const gi = gOff + i * ldg;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const x0 = a[ai + p], x1 = a[ai + p + 1], x2 = a[ai + p + 2], x3 = a[ai + p + 3];
      const c0 = cOff + p * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      for (let j = 0; j < m; j++) {
        const gj = g[gi + j];
        c[c0 + j] += x0 * gj;
        c[c1 + j] += x1 * gj;
        c[c2 + j] += x2 * gj;
        c[c3 + j] += x3 * gj;
      }
    }
    for (; p < k; p++) {
      const aip = a[ai + p];
      const cp = cOff + p * ldc;
      for (let j = 0; j < m; j++) c[cp + j] += aip * g[gi + j];
    }
  }
}
// ---------------------------------------------------------------------------------------------

let seed = 1;
const random = (n: number) => {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    x[i] = seed / 2147483648 - 0.5;
  }
  return x;
};

interface Case {
  readonly label: string;
  /** The output's size, then a call of `kernel` into a fresh zeroed output. */
  readonly size: number;
  readonly run: (kernel: Kernel, c: Float64Array) => void;
  readonly old: Kernel;
  readonly now: Kernel;
  readonly macs: number;
}

/** c (n x m) += a (n x k) . b (k x m), and the two adjoint forms on the same sizes. */
function cases(n: number, k: number, m: number, name: string): Case[] {
  const a = random(n * k), b = random(k * m), g = random(n * m);
  return [
    { label: `gemm ${name}: ${n}x${k} . ${k}x${m}`, size: n * m, old: oldGemm, now: gemm, macs: n * k * m,
      run: (f, c) => f(n, k, m, a, 0, k, b, 0, m, c, 0, m) },
    { label: `gemmNT ${name}: ${n}x${m} . (${k}x${m})^T`, size: n * k, old: oldGemmNT, now: gemmNT, macs: n * k * m,
      run: (f, c) => f(n, m, k, g, 0, m, b, 0, m, c, 0, k) },
    { label: `gemmTN ${name}: (${n}x${k})^T . ${n}x${m}`, size: k * m, old: oldGemmTN, now: gemmTN, macs: n * k * m,
      run: (f, c) => f(n, k, m, a, 0, k, g, 0, m, c, 0, m) },
  ];
}

const all = [...cases(256, 784, 256, "layer 1"), ...cases(256, 256, 10, "layer 2"), ...cases(64, 64, 64, "64^3")];

// Correctness first: the same bits as the old kernels.
for (const x of all) {
  const want = new Float64Array(x.size), got = new Float64Array(x.size);
  x.run(x.old, want);
  x.run(x.now, got);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(want[i], got[i])) throw new Error(`${x.label}: element ${i} is ${got[i]}, the old kernel gave ${want[i]}`);
  }
}

const call = (x: Case, kernel: Kernel) => () => {
  const c = new Float64Array(x.size);
  x.run(kernel, c);
  return c;
};
// Small products are timed 20 calls to a sample.
const tasks = all.flatMap((x) => {
  const batch = x.macs < 1e6 ? 20 : 1;
  return [
    { name: `old ${x.label}`, fn: call(x, x.old), batch },
    { name: `new ${x.label}`, fn: call(x, x.now), batch },
  ];
});
const t = await interleavedMedians(tasks, { rounds: ROUNDS, timeMs: TIME_MS, warmupMs: WARMUP_MS });

console.log(`# matrix-product kernels, old against new (${machine()})\n`);
console.log(`medians over ${ROUNDS} interleaved rounds of ${TIME_MS} ms per task, after ${WARMUP_MS} ms of warm-up each; results equal bit for bit:\n`);
const gmacs = (macs: number, ns: number) => (macs / ns).toFixed(2);
console.log(
  table([
    ["product", "old", "new", "new / old", "old GMAC/s", "new GMAC/s"],
    ...all.map((x) => {
      const o = t.get(`old ${x.label}`)!, n = t.get(`new ${x.label}`)!;
      return [x.label, fmtNs(o), fmtNs(n), (n / o).toFixed(2), gmacs(x.macs, o), gmacs(x.macs, n)];
    }),
  ]),
);
