/**
 * Hand-written reverse-mode gradient of the LSTM objective (bench/adbench/lstm.ts).
 *
 * Forward: the objective's recurrence, recording per (step, layer) what the reverse sweep needs
 * (layer input, previous hidden and cell, the four gates, tanh of the new cell) and per step
 * the normalized exps of the prediction. Reverse: walk the steps backwards carrying the
 * adjoints of each layer's hidden and cell state. The record and scratch are allocated once.
 *
 * Output layout (ADBench): [mainParams (8lb), extraParams (3b)].
 * Invariant: the layer update is elementwise (ADBench's diagonal LSTM), so every adjoint is
 * per-unit; only the log-sum-exp couples units.
 */

/** Reusable buffers for one (l, c, b). */
export interface LstmHandScratch {
  l: number;
  c: number;
  b: number;
  /** (c-1) * l * 8 * b: per step and layer: input, h, cell, forget, ingate, outgate, change, tanh(cell'). */
  rec: Float64Array;
  /** (c-1) * b: exp(ypred) / (2 + sum exp(ypred)) per step. */
  probs: Float64Array;
  /** (c-1) * b: top hidden state after each step (the input of the output layer). */
  tops: Float64Array;
  state: Float64Array; // 2lb, running state
  dh: Float64Array; // lb, adjoint of each layer's hidden state carried back in time
  dc: Float64Array; // lb, same for the cell state
  dx: Float64Array; // b, adjoint of the current layer's input
}

export function makeLstmHandScratch(l: number, c: number, b: number): LstmHandScratch {
  const steps = Math.max(c - 1, 0);
  return {
    l, c, b,
    rec: new Float64Array(steps * l * 8 * b),
    probs: new Float64Array(steps * b),
    tops: new Float64Array(steps * b),
    state: new Float64Array(2 * l * b),
    dh: new Float64Array(l * b),
    dc: new Float64Array(l * b),
    dx: new Float64Array(b),
  };
}

/** Writes the gradient into `grad` (length 8lb + 3b) and returns the objective value. */
export function lstmGradientHand(
  mainParams: Float64Array, extraParams: Float64Array, state0: Float64Array, sequence: Float64Array,
  l: number, c: number, b: number, grad: Float64Array,
  scratch: LstmHandScratch = makeLstmHandScratch(l, c, b),
): number {
  if (scratch.l !== l || scratch.c !== c || scratch.b !== b) throw new Error("lstmGradientHand: scratch made for another (l, c, b)");
  const { rec, probs, tops, state, dh, dc, dx } = scratch;
  const steps = c - 1;
  const count = steps * b;
  state.set(state0);
  grad.fill(0);

  // ---- forward ----
  let total = 0;
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < l; j++) {
      const r = (t * l + j) * 8 * b;
      const wOff = j * 8 * b, bOff = wOff + 4 * b, hOff = j * 2 * b, cOff = hOff + b;
      for (let i = 0; i < b; i++) {
        const x = j === 0 ? sequence[t * b + i] * extraParams[i] : state[hOff - 2 * b + i];
        const h = state[hOff + i];
        const cell = state[cOff + i];
        const f = 1 / (1 + Math.exp(-(x * mainParams[wOff + i] + mainParams[bOff + i])));
        const ig = 1 / (1 + Math.exp(-(h * mainParams[wOff + b + i] + mainParams[bOff + b + i])));
        const og = 1 / (1 + Math.exp(-(x * mainParams[wOff + 2 * b + i] + mainParams[bOff + 2 * b + i])));
        const ch = Math.tanh(h * mainParams[wOff + 3 * b + i] + mainParams[bOff + 3 * b + i]);
        const cellNew = cell * f + ig * ch;
        const tc = Math.tanh(cellNew);
        rec[r + i] = x;
        rec[r + b + i] = h;
        rec[r + 2 * b + i] = cell;
        rec[r + 3 * b + i] = f;
        rec[r + 4 * b + i] = ig;
        rec[r + 5 * b + i] = og;
        rec[r + 6 * b + i] = ch;
        rec[r + 7 * b + i] = tc;
        state[cOff + i] = cellNew;
        state[hOff + i] = og * tc;
      }
    }
    const top = (l - 1) * 2 * b;
    let se = 0;
    for (let i = 0; i < b; i++) {
      const hTop = state[top + i];
      tops[t * b + i] = hTop;
      const y = hTop * extraParams[b + i] + extraParams[2 * b + i];
      const e = Math.exp(y);
      probs[t * b + i] = e;
      se += e;
      total += sequence[(t + 1) * b + i] * y;
    }
    se += 2;
    let goldSum = 0;
    for (let i = 0; i < b; i++) {
      probs[t * b + i] /= se;
      goldSum += sequence[(t + 1) * b + i];
    }
    total -= goldSum * Math.log(se);
  }

  // ---- reverse ----
  const gExtra = 8 * l * b;
  const scale = -1 / count;
  dh.fill(0);
  dc.fill(0);
  for (let t = steps - 1; t >= 0; t--) {
    // loss = scale * sum_i gold_i (y_i - lse): ybar_i = scale (gold_i - sum(gold) p_i).
    let goldSum = 0;
    for (let i = 0; i < b; i++) goldSum += sequence[(t + 1) * b + i];
    const topH = (l - 1) * b;
    for (let i = 0; i < b; i++) {
      const yb = scale * (sequence[(t + 1) * b + i] - goldSum * probs[t * b + i]);
      grad[gExtra + b + i] += yb * tops[t * b + i];
      grad[gExtra + 2 * b + i] += yb;
      dh[topH + i] += yb * extraParams[b + i];
    }
    for (let j = l - 1; j >= 0; j--) {
      const r = (t * l + j) * 8 * b;
      const wOff = j * 8 * b, bOff = wOff + 4 * b;
      const hj = j * b;
      for (let i = 0; i < b; i++) {
        const x = rec[r + i], h = rec[r + b + i], cell = rec[r + 2 * b + i];
        const f = rec[r + 3 * b + i], ig = rec[r + 4 * b + i], og = rec[r + 5 * b + i];
        const ch = rec[r + 6 * b + i], tc = rec[r + 7 * b + i];
        const hb = dh[hj + i];
        // h' = og tanh(c');  c' = c f + ig ch
        const cb = dc[hj + i] + hb * og * (1 - tc * tc);
        const fPre = cb * cell * f * (1 - f);
        const igPre = cb * ch * ig * (1 - ig);
        const ogPre = hb * tc * og * (1 - og);
        const chPre = cb * ig * (1 - ch * ch);
        grad[wOff + i] += fPre * x;
        grad[bOff + i] += fPre;
        grad[wOff + b + i] += igPre * h;
        grad[bOff + b + i] += igPre;
        grad[wOff + 2 * b + i] += ogPre * x;
        grad[bOff + 2 * b + i] += ogPre;
        grad[wOff + 3 * b + i] += chPre * h;
        grad[bOff + 3 * b + i] += chPre;
        dx[i] = fPre * mainParams[wOff + i] + ogPre * mainParams[wOff + 2 * b + i];
        // Carried to step t-1: the state this step read.
        dh[hj + i] = igPre * mainParams[wOff + b + i] + chPre * mainParams[wOff + 3 * b + i];
        dc[hj + i] = cb * f;
      }
      if (j > 0) {
        // Layer j's input was layer j-1's new hidden state at this step.
        for (let i = 0; i < b; i++) dh[(j - 1) * b + i] += dx[i];
      } else {
        for (let i = 0; i < b; i++) grad[gExtra + i] += dx[i] * sequence[t * b + i];
      }
    }
  }
  return -total / count;
}
