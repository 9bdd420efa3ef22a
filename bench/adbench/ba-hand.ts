/**
 * Hand-written Jacobian of the BA residuals (bench/adbench/ba.ts) and its sparse assembly.
 *
 * Per observation the 2x15 block is computed in closed form: forward through the projection
 * keeping the intermediates, then one reverse sweep per residual row through the Rodrigues
 * rotation (the only non-trivial part), sharing everything that does not depend on the row.
 * No allocation per observation.
 *
 * Block layout (row-major, 2 rows of 15, the CSR order of ADBench's BASparseMat):
 *   rot0..2, C0..2, f, u0, v0, k1, k2 (camera, 11) | X0..2 (point, 3) | w (1).
 * Whole Jacobian (README of the data): CSR, nrows = 3p, ncols = 11n + 3m + p. Row 2i+a
 * (a = 0, 1) holds observation i's block row a at columns 11*cam .. 11*cam+10, 11n + 3*pt ..
 * 11n + 3*pt + 2, 11n + 3m + i; row 2p+i holds -2 w_i at column 11n + 3m + i.
 */
import type { BaInstance } from "./io.js";

export interface CsrMatrix {
  nrows: number;
  ncols: number;
  /** nrows + 1 row starts. */
  rows: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/** Allocates the Jacobian of an n/m/p problem (31p nonzeros). */
export function makeBaJacobian(n: number, m: number, p: number): CsrMatrix {
  const nnz = 31 * p;
  return {
    nrows: 3 * p,
    ncols: 11 * n + 3 * m + p,
    rows: new Int32Array(3 * p + 1),
    cols: new Int32Array(nnz),
    vals: new Float64Array(nnz),
  };
}

/**
 * Writes observation i's row starts and column indices (both block rows). Kept next to the
 * values so that assembly, like ADBench's, rebuilds the whole matrix on every call.
 */
function writeObservationPattern(J: CsrMatrix, n: number, m: number, i: number, camIdx: number, ptIdx: number): void {
  const { rows, cols } = J;
  const at = 30 * i;
  rows[2 * i] = at;
  rows[2 * i + 1] = at + 15;
  const c0 = 11 * camIdx;
  const x0 = 11 * n + 3 * ptIdx;
  const wc = 11 * n + 3 * m + i;
  for (let r = 0; r < 2; r++) {
    const o = at + 15 * r;
    for (let j = 0; j < 11; j++) cols[o + j] = c0 + j;
    cols[o + 11] = x0;
    cols[o + 12] = x0 + 1;
    cols[o + 13] = x0 + 2;
    cols[o + 14] = wc;
  }
}

/** The weight rows 2p..3p-1 (one nonzero each) and the final row start. */
function writeWeightRows(J: CsrMatrix, n: number, m: number, p: number, weights: Float64Array): void {
  const { rows, cols, vals } = J;
  const base = 30 * p;
  for (let i = 0; i < p; i++) {
    rows[2 * p + i] = base + i;
    cols[base + i] = 11 * n + 3 * m + i;
    vals[base + i] = -2 * weights[i];
  }
  rows[3 * p] = base + p;
}

/**
 * Reverse sweep of one block row: given the adjoint (g0, g1, g2) of the rotated point, writes
 * the rotation-vector adjoint to J[o..o+2], -ybar to the centre slots J[o+3..o+5] and ybar to
 * the point slots J[o+11..o+13]. `rot` holds the per-observation rotation intermediates.
 */
function rotationAdjoint(rot: Float64Array, g0: number, g1: number, g2: number, J: Float64Array, o: number): void {
  const y0 = rot[0], y1 = rot[1], y2 = rot[2];
  let yb0: number, yb1: number, yb2: number;
  if (rot[3] !== 0) {
    const theta = rot[3], cosT = rot[4], sinT = rot[5];
    const w0 = rot[6], w1 = rot[7], w2 = rot[8];
    const wDotY = rot[9];
    const omc = 1 - cosT;
    const wDotG = w0 * g0 + w1 * g1 + w2 * g2;
    // ybar = cos g + sin (g x w) + (1 - cos)(w.g) w
    yb0 = cosT * g0 + sinT * (g1 * w2 - g2 * w1) + omc * wDotG * w0;
    yb1 = cosT * g1 + sinT * (g2 * w0 - g0 * w2) + omc * wDotG * w1;
    yb2 = cosT * g2 + sinT * (g0 * w1 - g1 * w0) + omc * wDotG * w2;
    // wbar = sin (y x g) + (1 - cos)((w.g) y + (w.y) g), at fixed theta
    const wb0 = sinT * (y1 * g2 - y2 * g1) + omc * (wDotG * y0 + wDotY * g0);
    const wb1 = sinT * (y2 * g0 - y0 * g2) + omc * (wDotG * y1 + wDotY * g1);
    const wb2 = sinT * (y0 * g1 - y1 * g0) + omc * (wDotG * y2 + wDotY * g2);
    // thetabar = g . dx/dtheta (precomputed in rot[10..12]); w = r / theta, theta = |r|.
    const thetaBar = g0 * rot[10] + g1 * rot[11] + g2 * rot[12];
    const wDotWb = w0 * wb0 + w1 * wb1 + w2 * wb2;
    const invT = 1 / theta;
    J[o] = thetaBar * w0 + (wb0 - wDotWb * w0) * invT;
    J[o + 1] = thetaBar * w1 + (wb1 - wDotWb * w1) * invT;
    J[o + 2] = thetaBar * w2 + (wb2 - wDotWb * w2) * invT;
  } else {
    // x = y + r x y: ybar = g + g x r, rbar = y x g.
    const r0 = rot[6], r1 = rot[7], r2 = rot[8];
    yb0 = g0 + (g1 * r2 - g2 * r1);
    yb1 = g1 + (g2 * r0 - g0 * r2);
    yb2 = g2 + (g0 * r1 - g1 * r0);
    J[o] = y1 * g2 - y2 * g1;
    J[o + 1] = y2 * g0 - y0 * g2;
    J[o + 2] = y0 * g1 - y1 * g0;
  }
  J[o + 3] = -yb0;
  J[o + 4] = -yb1;
  J[o + 5] = -yb2;
  J[o + 11] = yb0;
  J[o + 12] = yb1;
  J[o + 13] = yb2;
}

/**
 * The 2x15 block of observation (camera at cams[camOff..], point at points[ptOff..], weight w,
 * feature (feat0, feat1)) into J[jOff .. jOff+29]. `rot` is a 13-element scratch buffer.
 */
export function baBlockHand(
  cams: Float64Array, camOff: number, points: Float64Array, ptOff: number,
  w: number, feat0: number, feat1: number, J: Float64Array, jOff: number,
  rot: Float64Array = new Float64Array(13),
): void {
  const y0 = points[ptOff] - cams[camOff + 3];
  const y1 = points[ptOff + 1] - cams[camOff + 4];
  const y2 = points[ptOff + 2] - cams[camOff + 5];
  const r0 = cams[camOff], r1 = cams[camOff + 1], r2 = cams[camOff + 2];
  rot[0] = y0; rot[1] = y1; rot[2] = y2;
  const sqtheta = r0 * r0 + r1 * r1 + r2 * r2;
  let x0: number, x1: number, x2: number;
  if (sqtheta !== 0) {
    const theta = Math.sqrt(sqtheta);
    const cosT = Math.cos(theta), sinT = Math.sin(theta);
    const invT = 1 / theta;
    const w0 = r0 * invT, w1 = r1 * invT, w2 = r2 * invT;
    const wDotY = w0 * y0 + w1 * y1 + w2 * y2;
    const c0 = w1 * y2 - w2 * y1, c1 = w2 * y0 - w0 * y2, c2 = w0 * y1 - w1 * y0;
    const omc = 1 - cosT;
    x0 = y0 * cosT + c0 * sinT + w0 * wDotY * omc;
    x1 = y1 * cosT + c1 * sinT + w1 * wDotY * omc;
    x2 = y2 * cosT + c2 * sinT + w2 * wDotY * omc;
    rot[3] = theta; rot[4] = cosT; rot[5] = sinT;
    rot[6] = w0; rot[7] = w1; rot[8] = w2; rot[9] = wDotY;
    // dx/dtheta = -sin y + cos (w x y) + sin (w.y) w
    rot[10] = -sinT * y0 + cosT * c0 + sinT * wDotY * w0;
    rot[11] = -sinT * y1 + cosT * c1 + sinT * wDotY * w1;
    rot[12] = -sinT * y2 + cosT * c2 + sinT * wDotY * w2;
  } else {
    x0 = y0 + (r1 * y2 - r2 * y1);
    x1 = y1 + (r2 * y0 - r0 * y2);
    x2 = y2 + (r0 * y1 - r1 * y0);
    rot[3] = 0;
    rot[6] = r0; rot[7] = r1; rot[8] = r2;
  }
  const invZ = 1 / x2;
  const p0 = x0 * invZ, p1 = x1 * invZ;
  const k1 = cams[camOff + 9], k2 = cams[camOff + 10], f = cams[camOff + 6];
  const rsq = p0 * p0 + p1 * p1;
  const L = 1 + k1 * rsq + k2 * rsq * rsq;
  const dLdrsq = k1 + 2 * k2 * rsq;
  const wf = w * f;

  // d err_a / d p_b = w f (L delta_ab + 2 dL/drsq p_a p_b)
  const s = 2 * dLdrsq * wf;
  const a00 = wf * L + s * p0 * p0, a01 = s * p0 * p1, a11 = wf * L + s * p1 * p1;

  for (let a = 0; a < 2; a++) {
    const o = jOff + 15 * a;
    const pa = a === 0 ? p0 : p1;
    const A0 = a === 0 ? a00 : a01;
    const A1 = a === 0 ? a01 : a11;
    // p_b = x_b / x2: adjoint on the rotated point.
    const g0 = A0 * invZ, g1 = A1 * invZ, g2 = -(A0 * p0 + A1 * p1) * invZ;
    rotationAdjoint(rot, g0, g1, g2, J, o);
    J[o + 6] = w * L * pa;
    J[o + 7] = a === 0 ? w : 0;
    J[o + 8] = a === 0 ? 0 : w;
    J[o + 9] = wf * pa * rsq;
    J[o + 10] = wf * pa * rsq * rsq;
    J[o + 14] = f * L * pa + cams[camOff + 7 + a] - (a === 0 ? feat0 : feat1);
  }
}

/**
 * Writes the whole sparsity pattern (row starts, column indices) and the weight rows' values
 * -2w, for assemblies that compute the reprojection blocks elsewhere (the tfjs baseline).
 */
export function baWritePattern(inst: BaInstance, J: CsrMatrix): void {
  const { n, m, p, obs, weights } = inst;
  for (let i = 0; i < p; i++) writeObservationPattern(J, n, m, i, obs[2 * i], obs[2 * i + 1]);
  writeWeightRows(J, n, m, p, weights);
}

/** Fills the whole Jacobian (values and pattern) with the hand-written blocks. */
export function baJacobianHand(inst: BaInstance, J: CsrMatrix, rot: Float64Array = new Float64Array(13)): void {
  const { n, m, p, cams, points, weights, feats, obs } = inst;
  const vals = J.vals;
  for (let i = 0; i < p; i++) {
    const camIdx = obs[2 * i], ptIdx = obs[2 * i + 1];
    writeObservationPattern(J, n, m, i, camIdx, ptIdx);
    baBlockHand(cams, 11 * camIdx, points, 3 * ptIdx, weights[i], feats[2 * i], feats[2 * i + 1], vals, 30 * i, rot);
  }
  writeWeightRows(J, n, m, p, weights);
}

/**
 * A per-observation block function in the small-array form adc differentiates: fills `J30`
 * (row-major 2x15, layout above) for camera `cam` (11), point `X` (3), weight and feature.
 */
export type BaBlockFn = (cam: Float64Array, X: Float64Array, w: number, feat0: number, feat1: number, J30: Float64Array) => void;

/**
 * Fills the whole Jacobian using `block` for each observation: copies the observation's camera
 * and point into small buffers (the form `baResidual` takes) and the 30 values into place.
 * The copies are the price of the small-array form; `baJacobianHand` reads in place instead.
 */
export function baAssembleJacobian(inst: BaInstance, J: CsrMatrix, block: BaBlockFn): void {
  const { n, m, p, cams, points, weights, feats, obs } = inst;
  const cam = new Float64Array(11), X = new Float64Array(3), J30 = new Float64Array(30);
  const vals = J.vals;
  for (let i = 0; i < p; i++) {
    const camIdx = obs[2 * i], ptIdx = obs[2 * i + 1];
    writeObservationPattern(J, n, m, i, camIdx, ptIdx);
    for (let j = 0; j < 11; j++) cam[j] = cams[11 * camIdx + j];
    for (let j = 0; j < 3; j++) X[j] = points[3 * ptIdx + j];
    block(cam, X, weights[i], feats[2 * i], feats[2 * i + 1], J30);
    vals.set(J30, 30 * i);
  }
  writeWeightRows(J, n, m, p, weights);
}

/** The hand block in BaBlockFn form (for baAssembleJacobian and per-observation tests). */
export const baBlockHandSmall: BaBlockFn = (cam, X, w, feat0, feat1, J30) => {
  baBlockHand(cam, 0, X, 0, w, feat0, feat1, J30, 0);
};
