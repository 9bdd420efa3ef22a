/**
 * Derivatives of function values (issue 16, item 1): `grad(fn)` where fn is a parameter, a
 * factory's result or anything adc cannot name at build time. A function declared
 * `/** @differentiable *\/` carries its generated vjp and jvp (attached when its module runs);
 * the API call becomes a run-time lookup of them, and a function without them is an error that
 * names the annotation.
 */
import { jacobianColumns, jacobianInto, jacobianRows, jacobianSpace } from "./jacobian.js";
import { NDArray } from "./ndarray/ndarray.js";
import { onesLikeOperand } from "./ndarray/registry.js";
import { zerosLike } from "./scratch.js";

type AnyFn = (...args: any[]) => any;
// (Parameters typed `any`: each generated function has its own precise signature.)
type Vjp = (...args: any[]) => readonly [unknown, (outBar: any) => readonly unknown[]];
type JvpPair = (primals: any, tangents: any) => readonly [unknown, unknown];

interface Attached {
  readonly vjp: Vjp;
  readonly jvpPair: JvpPair;
  /** `@differentiable(wrt: ...)`: the positions of the parameters the derivatives are taken for. */
  readonly wrt?: readonly number[];
}

const derivatives = new WeakMap<AnyFn, Attached>();

/** Attaches a `@differentiable` function's generated derivatives to it. */
/** `jvpPair` is a message instead when f has reverse-mode derivatives only (it calls a customVjp function). */
export function attachDerivatives(f: AnyFn, vjp: Vjp, jvpPair: JvpPair | string, wrt?: readonly number[]): void {
  const pair: JvpPair = typeof jvpPair === "string" ? () => { throw new Error(`adc: jvp/jacfwd: ${jvpPair}`); } : jvpPair;
  derivatives.set(f, wrt ? { vjp, jvpPair: pair, wrt } : { vjp, jvpPair: pair });
}

const nameOf = (f: unknown): string => (typeof f === "function" && f.name ? `'${f.name}'` : "this function value");

/** The derivatives f carries; `argnums`, when given, must be among the parameters they are for. */
function of(f: unknown, api: string, argnums?: number | readonly number[]): Attached {
  const d = typeof f === "function" ? derivatives.get(f as AnyFn) : undefined;
  if (!d) throw new Error(`adc: ${api}: ${nameOf(f)} carries no derivatives. Mark the function's declaration /** @differentiable */ (in a module adc builds), or pass ${api} a function adc can see at build time`);
  const off = d.wrt && argnums !== undefined ? (typeof argnums === "number" ? [argnums] : argnums).find((k) => !d.wrt!.includes(k)) : undefined;
  if (off !== undefined) throw new Error(`adc: ${api}: ${nameOf(f)} is differentiable with respect to parameter${d.wrt!.length === 1 ? "" : "s"} ${d.wrt!.join(", ")} only (its @differentiable(wrt: ...) annotation); argument ${off} is not one of them`);
  return d;
}

/** `grad(fn, argnums)` / `valueAndGrad(fn, argnums)` of a function value, through its vjp. */
export function gradValue(f: unknown, argnums: number | readonly number[], withValue: boolean): (...args: any[]) => any {
  const api = withValue ? "valueAndGrad" : "grad";
  const { vjp } = of(f, api, argnums);
  return (...args: unknown[]) => {
    const [out, pullback] = vjp(...args);
    let seed: unknown = 1;
    if (out instanceof NDArray) {
      if (out.size !== 1) throw new Error(`adc: ${api} needs a function whose result is a number or an NDArray with one element; this one returned shape [${out.shape.join(", ")}]`);
      seed = onesLikeOperand(out);
    } else if (typeof out !== "number") throw new Error(`adc: ${api} needs a function that returns a number or a one-element NDArray`);
    const cts = pullback(seed);
    const g = typeof argnums === "number" ? cts[argnums] : argnums.map((k) => cts[k]);
    return withValue ? [out instanceof NDArray ? out.item() : out, g] : g;
  };
}

/** `vjp(fn, ...primals)` of a function value. */
// (The results are typed `any`: the user's call was checked against the API's types when it was
// written; the compiled call must not narrow them.)
export function vjpValue(f: unknown, ...primals: unknown[]): any {
  return of(f, "vjp").vjp(...primals);
}

/** `jvp(fn, primals, tangents)` of a function value. */
export function jvpValue(f: unknown, primals: unknown[], tangents: unknown[]): any {
  const d = of(f, "jvp");
  // A tangent for a parameter the derivatives are not taken for would be dropped silently.
  const moved = d.wrt ? tangents.findIndex((t, i) => !d.wrt!.includes(i) && nonzero(t)) : -1;
  if (moved >= 0) throw new Error(`adc: jvp: ${nameOf(f)} is differentiable with respect to parameter${d.wrt!.length === 1 ? "" : "s"} ${d.wrt!.join(", ")} only (its @differentiable(wrt: ...) annotation); the tangent of argument ${moved} must be zero`);
  return d.jvpPair(primals, tangents);
}

function nonzero(t: unknown): boolean {
  if (typeof t === "number") return t !== 0;
  if (t instanceof Float64Array || Array.isArray(t)) return (t as ArrayLike<unknown>).length > 0 && Array.from(t as ArrayLike<unknown>).some(nonzero);
  return false;
}

/**
 * `jacrev(fn, argnums)` (and `jacobian`) of a function value: one forward run through its vjp,
 * then its pullback once per output entry (runtime/jacobian.ts, JAX's layout).
 */
export function jacrevValue(f: unknown, argnums: number | readonly number[]): (...args: any[]) => any {
  const { vjp } = of(f, "jacrev", argnums);
  return (...args: unknown[]) => jacobianRows(vjp(...args) as never, argnums, args);
}

/**
 * `jacfwd(fn, argnums)` of a function value: its jvp once per entry of each differentiated
 * argument, the other tangents zero. The function may write its array arguments, and nothing
 * says which: every call but the last runs on copies of them, so the caller's arrays end as one
 * run of the function leaves them.
 */
export function jacfwdValue(f: unknown, argnums: number | readonly number[]): (...args: any[]) => any {
  const { jvpPair } = of(f, "jacfwd", argnums);
  return (...args: unknown[]) => {
    const ks = typeof argnums === "number" ? [argnums] : argnums;
    const jacobians = ks.map((k, n) => {
      const x = args[k];
      if (typeof x !== "number" && !(x instanceof Float64Array) && !Array.isArray(x)) throw new Error(`adc: jacfwd of a function value differentiates numbers, number[] and Float64Array arguments; argument ${k} is not one`);
      return jacobianColumns(((t: unknown, last: boolean) => {
        const final = last && n === ks.length - 1;
        const primals = args.map((a) => (final ? a : copyOf(a)));
        const tangents = args.map((a, i) => (i === k ? t : zeroOf(a)));
        return jvpPair(primals, tangents);
      }) as never, x as number | Float64Array | number[]);
    });
    return typeof argnums === "number" ? jacobians[0] : jacobians;
  };
}

/**
 * `jacrevInto(fn, argnums)` and `jacfwdInto(fn, argnums)` of a function value: the Jacobian as
 * jacrev / jacfwd make it, written into the caller's buffer (runtime/jacobian.ts, jacobianInto).
 */
export function jacrevIntoValue(f: unknown, argnums: number | readonly number[]): (J: Float64Array, at: number, ...args: any[]) => Float64Array {
  return into(jacrevValue(f, argnums), argnums);
}

export function jacfwdIntoValue(f: unknown, argnums: number | readonly number[]): (J: Float64Array, at: number, ...args: any[]) => Float64Array {
  return into(jacfwdValue(f, argnums), argnums);
}

function into(jac: (...args: any[]) => any, argnums: number | readonly number[]): (J: Float64Array, at: number, ...args: any[]) => Float64Array {
  const ks = typeof argnums === "number" ? [argnums] : argnums;
  return (J, at, ...args) => {
    jacobianSpace(J, at, 0, 0);
    const inputs = ks.map((k) => args[k]);
    const parts = jac(...args);
    return jacobianInto(J, at, typeof argnums === "number" ? [parts] : parts, inputs);
  };
}

function copyOf(a: unknown): unknown {
  return a instanceof Float64Array ? a.slice() : Array.isArray(a) ? [...a] : a;
}

/** A zero tangent for an argument: 0 for a number, zeros for an array; others carry none. */
function zeroOf(a: unknown): unknown {
  if (typeof a === "number") return 0;
  if (a instanceof Float64Array || Array.isArray(a)) return zerosLike(a as Float64Array | number[]);
  return undefined;
}

/**
 * `x instanceof cls()` for a subclass declared below the function that tests it: a derivative
 * called before that declaration has run (a gradient used at module level) must not throw, and
 * no object can be an instance of a class that does not exist yet.
 */
export function instanceOfLate(x: unknown, cls: () => unknown): boolean {
  let c: unknown;
  try {
    c = cls();
  } catch {
    return false;
  }
  return typeof c === "function" && x instanceof c;
}
