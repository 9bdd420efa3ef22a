/**
 * TensorFlow.js baseline for the BA residuals and their sparse Jacobian, vectorized over
 * observations: each observation's camera and point are gathered into [p, 11] and [p, 3]
 * tensors, so residual i depends only on row i of the inputs. The gradient of sum_i err[i, a]
 * with respect to the gathered inputs is then exactly row a of every observation's 2x15 block:
 * two reverse passes (a = 0, 1) give the whole reprojection part of the Jacobian. The weight
 * rows come from a third (tiny) pass over sum(1 - w^2).
 *
 * Precision: float32. Deviation: only the general Rodrigues branch (rotation vector != 0) is
 * implemented; a per-element switch (tf.where) would put NaN gradients through the unused
 * branch at zero rotation. Every ADBench BA file has a nonzero rotation.
 * Invariant: temporaries are released by tf.tidy; the data tensors by dispose().
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D } from "@tensorflow/tfjs-core";
import type { Tf } from "./tfjs-setup.js";
import type { BaInstance } from "./io.js";
import { baWritePattern, type CsrMatrix } from "./ba-hand.js";

export interface BaTfjs {
  /** Writes the 3p residuals (reprojection, then weight) into `err`. */
  residuals(err: Float64Array): void;
  /** Fills the CSR Jacobian (pattern and values). */
  jacobian(J: CsrMatrix): void;
  dispose(): void;
}

/** Builds the baseline for one instance; `tf` comes from loadTfjsCpu(). */
export function makeBaTfjs(tf: Tf, inst: BaInstance): BaTfjs {
  const { n, m, p } = inst;
  const camIdx = new Int32Array(p), ptIdx = new Int32Array(p);
  for (let i = 0; i < p; i++) {
    camIdx[i] = inst.obs[2 * i]!;
    ptIdx[i] = inst.obs[2 * i + 1]!;
  }
  // tfjs takes float32 typed arrays, not Float64Array: the data is rounded here.
  const [camObs, ptObs] = tf.tidy(() => [
    tf.gather(tf.tensor2d(Float32Array.from(inst.cams), [n, 11]), tf.tensor1d(camIdx, "int32")),
    tf.gather(tf.tensor2d(Float32Array.from(inst.points), [m, 3]), tf.tensor1d(ptIdx, "int32")),
  ]) as [Tensor2D, Tensor2D];
  const w = tf.tensor1d(Float32Array.from(inst.weights));
  const feats = tf.tensor2d(Float32Array.from(inst.feats), [p, 2]);

  const col = (t: Tensor, j: number): Tensor => tf.slice(t, [0, j], [p, 1]); // [p, 1]

  /** Reprojection residuals [p, 2] of every observation. */
  const reproj = (cam: Tensor, X: Tensor, wt: Tensor): Tensor => {
    const rot = tf.slice(cam, [0, 0], [p, 3]);
    const Y = tf.sub(X, tf.slice(cam, [0, 3], [p, 3]));
    const theta = tf.sqrt(tf.sum(tf.square(rot), 1, true)); // [p, 1]
    const axis = tf.div(rot, theta);
    const [a0, a1, a2] = [col(axis, 0), col(axis, 1), col(axis, 2)];
    const [y0, y1, y2] = [col(Y, 0), col(Y, 1), col(Y, 2)];
    const cross = tf.concat([
      tf.sub(tf.mul(a1, y2), tf.mul(a2, y1)),
      tf.sub(tf.mul(a2, y0), tf.mul(a0, y2)),
      tf.sub(tf.mul(a0, y1), tf.mul(a1, y0)),
    ], 1);
    const cosT = tf.cos(theta);
    const dot = tf.sum(tf.mul(axis, Y), 1, true);
    const Xcam = tf.add(tf.add(tf.mul(Y, cosT), tf.mul(cross, tf.sin(theta))), tf.mul(axis, tf.mul(dot, tf.sub(1, cosT))));
    const proj2 = tf.div(tf.slice(Xcam, [0, 0], [p, 2]), col(Xcam, 2)); // p2e
    const rsq = tf.sum(tf.square(proj2), 1, true);
    const distortion = tf.add(tf.add(1, tf.mul(col(cam, 9), rsq)), tf.mul(col(cam, 10), tf.square(rsq)));
    const proj = tf.add(tf.mul(tf.mul(proj2, distortion), col(cam, 6)), tf.slice(cam, [0, 7], [p, 2]));
    return tf.mul(tf.expandDims(wt, 1), tf.sub(proj, feats));
  };
  const rowGrads = [0, 1].map((a) =>
    tf.grads((cam: Tensor, X: Tensor, wt: Tensor) => tf.sum(col(reproj(cam, X, wt), a)) as Scalar));
  const weightGrad = tf.grad((wt: Tensor) => tf.sum(tf.sub(1, tf.square(wt))) as Scalar);

  return {
    residuals(err: Float64Array): void {
      tf.tidy(() => {
        err.set(reproj(camObs, ptObs, w).dataSync(), 0);
        err.set(tf.sub(1, tf.square(w)).dataSync(), 2 * p);
      });
    },
    jacobian(J: CsrMatrix): void {
      baWritePattern(inst, J);
      const vals = J.vals;
      tf.tidy(() => {
        for (let a = 0; a < 2; a++) {
          const [gc, gx, gw] = rowGrads[a]!([camObs, ptObs, w]) as [Tensor2D, Tensor2D, Tensor1D];
          const c = gc.dataSync(), x = gx.dataSync(), ww = gw.dataSync();
          for (let i = 0; i < p; i++) {
            const o = 30 * i + 15 * a;
            for (let j = 0; j < 11; j++) vals[o + j] = c[11 * i + j]!;
            vals[o + 11] = x[3 * i]!;
            vals[o + 12] = x[3 * i + 1]!;
            vals[o + 13] = x[3 * i + 2]!;
            vals[o + 14] = ww[i]!;
          }
        }
        vals.set(weightGrad(w).dataSync(), 30 * p);
      });
    },
    dispose(): void {
      tf.dispose([camObs, ptObs, w, feats]);
    },
  };
}
