/**
 * Readers for ADBench's GMM, BA and LSTM input files (formats: data README, ADBench's
 * `docs/FileFormat.md` and `read_*_instance` in `src/cpp/shared/utils.cpp`).
 *
 * Invariants relied on:
 * - files are whitespace-separated decimal tokens; line breaks and blank lines carry no meaning,
 *   so every reader consumes one token stream in the documented order;
 * - all arrays are flat, row-major `Float64Array`s in ADBench's memory layout, so gradients
 *   computed on them come out in ADBench's `_J_` layout without reshuffling;
 * - the BA files hold ONE camera/point/weight/feature, replicated to n/m/p here; observation i
 *   sees camera i % n and point i % m (as `read_ba_instance` builds `obs`).
 */
import { readFileSync } from "node:fs";

/** GMM instance: d dimensions, k components, n points. */
export interface GmmInstance {
  d: number;
  k: number;
  n: number;
  /** k mixture log-weights (unnormalized). */
  alphas: Float64Array;
  /** k*d means, component-major. */
  means: Float64Array;
  /** k*d(d+1)/2 inverse-covariance factors: per component d log-diagonal values, then the
   * strictly lower triangle column by column. */
  icf: Float64Array;
  /** n*d points, point-major. */
  x: Float64Array;
  /** Wishart prior parameters (gamma, m). */
  gamma: number;
  m: number;
}

/** Bundle adjustment instance: n cameras (11 params), m points (3), p observations. */
export interface BaInstance {
  n: number;
  m: number;
  p: number;
  /** n*11: rot(3, Rodrigues vector), C(3, centre), f, u0, v0, k1, k2. */
  cams: Float64Array;
  /** m*3 world points. */
  points: Float64Array;
  /** p observation weights. */
  weights: Float64Array;
  /** 2p measured features. */
  feats: Float64Array;
  /** 2p indices (camera, point) per observation, stored as doubles so the objective stays
   * inside the Float64Array-only language adc differentiates. */
  obs: Float64Array;
}

/** LSTM instance: l layers, c characters in the sequence, b bits per character. */
export interface LstmInstance {
  l: number;
  c: number;
  b: number;
  /** 2l rows of 4b: per layer a weight row then a bias row, each [forget|ingate|outgate|change]. */
  mainParams: Float64Array;
  /** 3 rows of b: in_weight, out_weight, out_bias. */
  extraParams: Float64Array;
  /** 2l rows of b: per layer hidden then cell. */
  state: Float64Array;
  /** c rows of b. */
  sequence: Float64Array;
}

/** Sequential reader over the whitespace-separated tokens of a file. */
class Tokens {
  private readonly toks: string[];
  private pos = 0;
  constructor(readonly path: string) {
    // The inputs are at most a few hundred KB, so one split is simpler than a streaming lexer.
    this.toks = readFileSync(path, "utf8").split(/\s+/).filter((t) => t.length > 0);
  }
  num(): number {
    if (this.pos >= this.toks.length) throw new Error(`${this.path}: unexpected end of file`);
    const t = this.toks[this.pos++]!;
    const v = Number(t);
    if (Number.isNaN(v)) throw new Error(`${this.path}: not a number: ${JSON.stringify(t)}`);
    return v;
  }
  int(): number {
    const v = this.num();
    if (!Number.isInteger(v) || v < 0) throw new Error(`${this.path}: expected a count, got ${v}`);
    return v;
  }
  fill(out: Float64Array, from = 0, count = out.length - from): Float64Array {
    for (let i = 0; i < count; i++) out[from + i] = this.num();
    return out;
  }
  /** Tokens not consumed; readers check it is 0 so a misread layout fails loudly. */
  remaining(): number {
    return this.toks.length - this.pos;
  }
}

function expectEnd(t: Tokens): void {
  if (t.remaining() !== 0) throw new Error(`${t.path}: ${t.remaining()} unread tokens`);
}

/**
 * Reads a GMM file. With `replicatePoint` (the 2.5M files) the file has a single x line, copied
 * to all n points, as ADBench's `read_gmm_instance(..., replicate_point=true)` does.
 */
export function readGmm(path: string, replicatePoint = false): GmmInstance {
  const t = new Tokens(path);
  const d = t.int(), k = t.int(), n = t.int();
  const icfSize = (d * (d + 1)) / 2;
  const alphas = t.fill(new Float64Array(k));
  const means = t.fill(new Float64Array(k * d));
  const icf = t.fill(new Float64Array(k * icfSize));
  const x = new Float64Array(n * d);
  if (replicatePoint) {
    t.fill(x, 0, d);
    for (let i = 1; i < n; i++) x.copyWithin(i * d, 0, d);
  } else {
    t.fill(x);
  }
  const gamma = t.num(), m = t.num();
  expectEnd(t);
  return { d, k, n, alphas, means, icf, x, gamma, m };
}

/** Reads a BA file in ADBench's replicated format and expands it to the full n/m/p problem. */
export function readBa(path: string): BaInstance {
  const t = new Tokens(path);
  const n = t.int(), m = t.int(), p = t.int();
  const cams = new Float64Array(11 * n);
  t.fill(cams, 0, 11);
  for (let i = 1; i < n; i++) cams.copyWithin(11 * i, 0, 11);
  const points = new Float64Array(3 * m);
  t.fill(points, 0, 3);
  for (let i = 1; i < m; i++) points.copyWithin(3 * i, 0, 3);
  const w = t.num();
  const weights = new Float64Array(p).fill(w);
  const f0 = t.num(), f1 = t.num();
  expectEnd(t);
  const feats = new Float64Array(2 * p);
  const obs = new Float64Array(2 * p);
  for (let i = 0; i < p; i++) {
    feats[2 * i] = f0;
    feats[2 * i + 1] = f1;
    obs[2 * i] = i % n;
    obs[2 * i + 1] = i % m;
  }
  return { n, m, p, cams, points, weights, feats, obs };
}

/** Reads an LSTM file (blocks separated by blank lines, which the token stream ignores). */
export function readLstm(path: string): LstmInstance {
  const t = new Tokens(path);
  const l = t.int(), c = t.int(), b = t.int();
  const mainParams = t.fill(new Float64Array(2 * l * 4 * b));
  const extraParams = t.fill(new Float64Array(3 * b));
  const state = t.fill(new Float64Array(2 * l * b));
  const sequence = t.fill(new Float64Array(c * b));
  expectEnd(t);
  return { l, c, b, mainParams, extraParams, state, sequence };
}
