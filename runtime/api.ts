/**
 * adc's user API: what a program imports from "adc".
 *
 * `grad`, `valueAndGrad`, `vjp`, `jvp`, `hessian`, `jacfwd`, `jacrev`, `jacobian`, `jacrevInto`, `jacfwdInto` and `checkGrads` are markers: adc's compiler finds each call at build
 * time and replaces it with generated derivative code, so at run time no graph is built. If one
 * of them runs, the program was not built by adc, and the call says so.
 *
 * `stopGradient` is the identity at run time on purpose: the user's own (primal) functions keep
 * running unchanged in a compiled program, and there it must return its argument. Inside a
 * differentiated function the compiler treats it as a constant with zero derivative.
 *
 * Types: a gradient (or cotangent, or tangent) has the type of the value it belongs to, as in
 * JAX, so `Parameters<F>[i]` is the type of the gradient for argument i.
 */

import type { NDArray } from "./ndarray/ndarray.js";
import { defineJvp, defineVjp } from "./custom.js";

type AnyFn = (...args: any[]) => any;
type Args<F extends AnyFn> = Parameters<F>;
/** Parameter K's type, as its derivative has it: never undefined, also for `s?: number` or `s = 2`. */
type Arg<F extends AnyFn, K extends number> = Exclude<Args<F>[K], undefined>;
/** A function for `hasAux`: it returns `[value, aux]`. */
type AuxFn = (...args: any[]) => readonly [number | NDArray, unknown];
type AuxOf<F extends AuxFn> = ReturnType<F>[1];
type Picked<F extends AnyFn, A extends readonly number[]> = { -readonly [K in keyof A]: Arg<F, A[K]> };

const notCompiled = (name: string): Error =>
  new Error(
    `adc: ${name}() ran without being compiled. Build this program with \`adc build\` ` +
      `or the esbuild plugin (adc/esbuild); adc replaces ${name}() with generated derivative code at build time.`,
  );

/** Gradient of a number-valued function with respect to argument 0 (as JAX's `grad`). */
export function grad<F extends (...args: any[]) => number | NDArray>(f: F): (...args: Args<F>) => Arg<F, 0>;
/** Gradient with respect to argument `argnums` (a literal number). */
export function grad<F extends (...args: any[]) => number | NDArray, const A extends number>(
  f: F,
  argnums: A,
): (...args: Args<F>) => Arg<F, A>;
/** Gradients with respect to several arguments (a literal array), returned in that order. */
export function grad<F extends (...args: any[]) => number | NDArray, const A extends readonly number[]>(
  f: F,
  argnums: A,
): (...args: Args<F>) => Picked<F, A>;
/** `grad(f, { argnums })`: JAX's keyword spelling. */
export function grad<F extends (...args: any[]) => number | NDArray, const A extends number>(f: F, options: { readonly argnums: A; readonly hasAux?: false }): (...args: Args<F>) => Arg<F, A>;
export function grad<F extends (...args: any[]) => number | NDArray, const A extends readonly number[]>(f: F, options: { readonly argnums: A; readonly hasAux?: false }): (...args: Args<F>) => Picked<F, A>;
/**
 * `hasAux`: f returns `[value, aux]`; the gradient of the value comes back with aux as computed,
 * `[gradient, aux]` (aux carries no derivative: metrics, predictions, state).
 */
export function grad<F extends AuxFn>(f: F, options: { readonly hasAux: true; readonly argnums?: 0 }): (...args: Args<F>) => [Arg<F, 0>, AuxOf<F>];
export function grad<F extends AuxFn, const A extends number>(f: F, options: { readonly hasAux: true; readonly argnums: A }): (...args: Args<F>) => [Arg<F, A>, AuxOf<F>];
export function grad<F extends AuxFn, const A extends readonly number[]>(f: F, options: { readonly hasAux: true; readonly argnums: A }): (...args: Args<F>) => [Picked<F, A>, AuxOf<F>];
export function grad<F extends AuxFn, const A extends number>(f: F, argnums: A, options: { readonly hasAux: true }): (...args: Args<F>) => [Arg<F, A>, AuxOf<F>];
export function grad<F extends AuxFn, const A extends readonly number[]>(f: F, argnums: A, options: { readonly hasAux: true }): (...args: Args<F>) => [Picked<F, A>, AuxOf<F>];
export function grad(_f: AnyFn, _argnums?: unknown, _options?: unknown): never {
  throw notCompiled("grad");
}

/** Like `grad`, returning `[value, gradient]`. */
export function valueAndGrad<F extends (...args: any[]) => number | NDArray>(
  f: F,
): (...args: Args<F>) => [number, Arg<F, 0>];
export function valueAndGrad<F extends (...args: any[]) => number | NDArray, const A extends number>(
  f: F,
  argnums: A,
): (...args: Args<F>) => [number, Arg<F, A>];
export function valueAndGrad<F extends (...args: any[]) => number | NDArray, const A extends readonly number[]>(
  f: F,
  argnums: A,
): (...args: Args<F>) => [number, Picked<F, A>];
export function valueAndGrad<F extends (...args: any[]) => number | NDArray, const A extends number>(f: F, options: { readonly argnums: A; readonly hasAux?: false }): (...args: Args<F>) => [number, Arg<F, A>];
export function valueAndGrad<F extends (...args: any[]) => number | NDArray, const A extends readonly number[]>(f: F, options: { readonly argnums: A; readonly hasAux?: false }): (...args: Args<F>) => [number, Picked<F, A>];
/** `hasAux`: f returns `[value, aux]`; the result is `[[value, aux], gradient]`, as JAX's. */
export function valueAndGrad<F extends AuxFn>(f: F, options: { readonly hasAux: true; readonly argnums?: 0 }): (...args: Args<F>) => [[number, AuxOf<F>], Arg<F, 0>];
export function valueAndGrad<F extends AuxFn, const A extends number>(f: F, options: { readonly hasAux: true; readonly argnums: A }): (...args: Args<F>) => [[number, AuxOf<F>], Arg<F, A>];
export function valueAndGrad<F extends AuxFn, const A extends readonly number[]>(f: F, options: { readonly hasAux: true; readonly argnums: A }): (...args: Args<F>) => [[number, AuxOf<F>], Picked<F, A>];
export function valueAndGrad<F extends AuxFn, const A extends number>(f: F, argnums: A, options: { readonly hasAux: true }): (...args: Args<F>) => [[number, AuxOf<F>], Arg<F, A>];
export function valueAndGrad<F extends AuxFn, const A extends readonly number[]>(f: F, argnums: A, options: { readonly hasAux: true }): (...args: Args<F>) => [[number, AuxOf<F>], Picked<F, A>];
export function valueAndGrad(_f: AnyFn, _argnums?: unknown, _options?: unknown): never {
  throw notCompiled("valueAndGrad");
}

/**
 * Reverse mode at a point: `[out, pullback]`; `pullback(outBar)` returns one cotangent per
 * argument. The pullback owns its records: several can live at once and run in any order.
 */
export function vjp<F extends AnyFn>(
  f: F,
  ...primals: Args<F>
): [ReturnType<F>, (outBar: ReturnType<F>) => Args<F>] {
  void f;
  void primals;
  throw notCompiled("vjp");
}

/** Forward mode at a point: `[out, outDot]` for tangents given per argument. */
export function jvp<F extends AnyFn>(
  f: F,
  primals: Args<F>,
  tangents: Args<F>,
): [ReturnType<F>, ReturnType<F>] {
  void f;
  void primals;
  void tangents;
  throw notCompiled("jvp");
}

/** The second derivatives of a number-valued function, in the shape of its argument. */
type HessianOf<T> = T extends number ? number : T extends Float64Array ? Float64Array[] : T extends readonly number[] ? number[][] : T extends NDArray ? NDArray : never;

/**
 * The Hessian with respect to argument 0 (or `argnums`, one literal number): for a number
 * argument the second derivative, for an array of n numbers n rows of n (row k is the gradient
 * of the k-th partial derivative). Made from n Hessian-vector products; for one product, write
 * `jvp(grad(f), [x], [v])`.
 */
export function hessian<F extends (...args: any[]) => number>(f: F): (...args: Args<F>) => HessianOf<Arg<F, 0>>;
export function hessian<F extends (...args: any[]) => number, const A extends number>(f: F, argnums: A): (...args: Args<F>) => HessianOf<Arg<F, A>>;
export function hessian(_f: AnyFn, _argnums?: number): never {
  throw notCompiled("hessian");
}

/**
 * The Jacobian's type: one row per output entry, each shaped like the input; a number input
 * gives the output's shape, a number output the input's (JAX's output shape x input shape); with an
 * NDArray on either side, one NDArray of shape output shape ++ input shape.
 */
type JacobianOf<Out, In> = Out extends NDArray ? NDArray : In extends NDArray ? NDArray
  : Out extends number
  ? In extends number ? number : In extends Float64Array ? Float64Array : In extends readonly number[] ? number[] : never
  : In extends number ? (Out extends Float64Array ? Float64Array : number[])
  : In extends Float64Array ? Float64Array[] : In extends readonly number[] ? number[][] : never;

type NumOrArrFn = (...args: any[]) => number | Float64Array | readonly number[] | NDArray;

/** argnums as a list: a tuple of Jacobians, one per argument listed. */
type JacobiansOf<F extends NumOrArrFn, A extends readonly number[]> = { -readonly [K in keyof A]: JacobianOf<ReturnType<F>, Arg<F, A[K]>> };

/**
 * The Jacobian with respect to argument 0 (or `argnums`, one literal number) by reverse mode:
 * one forward sweep, then the pullback once per output entry. For functions of numbers,
 * `number[]` and `Float64Array` returning one of those.
 */
export function jacrev<F extends NumOrArrFn>(f: F): (...args: Args<F>) => JacobianOf<ReturnType<F>, Arg<F, 0>>;
export function jacrev<F extends NumOrArrFn, const A extends number>(f: F, argnums: A): (...args: Args<F>) => JacobianOf<ReturnType<F>, Arg<F, A>>;
export function jacrev<F extends NumOrArrFn, const A extends readonly number[]>(f: F, argnums: A): (...args: Args<F>) => JacobiansOf<F, A>;
export function jacrev(_f: AnyFn, _argnums?: number | readonly number[]): never {
  throw notCompiled("jacrev");
}

/** The Jacobian by forward mode: one tangent evaluation per input entry (cheaper than jacrev for few inputs). */
export function jacfwd<F extends NumOrArrFn>(f: F): (...args: Args<F>) => JacobianOf<ReturnType<F>, Arg<F, 0>>;
export function jacfwd<F extends NumOrArrFn, const A extends number>(f: F, argnums: A): (...args: Args<F>) => JacobianOf<ReturnType<F>, Arg<F, A>>;
export function jacfwd<F extends NumOrArrFn, const A extends readonly number[]>(f: F, argnums: A): (...args: Args<F>) => JacobiansOf<F, A>;
export function jacfwd(_f: AnyFn, _argnums?: number | readonly number[]): never {
  throw notCompiled("jacfwd");
}

/**
 * The Jacobian written into a buffer the caller passes, so that a Jacobian in a loop allocates
 * no result: `jacrevInto(f, argnums?)(J, offset, ...args)` writes the m x n block row-major into
 * `J` from `offset` (a row per output entry; the columns of the arguments in `argnums`, side by
 * side: one for a number, one per entry for an array) and returns J. A RangeError if the block
 * does not fit. Computed as jacrev computes it.
 */
export function jacrevInto<F extends NumOrArrFn>(f: F, argnums?: number | readonly number[]): (J: Float64Array, offset: number, ...args: Args<F>) => Float64Array;
export function jacrevInto(_f: AnyFn, _argnums?: number | readonly number[]): never {
  throw notCompiled("jacrevInto");
}

/** jacrevInto's layout, computed as jacfwd computes it (forward mode). */
export function jacfwdInto<F extends NumOrArrFn>(f: F, argnums?: number | readonly number[]): (J: Float64Array, offset: number, ...args: Args<F>) => Float64Array;
export function jacfwdInto(_f: AnyFn, _argnums?: number | readonly number[]): never {
  throw notCompiled("jacfwdInto");
}

/** `jacrev`, under JAX's other name. */
export function jacobian<F extends NumOrArrFn>(f: F): (...args: Args<F>) => JacobianOf<ReturnType<F>, Arg<F, 0>>;
export function jacobian<F extends NumOrArrFn, const A extends number>(f: F, argnums: A): (...args: Args<F>) => JacobianOf<ReturnType<F>, Arg<F, A>>;
export function jacobian<F extends NumOrArrFn, const A extends readonly number[]>(f: F, argnums: A): (...args: Args<F>) => JacobiansOf<F, A>;
export function jacobian(_f: AnyFn, _argnums?: number | readonly number[]): never {
  throw notCompiled("jacobian");
}

/**
 * Checks f's derivatives at `args` against central finite differences, as JAX's `check_grads`:
 * forward mode entry by entry, reverse mode through <u, J t> for a random direction t and
 * cotangent u (seeded). Throws an Error naming the mode and the entry when one disagrees
 * beyond `atol + rtol |finite difference|`; returns what it compared. adc compiles the call
 * (f's jvp and vjp are generated). For a second derivative, check `grad(f, i)`:
 * `checkGrads(grad(f, 1), [x, y])`.
 */
export function checkGrads<F extends AnyFn>(f: F, args: Args<F>, options?: CheckOptions): CheckReport {
  void f;
  void args;
  void options;
  throw notCompiled("checkGrads");
}
export type { CheckOptions, CheckReport } from "./check.js";
import type { CheckOptions, CheckReport } from "./check.js";

/** A value treated as a constant by differentiation: its derivative is zero. */
export function stopGradient<T>(x: T): T {
  return x;
}

export { np, NDArray } from "./ndarray/index.js";
export type { Operand } from "./ndarray/index.js";

export { isTraining, pause, GradientTape } from "./autograd.js";
export type { GradReq } from "./autograd.js";

/**
 * Records the computation in `fn` so that `backward()` on what it assigns can run. adc compiles
 * each record block ahead of time into a generated function and its pullback; the call is
 * replaced at build time, so running this means the program was not compiled.
 */
export function record(_fn: () => void, _options: { train?: boolean } = {}): void {
  throw notCompiled("record");
}

/**
 * A function with its own reverse-mode rule (JAX's `custom_vjp`): `fwd(...args)` returns
 * `[out, residuals]`, `bwd(residuals, outBar)` one cotangent per argument. Differentiated code
 * that calls the result uses the rule instead of differentiating f, which may be code adc cannot
 * read (a plain JavaScript import, WebAssembly). Bind it to a module-level `const`. As in JAX, a
 * customVjp function has no forward-mode derivative (use customJvp for that).
 */
export function customVjp<F extends AnyFn, R>(
  f: F,
  fwd: (...args: Args<F>) => readonly [ReturnType<F>, R],
  bwd: (residuals: R, outBar: ReturnType<F>) => Args<F>,
): F {
  return defineVjp(f, fwd as never, bwd as never);
}

/**
 * A function with its own forward-mode rule (JAX's `custom_jvp`): `rule(primals, tangents)`
 * returns `[out, outDot]`, linear in the tangents. Reverse mode uses the same rule, transposed
 * (one rule call per input entry: meant for functions of a few numbers or small arrays).
 */
export function customJvp<F extends AnyFn>(f: F, rule: (primals: Args<F>, tangents: Args<F>) => readonly [ReturnType<F>, ReturnType<F>]): F {
  return defineJvp(f, rule as never);
}

/**
 * JAX's `checkpoint` (remat): the same function, but differentiated code that calls it keeps only
 * its arguments on the tape and recomputes its inside during the reverse sweep (its forward runs
 * twice). A loop of n steps written as n / k calls of a checkpointed k-step function keeps about
 * n / k + k records instead of n: with k near sqrt(n), O(sqrt(n)) memory. Bind it to a
 * module-level `const`.
 */
export function checkpoint<F extends AnyFn>(f: F): F {
  return f;
}
