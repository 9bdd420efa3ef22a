/**
 * The rule for arrays at adc's entry points: after `grad`, `valueAndGrad`, `vjp` and every
 * pullback call, each array the caller can reach holds exactly what the primal computation left
 * in it. A reverse sweep rolls arrays back as it goes, so a fused gradient keeps a copy of the
 * written parameters' final contents and puts it back before it returns (pullbacks work on
 * private copies: see Tape.paste).
 */
import { NDArray } from "./ndarray/ndarray.js";

export type Kept = readonly (readonly [Float64Array | number[], Float64Array | number[]])[];

/** Every number array reachable from `roots` (through objects and arrays of arrays). */
function arraysIn(x: unknown, into: (a: Float64Array | number[]) => void): void {
  if (x instanceof Float64Array) into(x);
  else if (Array.isArray(x)) {
    if (x.every((v) => typeof v === "number")) into(x as number[]);
    else for (const v of x) arraysIn(v, into);
  } else if (typeof x === "object" && x !== null && !(x instanceof NDArray) && !ArrayBuffer.isView(x))
    for (const v of Object.values(x)) arraysIn(v, into);
}

/** Copies of the contents of every number array in `roots`, to put back with `restoreArrays`. */
export function keepArrays(roots: readonly unknown[]): Kept {
  const out: [Float64Array | number[], Float64Array | number[]][] = [];
  const seen = new Set<unknown>();
  for (const r of roots)
    arraysIn(r, (a) => {
      if (!seen.has(a)) {
        seen.add(a);
        out.push([a, a.slice()]);
      }
    });
  return out;
}

export function restoreArrays(kept: Kept): void {
  for (const [a, saved] of kept) for (let k = 0; k < saved.length; k++) a[k] = saved[k];
}

/**
 * Throws when one array reaches `fn` through two arguments and `fn` writes into one of them: its
 * derivative code treats different parameters as different arrays.
 */
export function checkDistinct(fn: string, names: readonly string[], written: readonly number[], args: readonly unknown[]): void {
  const owner = new Map<unknown, number>();
  // Typed arrays by the memory they view: two views (`buf.subarray(0, 2)`, `buf.subarray(1, 3)`)
  // are different arrays that share elements.
  const views = new Map<ArrayBufferLike, { start: number; end: number; i: number }[]>();
  const clash = (j: number, i: number, what: string): void => {
    if (j === i || !(written.includes(i) || written.includes(j))) return;
    const w = written.includes(j) ? j : i;
    throw new Error(`adc: ${fn}: the arguments '${names[j]}' and '${names[i]}' ${what}, and '${fn}' writes into '${names[w]}', so its derivative would treat them as different arrays; pass a copy (for example ${names[i]}.slice())`);
  };
  args.forEach((arg, i) =>
    arraysIn(arg, (a) => {
      const j = owner.get(a);
      if (j !== undefined) return clash(j, i, "share one array");
      owner.set(a, i);
      if (!(a instanceof Float64Array)) return;
      const range = { start: a.byteOffset, end: a.byteOffset + a.byteLength, i };
      const list = views.get(a.buffer) ?? views.set(a.buffer, []).get(a.buffer)!;
      for (const r of list) if (r.start < range.end && range.start < r.end) clash(r.i, i, "are views of overlapping memory");
      list.push(range);
    }),
  );
}
