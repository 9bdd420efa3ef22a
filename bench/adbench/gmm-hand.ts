/**
 * Hand-written reverse-mode gradient of the GMM objective (bench/adbench/gmm.ts), the way a
 * careful person writes it: one forward pass per point that keeps what the reverse pass needs
 * (centred points and Q(x - mu) for every component), then the adjoints in closed form.
 * No tape, and no allocation once the scratch is made.
 *
 * Output layout (ADBench `_J_`): [alphas (k), means (k*d), icf (k*d(d+1)/2)].
 * Invariants: the inputs follow the layout documented in io.ts / gmm.ts; `grad.length` is
 * k*(1 + d + d(d+1)/2); scratch was made for the same (d, k).
 *
 * Derivation, per point i with adjoint 1 on the objective:
 *   t_c = alpha_c + sum(q_c) - 0.5 ||z_c||^2,  z_c = Q_c (x_i - mu_c),  w_c = softmax_c(t)
 *   alpha_c += w_c;  q_cj += w_c;  zbar = -w_c z_c;
 *   Q_c diagonal: q_cj += zbar_j * xc_j * exp(q_cj);  lower (j,a): L += zbar_j * xc_a;
 *   xcbar = Q_c^T zbar;  mu_c -= xcbar.
 * Then -n*logsumexp(alphas) gives alpha -= n softmax(alpha), and the prior gives
 * q += gamma^2 exp(2q) - m and L += gamma^2 L.
 */
import { wishartConstant } from "./gmm.js";

/** Buffers the gradient reuses between calls. */
export interface GmmHandScratch {
  d: number;
  k: number;
  qdiags: Float64Array; // k*d, exp of the log-diagonal
  sumQs: Float64Array; // k
  xcs: Float64Array; // k*d, x_i - mu_c for the current point
  zs: Float64Array; // k*d, Q_c (x_i - mu_c), then overwritten by its adjoint
  ex: Float64Array; // k, exp(t_c - max t)
  lrows: Float64Array; // k*d*d, the strictly lower triangles copied row-major
  // Gradient accumulators indexed exactly like alphas / means / icf; copied into `grad` at the
  // end: in a V8 microbenchmark, indexing one flat output at an offset (grad[k + k*d + idx])
  // made the innermost reverse loop several times slower than using icf's own index.
  gAlphas: Float64Array;
  gMeans: Float64Array;
  gIcf: Float64Array;
}

export function makeGmmHandScratch(d: number, k: number): GmmHandScratch {
  return {
    d, k,
    qdiags: new Float64Array(k * d),
    sumQs: new Float64Array(k),
    xcs: new Float64Array(k * d),
    zs: new Float64Array(k * d),
    ex: new Float64Array(k),
    lrows: new Float64Array(k * d * d),
    gAlphas: new Float64Array(k),
    gMeans: new Float64Array(k * d),
    gIcf: new Float64Array((k * d * (d + 1)) / 2),
  };
}

/**
 * Forward for one (point, component): xcs = x_i - mu_c and zs = Q_c xcs (at offset o = c*d),
 * each (Q v)_b as a dot product over the row-major lower triangle. Returns ||zs||^2.
 */
function forwardComponent(
  x: Float64Array, xOff: number, means: Float64Array, qdiags: Float64Array, lrows: Float64Array,
  o: number, d: number, xcs: Float64Array, zs: Float64Array,
): number {
  let sq = 0;
  for (let b = 0; b < d; b++) {
    const v = x[xOff + b] - means[o + b];
    xcs[o + b] = v;
    let z = qdiags[o + b] * v;
    const row = (o + b) * d;
    for (let a = 0; a < b; a++) z += lrows[row + a] * xcs[o + a];
    zs[o + b] = z;
    sq += z * z;
  }
  return sq;
}

/**
 * Reverse for one (point, component) with softmax weight w: zbar = -w z (in place, z is not
 * needed after), then the q, L and mean adjoints. `q0` is the component's offset in icf.
 */
function reverseComponent(
  w: number, icf: Float64Array, qdiags: Float64Array, o: number, q0: number, d: number,
  xcs: Float64Array, zs: Float64Array, gMeans: Float64Array, gIcf: Float64Array,
): void {
  for (let j = 0; j < d; j++) zs[o + j] *= -w;
  let idx = q0 + d;
  for (let a = 0; a < d; a++) {
    const va = xcs[o + a];
    const za = zs[o + a];
    const qa = qdiags[o + a];
    gIcf[q0 + a] += w + za * va * qa;
    // xcbar_a = (Q^T zbar)_a: the diagonal term plus column a of the lower triangle.
    let xbar = qa * za;
    for (let b = a + 1; b < d; b++) {
      const zb = zs[o + b];
      gIcf[idx] += zb * va;
      xbar += icf[idx] * zb;
      idx++;
    }
    gMeans[o + a] -= xbar;
  }
}

/**
 * Writes the gradient into `grad` and returns the objective value, which the forward pass
 * computes anyway (equal to gmmObjective's up to rounding, not bit for bit).
 *
 * `minWeight`: (point, component) pairs whose softmax weight is <= minWeight are skipped in
 * the reverse pass. The default 0 skips only exact zeros, which changes nothing. A value such
 * as 1e-300 also drops weights whose products are subnormal numbers (slow on x86: on the
 * d=64 K=10 file this halves the time) at an absolute error below ~1e-290.
 */
export function gmmGradientHand(
  alphas: Float64Array, means: Float64Array, icf: Float64Array, x: Float64Array,
  wishartGamma: number, wishartM: number, d: number, k: number, n: number,
  grad: Float64Array, scratch: GmmHandScratch = makeGmmHandScratch(d, k), minWeight = 0,
): number {
  if (scratch.d !== d || scratch.k !== k) throw new Error("gmmGradientHand: scratch made for another (d, k)");
  const icfSize = (d * (d + 1)) / 2;
  const { qdiags, sumQs, xcs, zs, ex, lrows, gAlphas, gMeans, gIcf } = scratch;
  gAlphas.fill(0);
  gMeans.fill(0);
  gIcf.fill(0);

  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const q = icf[c * icfSize + j];
      s += q;
      qdiags[c * d + j] = Math.exp(q);
    }
    sumQs[c] = s;
    // Row-major copy of the lower triangle, so that the forward pass computes each (Q v)_b as
    // a dot product with a scalar accumulator instead of scattering into z.
    let idx = c * icfSize + d;
    for (let a = 0; a < d; a++) {
      for (let b = a + 1; b < d; b++) lrows[(c * d + b) * d + a] = icf[idx++];
    }
  }

  let slse = 0;
  for (let i = 0; i < n; i++) {
    const xOff = i * d;
    // Forward: z_c = Q_c (x_i - mu_c) for every component, and the terms t_c (kept in ex).
    let mx = -Infinity;
    for (let c = 0; c < k; c++) {
      const o = c * d;
      const t = alphas[c] + sumQs[c] - 0.5 * forwardComponent(x, xOff, means, qdiags, lrows, o, d, xcs, zs);
      ex[c] = t;
      if (t > mx) mx = t;
    }
    let se = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(ex[c] - mx);
      ex[c] = e;
      se += e;
    }
    slse += Math.log(se) + mx;

    // Reverse: w_c = softmax weight of component c for this point.
    const inv = 1 / se;
    for (let c = 0; c < k; c++) {
      const w = ex[c] * inv;
      gAlphas[c] += w;
      // Components with weight 0 (exp underflowed) add exactly nothing: skip their O(d^2) work.
      if (w > minWeight) reverseComponent(w, icf, qdiags, c * d, c * icfSize, d, xcs, zs, gMeans, gIcf);
    }
  }

  // -n * logsumexp(alphas)
  let amx = -Infinity;
  for (let c = 0; c < k; c++) if (alphas[c] > amx) amx = alphas[c];
  let ase = 0;
  for (let c = 0; c < k; c++) ase += Math.exp(alphas[c] - amx);
  const lseAlphas = Math.log(ase) + amx;
  for (let c = 0; c < k; c++) gAlphas[c] -= (n * Math.exp(alphas[c] - amx)) / ase;

  // Wishart prior.
  const g2 = wishartGamma * wishartGamma;
  let prior = 0;
  for (let c = 0; c < k; c++) {
    const base = c * icfSize;
    let frob = 0;
    for (let j = 0; j < d; j++) {
      const qd = qdiags[c * d + j];
      frob += qd * qd;
      gIcf[base + j] += g2 * qd * qd - wishartM;
    }
    for (let j = d; j < icfSize; j++) {
      const l = icf[base + j];
      frob += l * l;
      gIcf[base + j] += g2 * l;
    }
    prior += 0.5 * g2 * frob - wishartM * sumQs[c];
  }
  prior -= k * wishartConstant(d, wishartGamma, wishartM);

  grad.set(gAlphas, 0);
  grad.set(gMeans, k);
  grad.set(gIcf, k + k * d);

  const PI = 3.14159265359; // ADBench defs.h value
  return -n * d * 0.5 * Math.log(2 * PI) + slse - n * lseAlphas + prior;
}
