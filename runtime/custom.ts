/**
 * Custom derivative rules (JAX's custom_vjp and custom_jvp).
 *
 * `customVjp(f, fwd, bwd)` and `customJvp(f, rule)` return a function that calls f; the rule is
 * kept beside it here, and the code adc generates for a differentiated function that calls it
 * asks for the rule (`customVjpOf`, `customJvpOf`) instead of differentiating f, which may be
 * code adc cannot read at all. A customJvp function in reverse mode is differentiated through its
 * rule: the rule is linear in the tangents, so each entry of the adjoint is the rule's tangent
 * output along a unit tangent, dotted with the output's adjoint (one rule call per input entry).
 */
import { zerosF64 } from "./alloc.js";
import { NDArray } from "./ndarray/ndarray.js";
import { barOf, fillBar } from "./pytree.js";

type AnyFn = (...args: any[]) => any;

export interface VjpRule {
  readonly f: AnyFn;
  readonly fwd: (...args: any[]) => readonly [unknown, unknown];
  readonly bwd: (residuals: any, outBar: any) => readonly unknown[];
}

export interface JvpRule {
  readonly f: AnyFn;
  readonly rule: (primals: any[], tangents: any[]) => readonly [unknown, unknown];
}

const vjpRules = new WeakMap<AnyFn, VjpRule>();
const jvpRules = new WeakMap<AnyFn, JvpRule>();

export function defineVjp<F extends AnyFn>(f: F, fwd: VjpRule["fwd"], bwd: VjpRule["bwd"]): F {
  const g = ((...args: unknown[]) => f(...args)) as F;
  vjpRules.set(g, { f, fwd, bwd });
  return g;
}

export function defineJvp<F extends AnyFn>(f: F, rule: JvpRule["rule"]): F {
  const g = ((...args: unknown[]) => f(...args)) as F;
  jvpRules.set(g, { f, rule });
  return g;
}

export function customVjpOf(g: AnyFn): VjpRule {
  const r = vjpRules.get(g);
  if (!r) throw new Error("adc: this function was compiled as a customVjp function, but the value is not one (was the const reassigned?)");
  return r;
}

export function customJvpOf(g: AnyFn): JvpRule {
  const r = jvpRules.get(g);
  if (!r) throw new Error("adc: this function was compiled as a customJvp function, but the value is not one (was the const reassigned?)");
  return r;
}

/** A zero tangent shaped like x (numbers, arrays, NDArrays, and objects and lists of those). */
export function zeroTangent<T>(x: T): T {
  if (typeof x === "number") return 0 as T;
  if (x instanceof Float64Array) return zerosF64(x.length) as T;
  return fillBar(barOf(x), x);
}

/** How many entries x has, and the unit tangent along entry k; null for what the transposition does not handle. */
function entries(x: unknown): { n: number; unit: (k: number) => unknown } | null {
  if (typeof x === "number") return { n: 1, unit: () => 1 };
  if (x instanceof Float64Array || (Array.isArray(x) && x.every((v) => typeof v === "number"))) {
    const n = x.length;
    const unit = (k: number): unknown => {
      const t = x instanceof Float64Array ? zerosF64(n) : new Array<number>(n).fill(0);
      t[k] = 1;
      return t;
    };
    return { n, unit };
  }
  if (x instanceof NDArray) {
    return {
      n: x.size,
      unit: (k) => {
        const t = new NDArray(new Float64Array(x.size), x.shape, x.dtype);
        t.data[k] = 1;
        return t;
      },
    };
  }
  return null;
}

/** <outBar, t>: numbers, number arrays and NDArrays. */
function inner(outBar: unknown, t: unknown): number {
  if (typeof outBar === "number") return outBar * (t as number);
  const a = outBar instanceof NDArray ? outBar.data : (outBar as ArrayLike<number>);
  const b = t instanceof NDArray ? t.data : (t as ArrayLike<number>);
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/**
 * The adjoints of g's arguments for output adjoint `outBar`, from g's customJvp rule: for each
 * active argument, entry by entry, the rule's tangent output along that unit tangent, dotted with
 * outBar. Each adjoint has its argument's type (number, number[], Float64Array, NDArray).
 */
export function customJvpTranspose(g: AnyFn, args: readonly unknown[], active: readonly boolean[], outBar: unknown): unknown[] {
  const { rule } = customJvpOf(g);
  const zeros = args.map(zeroTangent);
  return args.map((x, i) => {
    if (!active[i]) return null;
    const e = entries(x);
    if (!e) throw new Error("adc: reverse mode through a customJvp rule supports number, number[], Float64Array and NDArray arguments; give the function a customVjp rule instead");
    const barOfEntry = (k: number): number => {
      const tangents = zeros.slice();
      tangents[i] = e.unit(k);
      return inner(outBar, rule(args as unknown[], tangents)[1]);
    };
    if (typeof x === "number") return barOfEntry(0);
    const out = x instanceof NDArray ? new NDArray(new Float64Array(x.size), x.shape, x.dtype) : x instanceof Float64Array ? new Float64Array(e.n) : new Array<number>(e.n).fill(0);
    const data = out instanceof NDArray ? out.data : out;
    for (let k = 0; k < e.n; k++) data[k] = barOfEntry(k);
    return out;
  });
}
