/**
 * Derivative rules for scalar primitives: one entry per primitive, in one registry.
 *
 * A rule gives the partial derivative of the result with respect to each operand, as an IR
 * expression over the operands and the result. Both modes come from it: the tangent is
 * `sum_i partial_i * operand_i_dot`, the adjoint adds `out_bar * partial_i` into operand i's
 * adjoint. Because every read goes through `Operands`, the emitter knows exactly which primal
 * values the reverse sweep needs (the to-be-recorded analysis starts from those reads).
 *
 * Conventions where the derivative is undefined follow JAX (docs/semantics.md):
 * abs'(0) = 0, sign/floor/ceil/round/trunc have derivative 0, max/min split evenly between
 * tied operands, sqrt'(0) = +Infinity, d(x ** y)/dy = 0 at x = 0; hypot and atan2 at the origin
 * have derivative 0 (JAX gives NaN for atan2 there).
 */
import { NUM, type Expr } from "../ir/ir.js";
import { bin, cond, free, math, neg, num } from "../ir/make.js";

/** A rule's view of one application: operand and result expressions, each read recorded. */
export interface Operands {
  readonly n: number;
  /** Operand i (a name, a literal, or an inactive expression). */
  arg(i: number): Expr;
  /** The operand's value if it is a numeric literal. */
  lit(i: number): number | undefined;
  /** The result (the variable the operation defines). */
  out(): Expr;
}

export interface ScalarRule {
  /** How the primitive is written: `Math.sin`, or an operator (`+`, `neg`). */
  readonly name: string;
  /** Number of operands; "n" for variadic (Math.max, Math.hypot). */
  readonly arity: number | "n";
  /** Partial derivative with respect to operand i, or null where it is identically zero. */
  partial(i: number, o: Operands): Expr | null;
}

const rules = new Map<string, ScalarRule>();

function def(name: string, arity: number | "n", partial: ScalarRule["partial"]): void {
  if (rules.has(name)) throw new Error(`duplicate rule for ${name}`);
  rules.set(name, { name, arity, partial });
}

/** A unary Math function; its partial reads the operand and result through `o` (each read is recorded). */
function unary(name: string, d: (o: Operands) => Expr | null): void {
  def(name, 1, (_i, o) => d(o));
}

const mul = (a: Expr, b: Expr): Expr => bin("*", a, b);
const div = (a: Expr, b: Expr): Expr => bin("/", a, b);
const add = (a: Expr, b: Expr): Expr => bin("+", a, b);
const sub = (a: Expr, b: Expr): Expr => bin("-", a, b);
const sq = (a: Expr): Expr => mul(a, a);
// (`+K`: a module's `const K = 2` has the literal type 2, which TypeScript will not compare with
// 0; a local one is declared `: number` where generated code declares it, print-stmt.ts.)
const isZero = (a: Expr): Expr => bin("===", a.k === "free" && /^[A-Za-z_$][\w$]*$/.test(a.text) ? { k: "un", op: "+", e: a, ty: NUM, pos: a.pos } : a, num(0));

// Arithmetic operators.
def("+", 2, () => num(1));
def("-", 2, (i) => num(i === 0 ? 1 : -1));
def("*", 2, (i, o) => o.arg(1 - i));
def("/", 2, (i, o) => (i === 0 ? div(num(1), o.arg(1)) : div(neg(o.out()), o.arg(1))));
def("%", 2, (i, o) => (i === 0 ? num(1) : neg(math("trunc", div(o.arg(0), o.arg(1))))));
def("neg", 1, () => num(-1));
def("copy", 1, () => num(1));

/** x ** y (and Math.pow): at y = 0 the x-partial is 0, at x = 0 the y-partial is 0 (JAX). */
function powPartial(i: number, o: Operands): Expr | null {
  if (i === 0) {
    const c = o.lit(1);
    const x = o.arg(0);
    if (c !== undefined) {
      if (c === 0) return null;
      if (c === 1) return num(1);
      if (c === 2) return mul(num(2), x);
      return mul(num(c), bin("**", x, num(c - 1)));
    }
    const y = o.arg(1);
    return cond(isZero(y), num(0), mul(y, bin("**", x, sub(y, num(1)))));
  }
  const base = o.lit(0);
  if (base !== undefined) return base === 0 ? null : mul(o.out(), math("log", o.arg(0)));
  const x = o.arg(0);
  return cond(isZero(x), num(0), mul(o.out(), math("log", x)));
}
def("**", 2, powPartial);
def("Math.pow", 2, powPartial);

// Math functions of one argument.
unary("Math.sin", (o) => math("cos", o.arg(0)));
unary("Math.cos", (o) => neg(math("sin", o.arg(0))));
unary("Math.tan", (o) => add(num(1), sq(o.out())));
unary("Math.asin", (o) => div(num(1), math("sqrt", sub(num(1), sq(o.arg(0))))));
unary("Math.acos", (o) => div(num(-1), math("sqrt", sub(num(1), sq(o.arg(0))))));
unary("Math.atan", (o) => div(num(1), add(num(1), sq(o.arg(0)))));
unary("Math.sinh", (o) => math("cosh", o.arg(0)));
unary("Math.cosh", (o) => math("sinh", o.arg(0)));
unary("Math.tanh", (o) => sub(num(1), sq(o.out())));
unary("Math.asinh", (o) => div(num(1), math("sqrt", add(sq(o.arg(0)), num(1)))));
unary("Math.acosh", (o) => div(num(1), math("sqrt", sub(sq(o.arg(0)), num(1)))));
unary("Math.atanh", (o) => div(num(1), sub(num(1), sq(o.arg(0)))));
unary("Math.exp", (o) => o.out());
unary("Math.expm1", (o) => add(o.out(), num(1)));
unary("Math.log", (o) => div(num(1), o.arg(0)));
unary("Math.log1p", (o) => div(num(1), add(num(1), o.arg(0))));
unary("Math.log2", (o) => div(num(1), mul(o.arg(0), free("Math.LN2"))));
unary("Math.log10", (o) => div(num(1), mul(o.arg(0), free("Math.LN10"))));
unary("Math.sqrt", (o) => div(num(0.5), o.out()));
unary("Math.cbrt", (o) => div(num(1), mul(mul(num(3), o.out()), o.out())));
unary("Math.abs", (o) => math("sign", o.arg(0)));
for (const f of ["sign", "floor", "ceil", "round", "trunc", "fround"]) unary(`Math.${f}`, () => null);

def("Math.atan2", 2, (i, o) => {
  const y = o.arg(0);
  const x = o.arg(1);
  // At the origin both partials are 0/0; adc gives 0 (as for hypot), so that a zero tangent or
  // adjoint through atan2(0, 0) stays zero instead of turning into NaN.
  const r2 = add(sq(x), sq(y));
  return cond(isZero(r2), num(0), i === 0 ? div(x, r2) : div(neg(y), r2));
});

/** max/min: the operands equal to the result share the derivative evenly. */
function extremum(i: number, o: Operands): Expr {
  if (o.n === 1) return num(1);
  const out = o.out();
  const tie = (k: number): Expr => cond(bin("===", o.arg(k), out), num(1), num(0));
  let ties = tie(0);
  for (let k = 1; k < o.n; k++) ties = add(ties, tie(k));
  return cond(bin("===", o.arg(i), out), div(num(1), ties), num(0));
}
def("Math.max", "n", extremum);
def("Math.min", "n", extremum);
def("Math.hypot", "n", (i, o) => cond(isZero(o.out()), num(0), div(o.arg(i), o.out())));

/** The rule for a primitive, or undefined if adc has none. */
export function scalarRule(name: string): ScalarRule | undefined {
  return rules.get(name);
}

/** Every registered primitive (tests check each has a numeric check). */
export function scalarRuleNames(): string[] {
  return [...rules.keys()];
}

/** Math members that are constants (Math.PI, ...). */
export const MATH_CONSTANTS = new Set(["PI", "E", "LN2", "LN10", "LOG2E", "LOG10E", "SQRT2", "SQRT1_2"]);
