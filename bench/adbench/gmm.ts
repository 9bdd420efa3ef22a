/**
 * GMM objective (ADBench `gmm_objective`, src/cpp/shared/gmm.h), written as an adc user would:
 * plain functions over Float64Array and numbers, in the subset adc differentiates (no imports,
 * closures, objects or methods other than `.length`; no writes to module-level state).
 *
 * Layout (same as the reader and ADBench's gradient `_J_`):
 *   alphas: k; means: k*d component-major; icf: k*d(d+1)/2, per component d log-diagonal
 *   entries q then the strictly lower triangle of Q column by column; x: n*d point-major.
 * Q_k = diag(exp(q_k)) + strictly-lower(l_k). Only alphas, means and icf are meant to be
 * differentiated; d, k, n, wishartGamma and wishartM are constants of the problem.
 */

/** log(sum exp(a[i])), shifted by the max so large terms do not overflow. */
export function logsumexp(a: Float64Array): number {
  let mx = a[0];
  for (let i = 1; i < a.length; i++) mx = Math.max(mx, a[i]);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.exp(a[i] - mx);
  return Math.log(s) + mx;
}

/** Sum of squares of a whole vector. */
export function sqnorm(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/**
 * log Gamma(x) for x > 0 in plain arithmetic (Math has no lgamma): shift x up to >= 16 with
 * Gamma(z+1) = z Gamma(z), then the Stirling series to the z^-9 term (next term < 2e-16 there).
 * It only ever sees constants of the problem, so it is never differentiated.
 */
export function lgammaPositive(x: number): number {
  let z = x;
  // One log of the product rounds less than a sum of logs (the product stays below 16!).
  let prod = 1;
  while (z < 16) {
    prod *= z;
    z += 1;
  }
  const zi = 1 / z;
  const zi2 = zi * zi;
  const series = zi * (1 / 12 - zi2 * (1 / 360 - zi2 * (1 / 1260 - zi2 * (1 / 1680 - zi2 / 1188))));
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series - Math.log(prod);
}

/** log of the multivariate gamma function Gamma_p(a), as ADBench's `log_gamma_distrib`. */
export function logGammaDistrib(a: number, p: number): number {
  const PI = 3.14159265359; // ADBench defs.h value, kept for digit-for-digit agreement
  let out = 0.25 * p * (p - 1) * Math.log(PI);
  for (let j = 1; j <= p; j++) out += lgammaPositive(a + 0.5 * (1 - j));
  return out;
}

/** The Wishart normalizing constant C(d, gamma, m) (a constant of the problem). */
export function wishartConstant(d: number, wishartGamma: number, wishartM: number): number {
  const n2 = d + wishartM + 1;
  return n2 * d * (Math.log(wishartGamma) - 0.5 * Math.log(2)) - logGammaDistrib(0.5 * n2, d);
}

/** qdiags[c*d+j] = exp(q_cj) and sumQs[c] = sum_j q_cj (ADBench `preprocess_qs`). */
export function preprocessQs(icf: Float64Array, d: number, k: number, qdiags: Float64Array, sumQs: Float64Array): void {
  const icfSize = (d * (d + 1)) / 2;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const q = icf[c * icfSize + j];
      s += q;
      qdiags[c * d + j] = Math.exp(q);
    }
    sumQs[c] = s;
  }
}

/** out = Q_c v, with Q_c's diagonal from qdiags and its lower triangle read from icf. */
export function qTimesX(qdiags: Float64Array, icf: Float64Array, c: number, d: number, v: Float64Array, out: Float64Array): void {
  const icfSize = (d * (d + 1)) / 2;
  for (let i = 0; i < d; i++) out[i] = qdiags[c * d + i] * v[i];
  // The lower triangle is stored column by column: entry (j, i) for j > i, i ascending.
  let idx = c * icfSize + d;
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      out[j] += icf[idx] * v[i];
      idx++;
    }
  }
}

/** sum_c [0.5 gamma^2 ||Q_c||_F^2 - m sum(q_c)] - k C (ADBench `log_wishart_prior`). */
export function logWishartPrior(
  qdiags: Float64Array, icf: Float64Array, sumQs: Float64Array,
  wishartGamma: number, wishartM: number, d: number, k: number,
): number {
  const icfSize = (d * (d + 1)) / 2;
  let out = 0;
  for (let c = 0; c < k; c++) {
    let frob = 0;
    for (let j = 0; j < d; j++) frob += qdiags[c * d + j] * qdiags[c * d + j];
    for (let j = d; j < icfSize; j++) frob += icf[c * icfSize + j] * icf[c * icfSize + j];
    out += 0.5 * wishartGamma * wishartGamma * frob - wishartM * sumQs[c];
  }
  return out - k * wishartConstant(d, wishartGamma, wishartM);
}

/** ADBench's GMM objective: data term (log-sum-exp over components per point) plus the Wishart-prior term. */
export function gmmObjective(
  alphas: Float64Array, means: Float64Array, icf: Float64Array, x: Float64Array,
  wishartGamma: number, wishartM: number, d: number, k: number, n: number,
): number {
  const PI = 3.14159265359; // ADBench defs.h value
  const qdiags = new Float64Array(k * d);
  const sumQs = new Float64Array(k);
  preprocessQs(icf, d, k, qdiags, sumQs);

  // Scratch reused across points and components: centred point, Q times it, per-component terms.
  const xc = new Float64Array(d);
  const qxc = new Float64Array(d);
  const mainTerm = new Float64Array(k);
  let slse = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) xc[j] = x[i * d + j] - means[c * d + j];
      qTimesX(qdiags, icf, c, d, xc, qxc);
      mainTerm[c] = alphas[c] + sumQs[c] - 0.5 * sqnorm(qxc);
    }
    slse += logsumexp(mainTerm);
  }

  const constant = -n * d * 0.5 * Math.log(2 * PI);
  const lseAlphas = logsumexp(alphas);
  return constant + slse - n * lseAlphas + logWishartPrior(qdiags, icf, sumQs, wishartGamma, wishartM, d, k);
}
