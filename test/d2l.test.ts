/**
 * The D2L chapters after autodiff (examples/d2l/): builds them with the adc CLI, runs each
 * program with Node and checks what it prints (ADC_D2L_JSON lines): the first minibatch's
 * gradient agrees with finite differences, the loss decreases, linear regression recovers
 * true_w and true_b, classification beats chance by far, and the MXNet-style and JAX-style
 * programs (same seed, same data) follow the same trajectory.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, ".vitest-tmp"), { recursive: true });
const tmp = mkdtempSync(join(root, ".vitest-tmp", "d2l-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Report = Map<string, unknown[]>;
const reports = new Map<string, Report>();

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), "build", "examples/d2l", "--outdir", tmp], { cwd: root, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}, 60_000);

/** Runs a built program once; each key's values in the order printed. */
function run(name: string): Report {
  const cached = reports.get(name);
  if (cached) return cached;
  const r = spawnSync(process.execPath, [join(tmp, `${name}.js`)], { cwd: root, encoding: "utf8", env: { ...process.env, ADC_D2L_JSON: "1" } });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const report: Report = new Map();
  for (const line of r.stdout.split("\n").filter((l) => l.startsWith("@d2l "))) {
    const { key, value } = JSON.parse(line.slice(5)) as { key: string; value: unknown };
    report.set(key, [...(report.get(key) ?? []), value]);
  }
  reports.set(name, report);
  return report;
}

const one = (r: Report, key: string): unknown => {
  expect(r.get(key), key).toHaveLength(1);
  return r.get(key)![0];
};

const programs = readdirSync(join(root, "examples/d2l")).filter((f) => /-(mxnet|jax)\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, "")).sort();

describe("examples/d2l", () => {
  it("has both styles of each chapter", () => {
    expect(programs).toEqual(["linear-regression-jax", "linear-regression-mxnet", "mlp-jax", "mlp-mxnet", "oo-linear-regression-jax", "oo-linear-regression-mxnet", "softmax-regression-jax", "softmax-regression-mxnet"]);
  });

  it.each(programs)("%s: the first gradient matches finite differences and the loss decreases", (name) => {
    const r = run(name);
    expect(one(r, "gradCheck") as number).toBeLessThan(1e-6);
    const losses = r.get("loss") as number[];
    expect(losses.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < losses.length; i++) expect(losses[i], `epoch ${i + 1}`).toBeLessThan(losses[i - 1]);
  });

  it.each(["linear-regression-mxnet", "linear-regression-jax", "oo-linear-regression-mxnet", "oo-linear-regression-jax"])("%s recovers true_w and true_b", (name) => {
    const r = run(name);
    const errW = one(r, "errorW") as number[];
    expect(errW).toHaveLength(2);
    for (const e of errW) expect(Math.abs(e)).toBeLessThan(5e-3);
    expect(Math.abs(one(r, "errorB") as number)).toBeLessThan(5e-3);
    const losses = r.get("loss") as number[];
    expect(losses[losses.length - 1]).toBeLessThan(1e-3); // noise 0.01: the best mean loss is 5e-5
  });

  it.each(["softmax-regression-mxnet", "softmax-regression-jax", "mlp-mxnet", "mlp-jax"])("%s classifies the blobs well above chance", (name) => {
    expect(one(run(name), "testAccuracy") as number).toBeGreaterThan(0.9);
  });

  it.each(["linear-regression", "oo-linear-regression", "softmax-regression", "mlp"])("%s: the MXNet-style and JAX-style programs agree step for step", (name) => {
    const [mx, jx] = [run(`${name}-mxnet`), run(`${name}-jax`)];
    const close = (a: unknown, b: unknown): void => {
      if (typeof a === "number") expect(Math.abs(a - (b as number))).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a)));
      else if (Array.isArray(a)) a.forEach((x, i) => close(x, (b as unknown[])[i]));
      else if (a && typeof a === "object") for (const k of Object.keys(a)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
      else expect(a).toEqual(b);
    };
    for (const key of ["firstStep", "loss", "errorW", "errorB", "testAccuracy"]) {
      expect(mx.has(key), key).toBe(jx.has(key));
      if (mx.has(key)) close(mx.get(key), jx.get(key));
    }
  });
});
