/**
 * TensorFlow.js baseline for ADBench's LSTM objective and gradient: the recurrence is
 * sequential, so the idiomatic form is a JS loop over time with vector ops per layer step
 * (ops on b-element tensors), the first-layer inputs and the loss computed for all steps at
 * once, and `tf.valueAndGrads` for reverse mode.
 *
 * Precision: float32 (the CPU backend has no float64); the gradient is copied into a
 * Float64Array in ADBench's layout [mainParams (8lb), extraParams (3b)].
 * Invariant: tensors made while evaluating are released by tf.tidy; the long-lived ones are
 * released by dispose().
 */
import type { Scalar, Tensor } from "@tensorflow/tfjs-core";
import type { Tf } from "./tfjs-setup.js";
import type { LstmInstance } from "./io.js";

export interface LstmTfjs {
  objective(): number;
  /** Writes the gradient into `out` and returns the objective value. */
  gradient(out: Float64Array): number;
  dispose(): void;
}

/** Builds the baseline for one instance; `tf` comes from loadTfjsCpu(). */
export function makeLstmTfjs(tf: Tf, inst: LstmInstance): LstmTfjs {
  const { l, c, b } = inst;
  const steps = c - 1;
  // tfjs takes float32 typed arrays, not Float64Array: the data is rounded here.
  const main = tf.tensor4d(Float32Array.from(inst.mainParams), [l, 2, 4, b]); // layer, weight|bias, gate, unit
  const extra = tf.tensor2d(Float32Array.from(inst.extraParams), [3, b]); // in_weight, out_weight, out_bias
  const state0 = tf.tensor3d(Float32Array.from(inst.state), [l, 2, b]); // layer, hidden|cell, unit
  const seq = tf.tensor2d(Float32Array.from(inst.sequence), [c, b]);
  const inputs = tf.slice(seq, [0, 0], [steps, b]); // character t feeds step t
  const golds = tf.slice(seq, [1, 0], [steps, b]); // character t+1 is the target of step t

  const loss = (mainP: Tensor, extraP: Tensor): Scalar => {
    const [inW, outW, outB] = tf.unstack(extraP) as [Tensor, Tensor, Tensor];
    const layers = tf.unstack(mainP); // l tensors [2, 4, b]
    const W: Tensor[][] = [], B: Tensor[][] = [];
    for (const layer of layers) {
      const [w, bias] = tf.unstack(layer) as [Tensor, Tensor];
      W.push(tf.unstack(w)); // forget, ingate, outgate, change
      B.push(tf.unstack(bias));
    }
    const hidden: Tensor[] = [], cell: Tensor[] = [];
    for (const s of tf.unstack(state0)) {
      const [h, cl] = tf.unstack(s) as [Tensor, Tensor];
      hidden.push(h);
      cell.push(cl);
    }
    const xs = tf.unstack(tf.mul(inputs, inW)); // first-layer input of every step
    const tops: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      let x = xs[t]!;
      for (let j = 0; j < l; j++) {
        const [wf, wi, wo, wc] = W[j] as [Tensor, Tensor, Tensor, Tensor];
        const [bf, bi, bo, bc] = B[j] as [Tensor, Tensor, Tensor, Tensor];
        const h = hidden[j]!;
        const forget = tf.sigmoid(tf.add(tf.mul(x, wf), bf));
        const ingate = tf.sigmoid(tf.add(tf.mul(h, wi), bi));
        const outgate = tf.sigmoid(tf.add(tf.mul(x, wo), bo));
        const change = tf.tanh(tf.add(tf.mul(h, wc), bc));
        cell[j] = tf.add(tf.mul(cell[j]!, forget), tf.mul(ingate, change));
        hidden[j] = tf.mul(outgate, tf.tanh(cell[j]!));
        x = hidden[j]!;
      }
      tops.push(x);
    }
    const ypred = tf.add(tf.mul(tf.stack(tops), outW), outB); // [steps, b]
    // ADBench's logsumexp: log(2 + sum exp), no max shift.
    const lse = tf.log(tf.add(tf.sum(tf.exp(ypred), 1, true), 2)); // [steps, 1]
    const total = tf.sum(tf.mul(golds, tf.sub(ypred, lse)));
    return tf.mul(total, -1 / (steps * b)) as Scalar;
  };
  const valueAndGrads = tf.valueAndGrads((m: Tensor, e: Tensor) => loss(m, e));

  return {
    objective(): number {
      return tf.tidy(() => loss(main, extra).dataSync()[0]!);
    },
    gradient(out: Float64Array): number {
      return tf.tidy(() => {
        const { value, grads } = valueAndGrads([main, extra]);
        out.set(grads[0]!.dataSync(), 0);
        out.set(grads[1]!.dataSync(), 8 * l * b);
        return value.dataSync()[0]!;
      });
    },
    dispose(): void {
      tf.dispose([main, extra, state0, seq, inputs, golds]);
    },
  };
}
