// The ADBench objectives differentiated by adc: the functions in gmm.ts, ba.ts and lstm.ts are
// plain TypeScript; these calls ask adc for their derivatives at build time.
import { grad, vjp, jvp, jacfwd, jacfwdInto, jacrev, jacrevInto } from "adc";
import { gmmObjective } from "./gmm.js";
import { baResidual, baResidualRow, weightResidual } from "./ba.js";
import { lstmObjective } from "./lstm.js";

/** d objective / d (alphas, means, icf). */
export const gmmGradient = grad(gmmObjective, [0, 1, 2]);
/** Forward mode along one direction in (alphas, means, icf), for the forward-vs-reverse check. */
export const gmmTangent = (
  alphas: Float64Array, means: Float64Array, icf: Float64Array, x: Float64Array, g: number, m: number, d: number, k: number, n: number,
  dAlphas: Float64Array, dMeans: Float64Array, dIcf: Float64Array, dx: Float64Array,
) => jvp(gmmObjective, [alphas, means, icf, x, g, m, d, k, n], [dAlphas, dMeans, dIcf, dx, 0, 0, 0, 0, 0]);

/** One BA residual row's gradient w.r.t. (camera, point, weight): reverse mode per row. */
export const baRowGradient = grad(baResidualRow, [0, 1, 2]);
/** Both reprojection residuals of one observation, as a value. */
export function baPair(cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number): Float64Array {
  const out = new Float64Array(2);
  baResidual(cam, X, w, f0, f1, out);
  return out;
}
/** Forward mode: the two residuals' derivative along one direction. */
export const baPairTangent = (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number, dcam: Float64Array, dX: Float64Array, dw: number) =>
  jvp(baPair, [cam, X, w, f0, f1], [dcam, dX, dw, 0, 0]);
/** Reverse mode: one pullback per observation, called once per residual row. */
export const baPairPull = (cam: Float64Array, X: Float64Array, w: number, f0: number, f1: number) => vjp(baPair, cam, X, w, f0, f1);
export const dWeightResidual = grad(weightResidual);
/** The 2 x 15 block as Jacobians w.r.t. (camera, point, weight): one forward sweep and two pullbacks. */
export const baPairJacrev = jacrev(baPair, [0, 1, 2]);
/** The same by forward mode: one tangent evaluation per input entry. */
export const baPairJacfwd = jacfwd(baPair, [0, 1, 2]);
/** The block written into the caller's buffer, row-major (camera | point | weight) as the hand block lays it out. */
export const baPairJacrevInto = jacrevInto(baPair, [0, 1, 2]);
export const baPairJacfwdInto = jacfwdInto(baPair, [0, 1, 2]);

/** d loss / d (mainParams, extraParams). */
export const lstmGradient = grad(lstmObjective, [0, 1]);
export const lstmTangent = (
  main: Float64Array, extra: Float64Array, state: Float64Array, seq: Float64Array, l: number, c: number, b: number,
  dMain: Float64Array, dExtra: Float64Array, dState: Float64Array, dSeq: Float64Array,
) => jvp(lstmObjective, [main, extra, state, seq, l, c, b], [dMain, dExtra, dState, dSeq, 0, 0, 0]);

export { tape } from "adc/runtime";
