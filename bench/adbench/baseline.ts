/**
 * Benchmark cases for the ADBench problems: for each problem size, the loaded data, output
 * buffers allocated once, and closures `objective()`, `handGradient()`, `tfjsGradient()`, so a
 * runner can time them (and put adc's generated gradients next to them) without knowing the
 * file formats.
 *
 * Invariants:
 * - every closure writes into buffers owned by its case and returns that buffer (or a number);
 *   calling a closure again overwrites the previous result, so copy it if you keep it;
 * - hand and tfjs results live in separate buffers, so they can be compared with each other;
 * - the tfjs model (tensors) of a case is built on its first tfjsGradient() call, and released
 *   by dispose(); tfjs itself is loaded once per process (see tfjs-setup.ts).
 */
import { readBa, readGmm, readLstm, type BaInstance, type GmmInstance, type LstmInstance } from "./io.js";
import { dataPath } from "./paths.js";
import { gmmObjective } from "./gmm.js";
import { gmmGradientHand, makeGmmHandScratch } from "./gmm-hand.js";
import { makeGmmTfjs, type GmmTfjs } from "./gmm-tfjs.js";
import { baObjective } from "./ba.js";
import { baAssembleJacobian, baJacobianHand, makeBaJacobian, type BaBlockFn, type CsrMatrix } from "./ba-hand.js";
import { makeBaTfjs, type BaTfjs } from "./ba-tfjs.js";
import { lstmObjective } from "./lstm.js";
import { lstmGradientHand, makeLstmHandScratch } from "./lstm-hand.js";
import { makeLstmTfjs, type LstmTfjs } from "./lstm-tfjs.js";
import { loadTfjsCpu, type Tf } from "./tfjs-setup.js";

export interface GmmSize { name: string; d: number; k: number; n: number; file: string; replicatePoint: boolean }
export interface BaSize { name: string; n: number; m: number; p: number; file: string }
export interface LstmSize { name: string; l: number; c: number; file: string }

const gmm1k = (d: number, k: number): GmmSize =>
  ({ name: `gmm d${d} K${k} n1000`, d, k, n: 1000, file: `gmm/1k/gmm_d${d}_K${k}.txt`, replicatePoint: false });

/** The GMM sizes of the issue (all four 1k files exist in the data set, d64 K10 included). */
export const GMM_SIZES: readonly GmmSize[] = [
  gmm1k(2, 5),
  gmm1k(10, 25),
  gmm1k(20, 50),
  gmm1k(64, 10),
  { name: "gmm d2 K5 n10000", d: 2, k: 5, n: 10000, file: "gmm/10k/gmm_d2_K5.txt", replicatePoint: false },
];

const ba = (i: number, n: number, m: number, p: number): BaSize =>
  ({ name: `ba${i} n${n} m${m} p${p}`, n, m, p, file: `ba/ba${i}_n${n}_m${m}_p${p}.txt` });

/**
 * BA sizes: the paper's table from ba1 up to ba16, the first whose full Jacobian takes about a
 * second by hand on this machine (4.75M observations, 147M nonzeros, ~1.8 GB of CSR; the first
 * call is several times slower while the buffers are first touched). ba13 (1.09M observations)
 * takes ~0.25 s. tfjs needs ~25 us per observation, so only ba1 is reasonable for it.
 * ba19 (9.1M observations, ~3.5 GB of CSR) is in BA_SIZES_LARGE; ba20 (29M, ~11 GB) is left
 * out.
 */
export const BA_SIZES: readonly BaSize[] = [
  ba(1, 49, 7776, 31843),
  ba(4, 372, 47423, 204472),
  ba(7, 93, 61203, 287451),
  ba(10, 1197, 126327, 563734),
  ba(13, 245, 198739, 1091386),
  ba(16, 1544, 942409, 4750193),
];
export const BA_SIZES_LARGE: readonly BaSize[] = [ba(19, 4585, 1324582, 9125125)];

export const LSTM_SIZES: readonly LstmSize[] = [{ name: "lstm l2 c1024", l: 2, c: 1024, file: "lstm/lstm_l2_c1024.txt" }];

/** Options for the case factories. */
export interface CaseOptions {
  /** Load tfjs so tfjsGradient() works (default true). */
  tfjs?: boolean;
}

async function maybeTf(opts: CaseOptions): Promise<Tf | undefined> {
  return opts.tfjs === false ? undefined : loadTfjsCpu();
}

function needTf(tf: Tf | undefined): Tf {
  if (!tf) throw new Error("tfjs was not loaded for this case (created with { tfjs: false })");
  return tf;
}

export interface GmmCase {
  problem: "gmm";
  size: GmmSize;
  data: GmmInstance;
  /** Gradient length k(1 + d + d(d+1)/2); layout [alphas, means, icf]. */
  nParams: number;
  objective(): number;
  handGradient(): Float64Array;
  tfjsGradient(): Float64Array;
  dispose(): void;
}

export async function makeGmmCase(size: GmmSize, opts: CaseOptions = {}): Promise<GmmCase> {
  const data = readGmm(dataPath(size.file), size.replicatePoint);
  const { alphas, means, icf, x, gamma, m, d, k, n } = data;
  const nParams = k * (1 + d + (d * (d + 1)) / 2);
  const tf = await maybeTf(opts);
  const handOut = new Float64Array(nParams), tfOut = new Float64Array(nParams);
  const scratch = makeGmmHandScratch(d, k);
  let model: GmmTfjs | undefined;
  return {
    problem: "gmm", size, data, nParams,
    objective: () => gmmObjective(alphas, means, icf, x, gamma, m, d, k, n),
    handGradient: () => {
      gmmGradientHand(alphas, means, icf, x, gamma, m, d, k, n, handOut, scratch);
      return handOut;
    },
    tfjsGradient: () => {
      model ??= makeGmmTfjs(needTf(tf), data);
      model.gradient(tfOut);
      return tfOut;
    },
    dispose: () => model?.dispose(),
  };
}

export interface BaCase {
  problem: "ba";
  size: BaSize;
  data: BaInstance;
  /** The 3p residuals: 2p reprojection (observation-major), then p weight residuals. */
  objective(): Float64Array;
  /** The full CSR Jacobian (3p x (11n + 3m + p)), pattern and values rebuilt on each call. */
  handGradient(): CsrMatrix;
  tfjsGradient(): CsrMatrix;
  /** The full Jacobian assembled from a per-observation 2x15 block function (e.g. adc's). */
  assemble(block: BaBlockFn): CsrMatrix;
  dispose(): void;
}

export async function makeBaCase(size: BaSize, opts: CaseOptions = {}): Promise<BaCase> {
  const data = readBa(dataPath(size.file));
  const { n, m, p, cams, points, weights, feats, obs } = data;
  const tf = await maybeTf(opts);
  const err = new Float64Array(3 * p);
  const handJ = makeBaJacobian(n, m, p);
  const rot = new Float64Array(13);
  // Allocated on first use only: each CSR of ba16 is ~1.8 GB.
  let tfJ: CsrMatrix | undefined, blockJ: CsrMatrix | undefined;
  let model: BaTfjs | undefined;
  return {
    problem: "ba", size, data,
    objective: () => {
      baObjective(cams, points, weights, feats, obs, p, err);
      return err;
    },
    handGradient: () => {
      baJacobianHand(data, handJ, rot);
      return handJ;
    },
    tfjsGradient: () => {
      model ??= makeBaTfjs(needTf(tf), data);
      tfJ ??= makeBaJacobian(n, m, p);
      model.jacobian(tfJ);
      return tfJ;
    },
    assemble: (block) => {
      blockJ ??= makeBaJacobian(n, m, p);
      baAssembleJacobian(data, blockJ, block);
      return blockJ;
    },
    dispose: () => model?.dispose(),
  };
}

export interface LstmCase {
  problem: "lstm";
  size: LstmSize;
  data: LstmInstance;
  /** Gradient length 8lb + 3b; layout [mainParams, extraParams]. */
  nParams: number;
  objective(): number;
  handGradient(): Float64Array;
  tfjsGradient(): Float64Array;
  dispose(): void;
}

export async function makeLstmCase(size: LstmSize, opts: CaseOptions = {}): Promise<LstmCase> {
  const data = readLstm(dataPath(size.file));
  const { l, c, b, mainParams, extraParams, state, sequence } = data;
  const nParams = 8 * l * b + 3 * b;
  const tf = await maybeTf(opts);
  const handOut = new Float64Array(nParams), tfOut = new Float64Array(nParams);
  const scratch = makeLstmHandScratch(l, c, b);
  let model: LstmTfjs | undefined;
  return {
    problem: "lstm", size, data, nParams,
    objective: () => lstmObjective(mainParams, extraParams, state, sequence, l, c, b),
    handGradient: () => {
      lstmGradientHand(mainParams, extraParams, state, sequence, l, c, b, handOut, scratch);
      return handOut;
    },
    tfjsGradient: () => {
      model ??= makeLstmTfjs(needTf(tf), data);
      model.gradient(tfOut);
      return tfOut;
    },
    dispose: () => model?.dispose(),
  };
}

export type BenchCase = GmmCase | BaCase | LstmCase;
