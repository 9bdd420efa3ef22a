// Axis-reduction loops. Every reduction is phrased on the (outer, n, inner)
// split of a contiguous array around the reduced axis (a full reduction is
// outer = inner = 1), so out[o*inner + j] folds a[(o*n + k)*inner + j] over k.
// Loop order o, k, j keeps both reads and writes sequential.

export function sumAxis(a: Float64Array, outer: number, n: number, inner: number): Float64Array {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let k = 0; k < n; k++) {
      const ab = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) out[ob + j] += a[ab + j];
    }
  }
  return out;
}

/** max (sign = 1) or min (sign = -1) along the axis; NaN propagates as in numpy. n must be > 0. */
export function chooseAxis(a: Float64Array, outer: number, n: number, inner: number, sign: 1 | -1): Float64Array {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    const first = o * n * inner;
    for (let j = 0; j < inner; j++) out[ob + j] = a[first + j];
    for (let k = 1; k < n; k++) {
      const ab = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) {
        const v = a[ab + j];
        const m = out[ob + j];
        if ((sign > 0 ? v > m : v < m) || v !== v) {
          if (m === m) out[ob + j] = v;
        }
      }
    }
  }
  return out;
}

/** How many entries along the axis equal the chosen value (ties). */
export function countTies(a: Float64Array, outer: number, n: number, inner: number, chosen: Float64Array): Float64Array {
  const count = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let k = 0; k < n; k++) {
      const ab = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) if (a[ab + j] === chosen[ob + j]) count[ob + j] += 1;
    }
  }
  return count;
}

/**
 * Adjoint of max/min: the cotangent of each output is split equally among the
 * inputs that tie for the chosen value (JAX's convention); the others get 0.
 */
export function chooserVjp(
  a: Float64Array,
  outer: number,
  n: number,
  inner: number,
  chosen: Float64Array,
  g: Float64Array,
): Float64Array {
  const count = countTies(a, outer, n, inner, chosen);
  const ga = new Float64Array(a.length);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let k = 0; k < n; k++) {
      const ab = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) {
        if (a[ab + j] === chosen[ob + j]) ga[ab + j] = g[ob + j] / count[ob + j];
      }
    }
  }
  return ga;
}

/** Tangent of max/min: the mean of the tangents at the tied positions. */
export function chooserJvp(
  a: Float64Array,
  outer: number,
  n: number,
  inner: number,
  chosen: Float64Array,
  t: Float64Array,
): Float64Array {
  const count = countTies(a, outer, n, inner, chosen);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let k = 0; k < n; k++) {
      const ab = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) if (a[ab + j] === chosen[ob + j]) out[ob + j] += t[ab + j];
    }
  }
  for (let i = 0; i < out.length; i++) if (count[i] > 0) out[i] /= count[i];
  return out;
}

export function prodAxis(a: Float64Array, outer: number, n: number, inner: number): Float64Array {
  const out = new Float64Array(outer * inner).fill(1);
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    for (let k = 0; k < n; k++) {
      const ab = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) out[ob + j] *= a[ab + j];
    }
  }
  return out;
}

/**
 * For each entry, the product of the other entries along the axis: prod's
 * partial derivative. Built from prefix and suffix products rather than
 * out / a, so it stays right where entries are 0.
 */
export function prodOthers(a: Float64Array, outer: number, n: number, inner: number): Float64Array {
  const d = new Float64Array(a.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const first = o * n * inner + j;
      let before = 1;
      for (let k = 0, p = first; k < n; k++, p += inner) {
        d[p] = before;
        before *= a[p];
      }
      let after = 1;
      for (let k = n - 1, p = first + k * inner; k >= 0; k--, p -= inner) {
        d[p] *= after;
        after *= a[p];
      }
    }
  }
  return d;
}

/**
 * Position along the axis of the first max (sign = 1) or min (sign = -1);
 * the first NaN wins, as numpy's argmax/argmin. n must be > 0.
 */
export function argChoose(a: Float64Array, outer: number, n: number, inner: number, sign: 1 | -1): Float64Array {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = a[o * n * inner + j];
      let at = 0;
      for (let k = 1; k < n && best === best; k++) {
        const v = a[(o * n + k) * inner + j];
        if ((sign > 0 ? v > best : v < best) || v !== v) {
          best = v;
          at = k;
        }
      }
      out[o * inner + j] = at;
    }
  }
  return out;
}
