// Test helpers for the NDArray runtime: structured values (a number, an
// NDArray, or a list of those for concat/stack operands), seeded random data,
// central finite differences and tolerant comparisons.
// Invariant: every helper treats a "value" structurally, so the same code
// checks plain operands and list operands.

import { expect } from "vitest";
import { NDArray, Xoshiro128 } from "../../../runtime/ndarray/index.js";

export type Value = number | NDArray | readonly Value[];

export function rng(seed: number): Xoshiro128 {
  return new Xoshiro128(seed);
}

/** A float64 array of `shape` filled by draw(). */
export function filled(shape: readonly number[], draw: () => number): NDArray {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = draw();
  return new NDArray(data, shape);
}

export function normalArray(r: Xoshiro128, shape: readonly number[]): NDArray {
  return filled(shape, () => r.nextNormal());
}

export function uniformArray(r: Xoshiro128, shape: readonly number[], lo: number, hi: number): NDArray {
  return filled(shape, () => lo + (hi - lo) * r.nextDouble());
}

/** Normal samples pushed at least `gap` away from 0 (for abs, relu, division). */
export function awayFromZero(r: Xoshiro128, shape: readonly number[], gap = 0.2): NDArray {
  return filled(shape, () => {
    const z = r.nextNormal();
    return z >= 0 ? z + gap : z - gap;
  });
}

/** A random value with the same structure as v (numbers stay numbers). */
export function randomLike(r: Xoshiro128, v: Value): Value {
  if (typeof v === "number") return r.nextNormal();
  if (v instanceof NDArray) return normalArray(r, v.shape);
  return v.map((x) => randomLike(r, x));
}

/** v + eps * dir, structurally. */
export function axpy(v: Value, eps: number, dir: Value): Value {
  if (typeof v === "number") return v + eps * (dir as number);
  if (v instanceof NDArray) {
    const d = (dir as NDArray).data;
    const out = new Float64Array(v.size);
    for (let i = 0; i < out.length; i++) out[i] = v.data[i] + eps * d[i];
    return new NDArray(out, v.shape);
  }
  return v.map((x, k) => axpy(x, eps, (dir as readonly Value[])[k]));
}

/** All entries of a value, flattened in order. */
export function flat(v: Value): number[] {
  if (typeof v === "number") return [v];
  if (v instanceof NDArray) return Array.from(v.data);
  return v.flatMap((x) => flat(x));
}

export function inner(u: Value, v: Value): number {
  const a = flat(u);
  const b = flat(v);
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The i-th basis direction of a value's structure. */
export function basis(v: Value, i: number): Value {
  let k = 0;
  const build = (x: Value): Value => {
    if (typeof x === "number") return k++ === i ? 1 : 0;
    if (x instanceof NDArray) {
      const d = new Float64Array(x.size);
      for (let j = 0; j < d.length; j++) d[j] = k++ === i ? 1 : 0;
      return new NDArray(d, x.shape);
    }
    return x.map(build);
  };
  return build(v);
}

/** "number", "[3,4]" or a list of those: kind and shape, for contract checks. */
export function kindOf(v: unknown): string {
  if (typeof v === "number") return "number";
  if (v instanceof NDArray) return `[${v.shape.join(",")}]`;
  if (Array.isArray(v)) return `list(${v.map(kindOf).join(" ")})`;
  return `other:${typeof v}`;
}

/** (f(x + h dir) - f(x - h dir)) / 2h for a value-valued f. */
export function centralDiff(f: (x: Value) => Value, x: Value, dir: Value, h = 1e-6): number[] {
  const up = flat(f(axpy(x, h, dir)));
  const down = flat(f(axpy(x, -h, dir)));
  return up.map((u, k) => (u - down[k]) / (2 * h));
}

/** max |a - b| <= rtol * max(1, max |b|): a relative tolerance that stays sane near zero. */
export function expectClose(actual: readonly number[], expected: readonly number[], rtol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let scale = 1;
  for (const e of expected) scale = Math.max(scale, Math.abs(e));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  if (!(worst <= rtol * scale)) {
    expect.fail(`${what}: max error ${worst} > ${rtol} * ${scale}\n  actual   ${actual.join(", ")}\n  expected ${expected.join(", ")}`);
  }
}

/** Exact nested-array view for spot checks. */
export function arr(x: NDArray): unknown {
  return x.toArray();
}
