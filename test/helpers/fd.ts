/**
 * Central finite differences and the comparison tests make with them: h = 1e-6, each entry of
 * an array argument moved in turn.
 */
import { expect } from "vitest";

export const H = 1e-6;

/** d/dv f at v. */
export const fd = (f: (v: number) => number, v: number): number => (f(v + H) - f(v - H)) / (2 * H);

/** The gradient of f at a, entry by entry (a copy of a is moved, never a itself). */
export function fdArray<A extends Float64Array | number[] | readonly number[]>(f: (a: A) => number, a: A): number[] {
  return Array.from(a, (v, i) => fd((t) => { const b = a.slice() as unknown as number[]; b[i] = t; return f(b as unknown as A); }, v));
}

/** Two arrays of the same length, entry by entry to `digits` decimal places. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, digits = 7): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], digits);
}
