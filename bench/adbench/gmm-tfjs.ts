/**
 * TensorFlow.js baseline for the GMM objective and gradient: the idiomatic vectorized way,
 * whole-array ops over [K, N, D] tensors and `tf.valueAndGrads` for reverse mode.
 *
 * Precision: the tensors are float32 (the CPU backend has no float64), so values agree with
 * the float64 code to ~1e-6 relative at best; the gradient is copied into a Float64Array in
 * ADBench's layout [alphas (K), means (K*D), icf (K*D(D+1)/2)].
 * The constant term (the -N D/2 log 2 PI and the Wishart normalizer) has no gradient; it is
 * computed in float64 with the plain-TS helpers and added to the float32 value at the end.
 * Invariant: every tensor made while evaluating is released by tf.tidy; the long-lived ones
 * (data and parameters) are released by dispose().
 */
import type { Scalar, Tensor, Tensor3D } from "@tensorflow/tfjs-core";
import type { Tf } from "./tfjs-setup.js";
import { wishartConstant } from "./gmm.js";
import type { GmmInstance } from "./io.js";

export interface GmmTfjs {
  /** Objective value (float32 evaluation). */
  objective(): number;
  /** Writes the gradient into `out` and returns the objective value. */
  gradient(out: Float64Array): number;
  dispose(): void;
}

/** Builds the baseline for one instance; `tf` comes from loadTfjsCpu(). */
export function makeGmmTfjs(tf: Tf, inst: GmmInstance): GmmTfjs {
  const { d, k, n, gamma, m } = inst;
  const icfSize = (d * (d + 1)) / 2;
  const PI = 3.14159265359; // ADBench defs.h value
  const constant = -n * d * 0.5 * Math.log(2 * PI) - k * wishartConstant(d, gamma, m);

  // tfjs takes float32 typed arrays, not Float64Array: the data is rounded here.
  const x = tf.tensor2d(Float32Array.from(inst.x), [n, d]);
  const alphas = tf.tensor1d(Float32Array.from(inst.alphas));
  const means = tf.tensor2d(Float32Array.from(inst.means), [k, d]);
  const icf = tf.tensor2d(Float32Array.from(inst.icf), [k, icfSize]);

  const loss = (al: Tensor, mu: Tensor, ic: Tensor): Scalar => {
    const qs = tf.slice(ic, [0, 0], [k, d]); // log-diagonals [K, D]
    const ls = tf.slice(ic, [0, d], [k, icfSize - d]); // lower entries [K, D(D-1)/2]
    const sumQs = tf.sum(qs, 1); // [K]
    const qdiag = tf.exp(qs);
    // Q column by column: c zeros, the diagonal entry, then the c-th run of lower entries
    // (the runs are stored one after the other, lengths D-1, D-2, ...). Padding and slicing
    // have cheap gradients; a gather would not (tfjs-cpu's gather gradient, an unsorted
    // segment sum, costs one full pass per segment).
    const cols: Tensor[] = [];
    let start = 0;
    for (let c = 0; c < d; c++) {
      const run = d - 1 - c;
      const below = [tf.slice(qdiag, [0, c], [k, 1])];
      if (run > 0) below.push(tf.slice(ls, [0, start], [k, run]));
      start += run;
      cols.push(tf.pad(tf.concat(below, 1), [[0, 0], [c, 0]]));
    }
    const Q = tf.stack(cols, 2) as Tensor3D; // [K, row, column]
    const xc = tf.sub(tf.expandDims(x, 0), tf.expandDims(mu, 1)) as Tensor3D; // [K, N, D]
    const qxc = tf.matMul(xc, Q, false, true); // row n of slice k: Q_k xc_n
    const sq = tf.sum(tf.square(qxc), 2); // [K, N]
    const main = tf.sub(tf.expandDims(tf.add(al, sumQs), 1), tf.mul(sq, 0.5)); // [K, N]
    const slse = tf.sum(tf.logSumExp(main, 0));
    const lseAlphas = tf.logSumExp(al);
    const frob = tf.add(tf.sum(tf.square(qdiag)), tf.sum(tf.square(ls)));
    const prior = tf.sub(tf.mul(frob, 0.5 * gamma * gamma), tf.mul(tf.sum(sumQs), m));
    return tf.add(tf.sub(slse, tf.mul(lseAlphas, n)), prior) as Scalar;
  };
  const valueAndGrads = tf.valueAndGrads((al: Tensor, mu: Tensor, ic: Tensor) => loss(al, mu, ic));

  return {
    objective(): number {
      return tf.tidy(() => loss(alphas, means, icf).dataSync()[0]!) + constant;
    },
    gradient(out: Float64Array): number {
      return tf.tidy(() => {
        const { value, grads } = valueAndGrads([alphas, means, icf]);
        out.set(grads[0]!.dataSync(), 0);
        out.set(grads[1]!.dataSync(), k);
        out.set(grads[2]!.dataSync(), k + k * d);
        return value.dataSync()[0]! + constant;
      });
    },
    dispose(): void {
      tf.dispose([x, alphas, means, icf]);
    },
  };
}
