/**
 * Finite differences over pytrees (numbers, number arrays, Float64Arrays, NDArrays, and objects
 * and arrays of those), for checking gradients of functions whose parameters are nested
 * structures. NDArrays are recognised by shape (`data` and `shape`), since each loaded test
 * module has its own copy of the runtime.
 */

type Leaf = { get(): number; set(v: number): void };

function isNd(x: unknown): x is { data: Float64Array; shape: readonly number[] } {
  return typeof x === "object" && x !== null && (x as { data?: unknown }).data instanceof Float64Array && Array.isArray((x as { shape?: unknown }).shape);
}

/** Every number in x, in a fixed order, as get/set pairs. */
export function leaves(x: unknown): Leaf[] {
  const out: Leaf[] = [];
  const visit = (v: unknown): void => {
    if (isNd(v)) for (let k = 0; k < v.data.length; k++) out.push({ get: () => v.data[k], set: (n) => void (v.data[k] = n) });
    else if (v instanceof Float64Array || Array.isArray(v)) {
      const a = v as Record<number, unknown> & { length: number };
      for (let k = 0; k < a.length; k++) {
        if (typeof a[k] === "number") out.push({ get: () => a[k] as number, set: (n) => void (a[k] = n) });
        else visit(a[k]);
      }
    } else if (typeof v === "object" && v !== null)
      for (const key of Object.keys(v)) {
        const o = v as Record<string, unknown>;
        if (typeof o[key] === "number") out.push({ get: () => o[key] as number, set: (n) => void (o[key] = n) });
        else visit(o[key]);
      }
  };
  visit(x);
  return out;
}

/** The numbers of x in `leaves` order. */
export function flatten(x: unknown): number[] {
  return leaves(x).map((l) => l.get());
}

/**
 * Central differences of a number-valued f with respect to every number inside args[i], in
 * `leaves` order. `fresh()` makes new arguments for every evaluation (f may write into them).
 */
export function fdGradient(f: (...args: any[]) => number, fresh: () => unknown[], i: number, h = 1e-6): number[] {
  // A number argument is its own leaf.
  const leavesOf = (args: unknown[]): Leaf[] => (typeof args[i] === "number" ? [{ get: () => args[i] as number, set: (v) => void (args[i] = v) }] : leaves(args[i]));
  const n = leavesOf(fresh()).length;
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const at = (d: number): number => {
      const args = fresh();
      const l = leavesOf(args)[k];
      l.set(l.get() + d);
      return f(...args);
    };
    out.push((at(h) - at(-h)) / (2 * h));
  }
  return out;
}
