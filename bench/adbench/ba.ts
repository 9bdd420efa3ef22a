/**
 * Bundle adjustment residuals (ADBench `computeReprojError` / `computeZachWeightError`,
 * src/cpp/shared/ba.h), written as an adc user would: plain functions over Float64Array and
 * numbers in the subset adc differentiates (no imports, closures, objects, or methods other
 * than `.length`).
 *
 * Camera layout (11): rot (Rodrigues vector, 3) | C (centre, 3) | f | u0 v0 | k1 k2.
 * project: rotate X - C by the Rodrigues vector, divide by depth (p2e), scale by the radial
 * distortion 1 + k1 r^2 + k2 r^4, then by f, then shift by (u0, v0).
 * The whole-problem residual vector is ordered like the Jacobian rows: 2p reprojection
 * residuals (observation-major), then p weight residuals.
 */

/** One component of the Rodrigues rotation: y cos t + (w x y) sin t + w (w.y)(1 - cos t). */
export function rodriguesComponent(y: number, wCrossY: number, w: number, wDotY: number, cosT: number, sinT: number): number {
  return y * cosT + wCrossY * sinT + w * wDotY * (1 - cosT);
}

/** The radial distortion factor 1 + k1 r^2 + k2 r^4, given r^2. */
export function radialDistortionFactor(k1: number, k2: number, rsq: number): number {
  return 1 + k1 * rsq + k2 * rsq * rsq;
}

/**
 * Projects world point X through camera cam; writes the two image coordinates to out[0..1].
 * Kept in scalars (no temporary arrays): a 3-vector temporary per observation would cost an
 * allocation in the innermost loop of the problem.
 */
export function project(cam: Float64Array, X: Float64Array, out: Float64Array): void {
  const y0 = X[0] - cam[3];
  const y1 = X[1] - cam[4];
  const y2 = X[2] - cam[5];
  const r0 = cam[0];
  const r1 = cam[1];
  const r2 = cam[2];
  const sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
  let x0 = 0;
  let x1 = 0;
  let x2 = 0;
  if (sqtheta !== 0) {
    const theta = Math.sqrt(sqtheta);
    const cosT = Math.cos(theta);
    const sinT = Math.sin(theta);
    const w0 = r0 / theta;
    const w1 = r1 / theta;
    const w2 = r2 / theta;
    const wDotY = w0 * y0 + w1 * y1 + w2 * y2;
    x0 = rodriguesComponent(y0, w1 * y2 - w2 * y1, w0, wDotY, cosT, sinT);
    x1 = rodriguesComponent(y1, w2 * y0 - w0 * y2, w1, wDotY, cosT, sinT);
    x2 = rodriguesComponent(y2, w0 * y1 - w1 * y0, w2, wDotY, cosT, sinT);
  } else {
    // First-order rotation, as ADBench does for a zero rotation vector.
    x0 = y0 + (r1 * y2 - r2 * y1);
    x1 = y1 + (r2 * y0 - r0 * y2);
    x2 = y2 + (r0 * y1 - r1 * y0);
  }
  const p0 = x0 / x2;
  const p1 = x1 / x2;
  const distortion = radialDistortionFactor(cam[9], cam[10], p0 * p0 + p1 * p1);
  out[0] = p0 * distortion * cam[6] + cam[7];
  out[1] = p1 * distortion * cam[6] + cam[8];
}

/** Reprojection residual of one observation: out[0..1] = w * (project(cam, X) - feat). */
export function baResidual(cam: Float64Array, X: Float64Array, w: number, feat0: number, feat1: number, out: Float64Array): void {
  project(cam, X, out);
  out[0] = w * (out[0] - feat0);
  out[1] = w * (out[1] - feat1);
}

/**
 * One reprojection residual (row 0 or 1) as a number, for tools whose gradient wants a scalar
 * result. Allocates its 2-element output, so it is for checks, not for the hot loop.
 */
export function baResidualRow(cam: Float64Array, X: Float64Array, w: number, feat0: number, feat1: number, row: number): number {
  const out = new Float64Array(2);
  baResidual(cam, X, w, feat0, feat1, out);
  return out[row];
}

/** Zach's weight residual 1 - w^2. */
export function weightResidual(w: number): number {
  return 1 - w * w;
}

/**
 * The residual vector of the whole problem (length 3p): err[2i..2i+1] for observation i, which
 * sees camera obs[2i] and point obs[2i+1], then err[2p+i] = 1 - w_i^2.
 */
export function baObjective(
  cams: Float64Array, points: Float64Array, weights: Float64Array, feats: Float64Array,
  obs: Float64Array, p: number, err: Float64Array,
): void {
  // Observations see slices of cams/points; copy them into small arrays once per observation
  // (there is no subarray in the language), reusing the same three buffers throughout.
  const cam = new Float64Array(11);
  const X = new Float64Array(3);
  const r = new Float64Array(2);
  for (let i = 0; i < p; i++) {
    const camIdx = obs[2 * i];
    const ptIdx = obs[2 * i + 1];
    for (let j = 0; j < 11; j++) cam[j] = cams[camIdx * 11 + j];
    for (let j = 0; j < 3; j++) X[j] = points[ptIdx * 3 + j];
    baResidual(cam, X, weights[i], feats[2 * i], feats[2 * i + 1], r);
    err[2 * i] = r[0];
    err[2 * i + 1] = r[1];
  }
  for (let i = 0; i < p; i++) err[2 * p + i] = weightResidual(weights[i]);
}
