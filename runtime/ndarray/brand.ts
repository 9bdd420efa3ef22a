/**
 * Recognising an NDArray without importing its class. Code every program runs (the tape, the
 * cotangent check) asks "is this an NDArray?"; an `instanceof` there would pull the class, and
 * with it every op, into the bundle of a program that uses numbers only. The class carries this
 * brand on its prototype instead.
 */
export const ND_BRAND: unique symbol = Symbol.for("adc.NDArray");

export function isNdArray(x: unknown): x is { readonly shape: readonly number[]; readonly data: Float64Array } {
  return typeof x === "object" && x !== null && (x as { [ND_BRAND]?: boolean })[ND_BRAND] === true;
}
