/**
 * Correctness of the ADBench ports in bench/adbench: objectives and hand-written derivatives
 * against ADBench's reference values (reference/*.json of the data set, compared with ADBench's
 * rho(x, y) = |x - y| / max(1, |x| + |y|) at its tolerance 1e-8), hand derivatives against
 * central finite differences, and the float32 tfjs baselines against the hand derivatives.
 * Reads the data from ADBENCH_DIR (bench/adbench/paths.ts). Meant to take a few seconds.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { readBa, readGmm, readLstm, type BaInstance, type LstmInstance } from "../../bench/adbench/io.js";
import { dataPath, referencePath } from "../../bench/adbench/paths.js";
import { gmmObjective, lgammaPositive } from "../../bench/adbench/gmm.js";
import { gmmGradientHand } from "../../bench/adbench/gmm-hand.js";
import { makeGmmTfjs } from "../../bench/adbench/gmm-tfjs.js";
import { baObjective, baResidual } from "../../bench/adbench/ba.js";
import {
  baAssembleJacobian, baBlockHand, baBlockHandSmall, baJacobianHand, makeBaJacobian,
} from "../../bench/adbench/ba-hand.js";
import { makeBaTfjs } from "../../bench/adbench/ba-tfjs.js";
import { lstmObjective } from "../../bench/adbench/lstm.js";
import { lstmGradientHand } from "../../bench/adbench/lstm-hand.js";
import { makeLstmTfjs } from "../../bench/adbench/lstm-tfjs.js";
import { loadTfjsCpu, type Tf } from "../../bench/adbench/tfjs-setup.js";

const TOL = 1e-8;
const rho = (x: number, y: number): number => Math.abs(x - y) / Math.max(1, Math.abs(x) + Math.abs(y));
const reference = (name: string): any => JSON.parse(readFileSync(referencePath(name), "utf8"));

/** Largest rho over two equally long vectors. */
function maxRho(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, rho(a[i]!, b[i]!));
  return worst;
}

/** Largest |a - b| / max(1, |b|): the float32 tfjs results against float64 ones. */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

/**
 * Five-point central difference of f along coordinate i of v (v is restored afterwards):
 * error O(h^4), so a fairly large step keeps rounding small even where |f| is ~1e4.
 */
function centralDiff(f: () => number, v: Float64Array, i: number, rel = 1e-3): number {
  const x0 = v[i]!;
  const h = rel * Math.max(1, Math.abs(x0));
  const at = (t: number): number => {
    v[i] = x0 + t * h;
    return f();
  };
  const d = (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h);
  v[i] = x0;
  return d;
}

let tf: Tf;
beforeAll(async () => {
  tf = await loadTfjsCpu();
});

describe("GMM", () => {
  const gmmParams = (d: number, k: number): number => k * (1 + d + (d * (d + 1)) / 2);

  it("lgammaPositive matches known values", () => {
    // lgamma(1/2) = log(sqrt(pi)); lgamma(n) = log((n-1)!)
    expect(lgammaPositive(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(Math.abs(lgammaPositive(1))).toBeLessThan(1e-14);
    expect(lgammaPositive(12)).toBeCloseTo(Math.log(39916800), 12);
    expect(lgammaPositive(33.5)).toBeCloseTo(83.30242550295004, 12);
  });

  it("test.txt: objective and gradient match ADBench's reference", () => {
    const ref = reference("gmm_test.expected.json");
    const g = readGmm(dataPath("gmm/test.txt"));
    const { alphas, means, icf, x, gamma, m, d, k, n } = g;
    expect(rho(gmmObjective(alphas, means, icf, x, gamma, m, d, k, n), ref.objective)).toBeLessThan(TOL);
    const grad = new Float64Array(gmmParams(d, k));
    expect(grad.length).toBe(18);
    const value = gmmGradientHand(alphas, means, icf, x, gamma, m, d, k, n, grad);
    expect(rho(value, ref.objective)).toBeLessThan(TOL);
    expect(maxRho(grad, ref.gradient)).toBeLessThan(TOL);
  });

  it("1k d10 K25: objective matches ADBench's C++ value", () => {
    const g = readGmm(dataPath("gmm/1k/gmm_d10_K25.txt"));
    const f = gmmObjective(g.alphas, g.means, g.icf, g.x, g.gamma, g.m, g.d, g.k, g.n);
    expect(rho(f, -25649.65262119762)).toBeLessThan(1e-14);
  });

  for (const [file, sample] of [["gmm/1k/gmm_d2_K5.txt", 30], ["gmm/1k/gmm_d10_K25.txt", 24]] as const) {
    it(`${file}: hand gradient agrees with central differences (${sample} coordinates)`, () => {
      const g = readGmm(dataPath(file));
      const { alphas, means, icf, x, gamma, m, d, k, n } = g;
      const grad = new Float64Array(gmmParams(d, k));
      gmmGradientHand(alphas, means, icf, x, gamma, m, d, k, n, grad);
      const f = (): number => gmmObjective(alphas, means, icf, x, gamma, m, d, k, n);
      const blocks = [alphas, means, icf];
      // Spread the sampled coordinates over the three blocks, and over diagonal and lower
      // entries of icf, with a fixed stride so failures are reproducible.
      for (let s = 0; s < sample; s++) {
        const gi = Math.floor((s * grad.length) / sample + s * 7) % grad.length;
        const [block, off] = gi < k ? [0, gi] : gi < k + k * d ? [1, gi - k] : [2, gi - k - k * d];
        const fd = centralDiff(f, blocks[block]!, off);
        expect(rho(grad[gi]!, fd), `coordinate ${gi}`).toBeLessThan(1e-7);
      }
    });
  }

  it("minWeight 1e-300 changes the gradient by less than 1e-280", () => {
    const g = readGmm(dataPath("gmm/1k/gmm_d20_K50.txt"));
    const { alphas, means, icf, x, gamma, m, d, k, n } = g;
    const exact = new Float64Array(gmmParams(d, k)), skipped = new Float64Array(exact.length);
    gmmGradientHand(alphas, means, icf, x, gamma, m, d, k, n, exact);
    gmmGradientHand(alphas, means, icf, x, gamma, m, d, k, n, skipped, undefined, 1e-300);
    let worst = 0;
    for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(exact[i]! - skipped[i]!));
    expect(worst).toBeLessThan(1e-280);
  });

  for (const file of ["gmm/test.txt", "gmm/1k/gmm_d2_K5.txt"]) {
    it(`${file}: tfjs (float32) objective and gradient agree with the hand code`, () => {
      const g = readGmm(dataPath(file));
      const { alphas, means, icf, x, gamma, m, d, k, n } = g;
      const hand = new Float64Array(gmmParams(d, k)), viaTf = new Float64Array(hand.length);
      const value = gmmGradientHand(alphas, means, icf, x, gamma, m, d, k, n, hand);
      const model = makeGmmTfjs(tf, g);
      const before = tf.memory().numTensors;
      const tfValue = model.gradient(viaTf);
      const tfObjective = model.objective();
      expect(tf.memory().numTensors).toBe(before); // tf.tidy released every temporary
      model.dispose();
      expect(Math.abs(tfValue - value) / Math.max(1, Math.abs(value))).toBeLessThan(1e-5);
      expect(Math.abs(tfObjective - value) / Math.max(1, Math.abs(value))).toBeLessThan(1e-5);
      expect(maxRel(viaTf, hand)).toBeLessThan(1e-3);
    });
  }

  it("replicate_point reader copies the single x line to all n points", () => {
    const g = readGmm(dataPath("gmm/2.5M/gmm_d2_K5.txt"), true);
    expect([g.d, g.k, g.n, g.x.length]).toEqual([2, 5, 2_500_000, 5_000_000]);
    expect([g.x[0], g.x[1]]).toEqual([1.270848, 0.066009]);
    expect([g.x[2 * 2_499_999], g.x[2 * 2_499_999 + 1]]).toEqual([1.270848, 0.066009]);
    expect([g.gamma, g.m]).toEqual([1, 0]);
  });
});

describe("BA", () => {
  let test: BaInstance;
  let ref: any;
  beforeAll(() => {
    test = readBa(dataPath("ba/test.txt"));
    ref = reference("ba_test.expected.json");
  });

  it("test.txt: residuals match ADBench's reference", () => {
    const err = new Float64Array(3 * test.p);
    baObjective(test.cams, test.points, test.weights, test.feats, test.obs, test.p, err);
    const [r0, r1] = ref.reproj_err_pair_every_observation;
    for (let i = 0; i < test.p; i++) {
      expect(rho(err[2 * i]!, r0)).toBeLessThan(TOL);
      expect(rho(err[2 * i + 1]!, r1)).toBeLessThan(TOL);
      expect(rho(err[2 * test.p + i]!, ref.w_err_every_observation)).toBeLessThan(TOL);
    }
  });

  it("test.txt: CSR Jacobian (rows, cols, 310 values) matches ADBench's reference", () => {
    const J = makeBaJacobian(test.n, test.m, test.p);
    baJacobianHand(test, J);
    expect([J.nrows, J.ncols]).toEqual([ref.J.nrows, ref.J.ncols]);
    expect(Array.from(J.rows)).toEqual(ref.J.rows);
    expect(Array.from(J.cols)).toEqual(ref.J.cols);
    expect(J.vals.length).toBe(310);
    expect(maxRho(J.vals, ref.J.vals)).toBeLessThan(TOL);
  });

  it("the small-array assembly gives the same Jacobian as the in-place one", () => {
    const a = makeBaJacobian(test.n, test.m, test.p), b = makeBaJacobian(test.n, test.m, test.p);
    baJacobianHand(test, a);
    baAssembleJacobian(test, b, baBlockHandSmall);
    expect(Array.from(b.rows)).toEqual(Array.from(a.rows));
    expect(Array.from(b.cols)).toEqual(Array.from(a.cols));
    expect(Array.from(b.vals)).toEqual(Array.from(a.vals));
  });

  // The file's camera, a different general one, and a zero rotation (the first-order branch).
  const cameras: Array<[string, number[], number[]]> = [
    ["file camera", [], []],
    ["another camera", [0.3, -0.7, 1.1, 1, -2, 0.5, 300, 4, -3, 0.02, -0.003], [2, -1, 9]],
    ["zero rotation", [0, 0, 0, 0.5, 0.2, -1, 250, 1, 2, 0.01, 0.001], [1.5, -0.5, 6]],
  ];
  for (const [label, camOverride, ptOverride] of cameras) {
    it(`hand 2x15 block agrees with central differences (${label})`, () => {
      const cam = camOverride.length ? Float64Array.from(camOverride) : test.cams.slice(0, 11);
      const X = ptOverride.length ? Float64Array.from(ptOverride) : test.points.slice(0, 3);
      const wv = new Float64Array([test.weights[0]!]);
      const f0 = test.feats[0]!, f1 = test.feats[1]!;
      const J = new Float64Array(30);
      baBlockHand(cam, 0, X, 0, wv[0]!, f0, f1, J, 0);
      const out = new Float64Array(2);
      for (let row = 0; row < 2; row++) {
        const f = (): number => {
          baResidual(cam, X, wv[0]!, f0, f1, out);
          return out[row]!;
        };
        const inputs: Array<[Float64Array, number]> = [
          ...Array.from({ length: 11 }, (_, j): [Float64Array, number] => [cam, j]),
          ...Array.from({ length: 3 }, (_, j): [Float64Array, number] => [X, j]),
          [wv, 0],
        ];
        inputs.forEach(([v, j], col) => {
          // At zero rotation the steps land in the general Rodrigues branch; the rotation is
          // smooth there, so the difference still checks the first-order branch's derivative.
          const fd = centralDiff(f, v, j, 1e-4);
          expect(rho(J[15 * row + col]!, fd), `row ${row} col ${col}`).toBeLessThan(1e-7);
        });
      }
    });
  }

  it("tfjs (float32) residuals and Jacobian agree with the hand code", () => {
    const hand = makeBaJacobian(test.n, test.m, test.p), viaTf = makeBaJacobian(test.n, test.m, test.p);
    baJacobianHand(test, hand);
    const model = makeBaTfjs(tf, test);
    model.jacobian(viaTf);
    const errHand = new Float64Array(3 * test.p), errTf = new Float64Array(3 * test.p);
    baObjective(test.cams, test.points, test.weights, test.feats, test.obs, test.p, errHand);
    model.residuals(errTf);
    model.dispose();
    expect(Array.from(viaTf.rows)).toEqual(Array.from(hand.rows));
    expect(Array.from(viaTf.cols)).toEqual(Array.from(hand.cols));
    expect(maxRel(viaTf.vals, hand.vals)).toBeLessThan(1e-3);
    expect(maxRel(errTf, errHand)).toBeLessThan(1e-3);
  });

  it("the replicated reader maps observation i to camera i % n and point i % m", () => {
    const b = readBa(dataPath("ba/ba1_n49_m7776_p31843.txt"));
    expect([b.n, b.m, b.p, b.cams.length, b.points.length, b.feats.length]).toEqual([49, 7776, 31843, 539, 23328, 63686]);
    for (const i of [0, 48, 49, 7775, 7776, 31842]) expect([b.obs[2 * i], b.obs[2 * i + 1]]).toEqual([i % 49, i % 7776]);
    expect(b.cams.subarray(11 * 48)).toEqual(b.cams.subarray(0, 11));
  });
});

describe("LSTM", () => {
  let L: LstmInstance;
  let ref: any;
  beforeAll(() => {
    L = readLstm(dataPath("lstm/lstm_l2_c1024.txt"));
    ref = reference("lstm_l2_c1024.expected.json");
  });

  it("objective matches the reference's 8 digits and does not modify the state", () => {
    const state = L.state.slice();
    const f = lstmObjective(L.mainParams, L.extraParams, L.state, L.sequence, L.l, L.c, L.b);
    expect(Math.abs(f - ref.objective)).toBeLessThan(5e-9);
    expect(L.state).toEqual(state);
  });

  it("hand gradient (266 values) matches ADBench's reference", () => {
    const grad = new Float64Array(8 * L.l * L.b + 3 * L.b);
    expect(grad.length).toBe(266);
    const f = lstmGradientHand(L.mainParams, L.extraParams, L.state, L.sequence, L.l, L.c, L.b, grad);
    expect(Math.abs(f - ref.objective)).toBeLessThan(5e-9);
    expect(maxRho(grad, ref.gradient)).toBeLessThan(TOL);
  });

  it("tfjs (float32) objective and gradient agree with the hand code (first 64 characters)", () => {
    // The full sequence takes tfjs ~2 s per gradient; 64 characters exercise the same code.
    const c = 64;
    const short: LstmInstance = { ...L, c, sequence: L.sequence.slice(0, c * L.b) };
    const hand = new Float64Array(266), viaTf = new Float64Array(266);
    const value = lstmGradientHand(short.mainParams, short.extraParams, short.state, short.sequence, short.l, c, short.b, hand);
    expect(rho(value, lstmObjective(short.mainParams, short.extraParams, short.state, short.sequence, short.l, c, short.b))).toBeLessThan(1e-14);
    const model = makeLstmTfjs(tf, short);
    const tfValue = model.gradient(viaTf);
    const tfObjective = model.objective();
    model.dispose();
    expect(Math.abs(tfValue - value)).toBeLessThan(1e-5);
    expect(Math.abs(tfObjective - value)).toBeLessThan(1e-5);
    expect(maxRel(viaTf, hand)).toBeLessThan(1e-3);
  });
});
