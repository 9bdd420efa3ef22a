/**
 * Checking a cotangent (a pullback's argument, a head gradient) against the output it belongs to.
 * Every compiled pullback calls this, so it recognises NDArrays by their brand and does not
 * import the class (a program of numbers then bundles no NDArray code).
 */
import { isNdArray } from "./ndarray/brand.js";

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !isNdArray(x) && !ArrayBuffer.isView(x) && !Array.isArray(x);
}

/**
 * Checks a cotangent (or head gradient) against the output it belongs to: a number for a
 * number, an array of the same length, an NDArray of the same shape, the same fields.
 */
export function checkCotangent(bar: unknown, out: unknown, where: string): void {
  const problem = mismatch(bar, out, "");
  if (problem) throw new Error(`adc: ${where}: ${problem}`);
}

function describe(x: unknown): string {
  if (typeof x === "number") return "a number";
  if (isNdArray(x)) return `an NDArray of shape (${x.shape.join(", ")}${x.shape.length === 1 ? "," : ""})`;
  if (x instanceof Float64Array || Array.isArray(x)) return `an array of length ${x.length}`;
  if (x === null || x === undefined) return String(x);
  return typeof x === "object" ? "an object" : typeof x;
}

function mismatch(bar: unknown, out: unknown, at: string): string | undefined {
  const where = at ? ` at ${at}` : "";
  const differ = (): string => `the cotangent${where} is ${describe(bar)}, but the output${where} is ${describe(out)}`;
  if (typeof out === "number") return typeof bar === "number" ? undefined : differ();
  if (isNdArray(out)) {
    if (!isNdArray(bar) || bar.shape.length !== out.shape.length || bar.shape.some((d, k) => d !== out.shape[k])) return differ();
    return undefined;
  }
  if (out instanceof Float64Array || Array.isArray(out)) {
    if (!(bar instanceof Float64Array || Array.isArray(bar)) || bar.length !== out.length) return differ();
    if (Array.isArray(out)) for (let k = 0; k < out.length; k++) if (typeof out[k] !== "number") {
      const m = mismatch(bar[k], out[k], `${at}[${k}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (isPlainObject(out)) {
    if (!isPlainObject(bar)) return differ();
    for (const k of Object.keys(out)) {
      const m = mismatch(bar[k], out[k], at ? `${at}.${k}` : k);
      if (m) return m;
    }
  }
  return undefined;
}

