/**
 * ADBench's LSTM objective (src/cpp/shared/lstm.h), written as an adc user would: plain
 * functions over Float64Array and numbers in the subset adc differentiates.
 *
 * ADBench's LSTM is "diagonal": every weight multiplies one input element, so a layer update
 * is elementwise over the b hidden units. Layouts (see io.ts):
 *   mainParams: per layer j, weights at j*8b (4b: forget|ingate|outgate|change), biases at j*8b+4b;
 *   extraParams: in_weight (b), out_weight (b), out_bias (b);
 *   state: per layer j, hidden at j*2b, cell at j*2b+b.
 * The objective works on a copy of `state` (ADBench passes it by value), so calling it does
 * not change its arguments. Its logsumexp adds 2 inside the log, as ADBench's does on purpose.
 */

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** log(2 + sum exp(v[i])), ADBench's LSTM variant (no max shift, +2 inside). */
export function logsumexpPlus2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]);
  return Math.log(s + 2);
}

/**
 * One step of one layer, updating its hidden and cell state in place. `input` is a separate
 * buffer (never `state` itself), so no array is read through two names.
 */
export function lstmModel(
  b: number, params: Float64Array, wOff: number, bOff: number,
  state: Float64Array, hOff: number, cOff: number, input: Float64Array,
): void {
  for (let i = 0; i < b; i++) {
    const x = input[i];
    const h = state[hOff + i];
    const forget = sigmoid(x * params[wOff + i] + params[bOff + i]);
    const ingate = sigmoid(h * params[wOff + b + i] + params[bOff + b + i]);
    const outgate = sigmoid(x * params[wOff + 2 * b + i] + params[bOff + 2 * b + i]);
    const change = Math.tanh(h * params[wOff + 3 * b + i] + params[bOff + 3 * b + i]);
    const cell = state[cOff + i] * forget + ingate * change;
    state[cOff + i] = cell;
    state[hOff + i] = outgate * Math.tanh(cell);
  }
}

/**
 * Runs all layers on the character at sequence[inOff .. inOff+b) and writes the prediction to
 * ypred. `x` is a b-element scratch buffer holding the current layer's input.
 */
export function lstmPredict(
  l: number, b: number, mainParams: Float64Array, extraParams: Float64Array,
  state: Float64Array, sequence: Float64Array, inOff: number, x: Float64Array, ypred: Float64Array,
): void {
  for (let i = 0; i < b; i++) x[i] = sequence[inOff + i] * extraParams[i];
  for (let j = 0; j < l; j++) {
    if (j > 0) {
      // The input of layer j is the hidden state layer j-1 has just computed.
      for (let i = 0; i < b; i++) x[i] = state[(j - 1) * 2 * b + i];
    }
    lstmModel(b, mainParams, j * 8 * b, j * 8 * b + 4 * b, state, j * 2 * b, j * 2 * b + b, x);
  }
  const top = (l - 1) * 2 * b;
  for (let i = 0; i < b; i++) ypred[i] = state[top + i] * extraParams[b + i] + extraParams[2 * b + i];
}

/** Mean negative log-likelihood of each next character, as ADBench's `lstm_objective`. */
export function lstmObjective(
  mainParams: Float64Array, extraParams: Float64Array, state: Float64Array,
  sequence: Float64Array, l: number, c: number, b: number,
): number {
  const s = new Float64Array(state.length);
  for (let i = 0; i < state.length; i++) s[i] = state[i];
  const x = new Float64Array(b);
  const ypred = new Float64Array(b);
  let total = 0;
  let count = 0;
  for (let t = 0; t < c - 1; t++) {
    lstmPredict(l, b, mainParams, extraParams, s, sequence, t * b, x, ypred);
    const lse = logsumexpPlus2(ypred);
    for (let i = 0; i < b; i++) total += sequence[(t + 1) * b + i] * (ypred[i] - lse);
    count += b;
  }
  return -total / count;
}
