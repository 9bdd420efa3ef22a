// Text form of an NDArray: numpy's str() layout followed by an MXNet-style
// shape line, e.g. "[[0.]\n [1.]]\n<NDArray 2x1>" ("<NDArray scalar>" for 0-d).
// Float rules follow numpy's defaults (precision 8, floatmode "maxprec"):
//   - fixed notation shows each value's shortest round-trip digits, cut to at
//     most 8 decimals, trailing zeros dropped but the point kept ("4.", "0.5");
//     columns align: integer parts padded left, fractions padded right with spaces;
//   - scientific notation is used when a nonzero |x| is < 1e-4 or >= 1e8, or
//     max|x| / min|x| > 1000; then all mantissas share one digit count ("1.5e-05").
//   - nan/inf print as "nan"/"inf"; bools as " True"/"False" (0-d: "True").
// Layout follows numpy: rows wrap at 75 columns, nested axes are separated by
// blank lines, and arrays of more than 1000 elements show 3 items at each end
// of every long axis around "...". Empty arrays print as "[]".

import { contiguousStrides, shapeString, sizeOf, type Shape } from "./layout.js";
import type { DType } from "./types.js";

const PRECISION = 8;
const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE = 3;
const SUMMARY = "...";

/** Positions shown along an axis of length n; -1 marks the "..." gap. */
function shown(n: number, summarize: boolean): number[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_v, i) => i);
  return [0, 1, 2, -1, n - 3, n - 2, n - 1];
}

function isNegative(x: number): boolean {
  return x < 0 || Object.is(x, -0);
}

/** Shortest round-trip digits of |x| in fixed notation, cut to PRECISION decimals. */
function positionalParts(x: number): [string, string] {
  const v = Math.abs(x);
  let [int, frac = ""] = String(v).split(".");
  if (frac.length > PRECISION) {
    [int, frac = ""] = v.toFixed(PRECISION).split(".");
    frac = frac.replace(/0+$/, "");
  }
  return [(isNegative(x) ? "-" : "") + int, frac];
}

/** Mantissa int part, mantissa fraction and exponent (signed integer) of x in scientific notation. */
function scientificParts(x: number): [string, string, number] {
  const v = Math.abs(x);
  let s = v.toExponential();
  let [mant, ex] = s.split("e");
  let [int, frac = ""] = mant.split(".");
  if (frac.length > PRECISION) {
    s = v.toExponential(PRECISION);
    [mant, ex] = s.split("e");
    [int, frac = ""] = mant.split(".");
    frac = frac.replace(/0+$/, "");
  }
  return [(isNegative(x) ? "-" : "") + int, frac, Number(ex)];
}

function expString(e: number, digits: number): string {
  return (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(digits, "0");
}

function nonFinite(x: number): string {
  return x !== x ? "nan" : x > 0 ? "inf" : "-inf";
}

/** Builds numpy's FloatingFormat for the values that will be displayed. */
export function floatFormatter(values: readonly number[]): (x: number) => string {
  const finite = values.filter(Number.isFinite);
  let useExp = false;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (const x of finite) {
    const a = Math.abs(x);
    if (a === 0) continue;
    if (a > maxAbs) maxAbs = a;
    if (a < minAbs) minAbs = a;
  }
  if (maxAbs > 0) useExp = maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs / minAbs > 1000;

  let padLeft = 0;
  let padRight = 0;
  let format: (x: number) => string;
  if (useExp) {
    const parts = finite.map(scientificParts);
    let expDigits = 2;
    let precision = 0;
    for (const [int, frac, e] of parts) {
      padLeft = Math.max(padLeft, int.length);
      precision = Math.max(precision, frac.length);
      expDigits = Math.max(expDigits, String(Math.abs(e)).length);
    }
    padRight = expDigits + 2 + precision;
    format = (x) => {
      const [int, frac, e] = scientificParts(x);
      return `${int.padStart(padLeft)}.${frac.padEnd(precision, "0")}e${expString(e, expDigits)}`;
    };
  } else {
    for (const x of finite) {
      const [int, frac] = positionalParts(x);
      padLeft = Math.max(padLeft, int.length);
      padRight = Math.max(padRight, frac.length);
    }
    format = (x) => {
      const [int, frac] = positionalParts(x);
      return `${int.padStart(padLeft)}.${frac.padEnd(padRight)}`;
    };
  }
  if (finite.length !== values.length) {
    // Widen so nan/inf line up with the finite values' full width.
    const negInf = values.some((x) => x === -Infinity);
    padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + (negInf ? 1 : 0) - (padRight + 1));
  }
  return (x) => (Number.isFinite(x) ? format(x) : nonFinite(x).padStart(padLeft + padRight + 1));
}

/** numpy's _extendLine: wrap before a word that would cross the width, unless the line is still empty. */
function extendLine(acc: { s: string; line: string }, word: string, width: number, hanging: string): void {
  if (acc.line.length + word.length > width && acc.line.length > hanging.length) {
    acc.s += acc.line.trimEnd() + "\n";
    acc.line = hanging;
  }
  acc.line += word;
}

export function formatValues(data: Float64Array, shape: Shape, dtype: DType): string {
  const nd = shape.length;
  const size = sizeOf(shape);
  if (nd > 0 && size === 0) return "[]";
  const summarize = size > THRESHOLD;
  const strides = contiguousStrides(shape);
  const positions = shape.map((n) => shown(n, summarize));

  // Only the displayed values decide widths and notation, as in numpy.
  const values: number[] = [];
  const collect = (axis: number, offset: number): void => {
    if (axis === nd) {
      values.push(data[offset]);
      return;
    }
    for (const k of positions[axis]) if (k >= 0) collect(axis + 1, offset + k * strides[axis]);
  };
  collect(0, 0);

  const fmt =
    dtype === "bool"
      ? (x: number) => (x !== 0 ? (nd === 0 ? "True" : " True") : "False")
      : floatFormatter(values);
  if (nd === 0) return fmt(data[0]);

  const render = (axis: number, offset: number, hanging: string, width: number): string => {
    const ks = positions[axis];
    const axesLeft = nd - axis;
    let s = "";
    if (axesLeft === 1) {
      const acc = { s: "", line: hanging };
      ks.forEach((k, j) => {
        extendLine(acc, k < 0 ? SUMMARY : fmt(data[offset + k * strides[axis]]), width - 1, hanging);
        if (j < ks.length - 1) acc.line += " ";
      });
      s = acc.s + acc.line;
    } else {
      const sep = "\n".repeat(axesLeft - 1);
      ks.forEach((k, j) => {
        const nested = k < 0 ? SUMMARY : render(axis + 1, offset + k * strides[axis], hanging + " ", width - 1);
        s += hanging + nested + (j < ks.length - 1 ? sep : "");
      });
    }
    return "[" + s.slice(hanging.length) + "]";
  };
  return render(0, 0, " ", LINE_WIDTH);
}

export function formatNDArray(data: Float64Array, shape: Shape, dtype: DType): string {
  return `${formatValues(data, shape, dtype)}\n<NDArray ${shapeString(shape)}>`;
}
