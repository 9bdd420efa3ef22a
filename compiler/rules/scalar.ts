/**
 * Derivative rules for scalar primitives: one entry per primitive, in one registry.
 *
 * A rule gives the partial derivative of the result with respect to each operand, as
 * TypeScript text over the operands and the result. Both modes come from it: the tangent is
 * `sum_i partial_i * operand_i_dot`, the adjoint adds `out_bar * partial_i` into operand i's
 * adjoint. Because every read goes through `Operands`, the emitter knows exactly which primal
 * values the reverse sweep needs (the to-be-recorded analysis starts from those reads).
 *
 * Conventions where the derivative is undefined follow JAX (docs/semantics.md):
 * abs'(0) = 0, sign/floor/ceil/round/trunc have derivative 0, max/min split evenly between
 * tied operands, sqrt'(0) = +Infinity, d(x ** y)/dy = 0 at x = 0; hypot and atan2 at the origin
 * have derivative 0 (JAX gives NaN for atan2 there).
 */

/** A rule's view of one application: operand and result texts, each read recorded. */
export interface Operands {
  readonly n: number;
  /** Text of operand i (a name, a literal, or a parenthesized inactive expression). */
  arg(i: number): string;
  /** The operand's value if it is a numeric literal. */
  lit(i: number): number | undefined;
  /** Text of the result. */
  out(): string;
}

export interface ScalarRule {
  /** How the primitive is written: `Math.sin`, or an operator (`+`, `neg`). */
  readonly name: string;
  /** Number of operands; "n" for variadic (Math.max, Math.hypot). */
  readonly arity: number | "n";
  /** Partial derivative with respect to operand i, or null where it is identically zero. */
  partial(i: number, o: Operands): string | null;
}

const rules = new Map<string, ScalarRule>();

function def(name: string, arity: number | "n", partial: ScalarRule["partial"]): void {
  if (rules.has(name)) throw new Error(`duplicate rule for ${name}`);
  rules.set(name, { name, arity, partial });
}

/** A unary Math function; its partial reads the operand and result through `o` (each read is recorded). */
function unary(name: string, d: (o: Operands) => string | null): void {
  def(name, 1, (_i, o) => d(o));
}

// Arithmetic operators.
def("+", 2, () => "1");
def("-", 2, (i) => (i === 0 ? "1" : "-1"));
def("*", 2, (i, o) => o.arg(1 - i));
def("/", 2, (i, o) => (i === 0 ? `1 / ${o.arg(1)}` : `-${o.out()} / ${o.arg(1)}`));
def("%", 2, (i, o) => (i === 0 ? "1" : `-Math.trunc(${o.arg(0)} / ${o.arg(1)})`));
def("neg", 1, () => "-1");
def("copy", 1, () => "1");

/** x ** y (and Math.pow): at y = 0 the x-partial is 0, at x = 0 the y-partial is 0 (JAX). */
function powPartial(i: number, o: Operands): string | null {
  const x = o.arg(0);
  const y = o.arg(1);
  if (i === 0) {
    const c = o.lit(1);
    if (c !== undefined) {
      if (c === 0) return null;
      if (c === 1) return "1";
      if (c === 2) return `2 * ${x}`;
      return `${c} * ${x} ** ${c - 1}`;
    }
    return `(${y} === 0 ? 0 : ${y} * ${x} ** (${y} - 1))`;
  }
  const base = o.lit(0);
  if (base !== undefined) return base === 0 ? null : `${o.out()} * Math.log(${x})`;
  return `(${x} === 0 ? 0 : ${o.out()} * Math.log(${x}))`;
}
def("**", 2, powPartial);
def("Math.pow", 2, powPartial);

// Math functions of one argument.
unary("Math.sin", (o) => `Math.cos(${o.arg(0)})`);
unary("Math.cos", (o) => `-Math.sin(${o.arg(0)})`);
unary("Math.tan", (o) => `1 + ${o.out()} * ${o.out()}`);
unary("Math.asin", (o) => `1 / Math.sqrt(1 - ${o.arg(0)} * ${o.arg(0)})`);
unary("Math.acos", (o) => `-1 / Math.sqrt(1 - ${o.arg(0)} * ${o.arg(0)})`);
unary("Math.atan", (o) => `1 / (1 + ${o.arg(0)} * ${o.arg(0)})`);
unary("Math.sinh", (o) => `Math.cosh(${o.arg(0)})`);
unary("Math.cosh", (o) => `Math.sinh(${o.arg(0)})`);
unary("Math.tanh", (o) => `1 - ${o.out()} * ${o.out()}`);
unary("Math.asinh", (o) => `1 / Math.sqrt(${o.arg(0)} * ${o.arg(0)} + 1)`);
unary("Math.acosh", (o) => `1 / Math.sqrt(${o.arg(0)} * ${o.arg(0)} - 1)`);
unary("Math.atanh", (o) => `1 / (1 - ${o.arg(0)} * ${o.arg(0)})`);
unary("Math.exp", (o) => o.out());
unary("Math.expm1", (o) => `${o.out()} + 1`);
unary("Math.log", (o) => `1 / ${o.arg(0)}`);
unary("Math.log1p", (o) => `1 / (1 + ${o.arg(0)})`);
unary("Math.log2", (o) => `1 / (${o.arg(0)} * Math.LN2)`);
unary("Math.log10", (o) => `1 / (${o.arg(0)} * Math.LN10)`);
unary("Math.sqrt", (o) => `0.5 / ${o.out()}`);
unary("Math.cbrt", (o) => `1 / (3 * ${o.out()} * ${o.out()})`);
unary("Math.abs", (o) => `Math.sign(${o.arg(0)})`);
for (const f of ["sign", "floor", "ceil", "round", "trunc", "fround"]) unary(`Math.${f}`, (o) => null);

def("Math.atan2", 2, (i, o) => {
  const y = o.arg(0);
  const x = o.arg(1);
  // At the origin both partials are 0/0; adc gives 0 (as for hypot), so that a zero tangent or
  // adjoint through atan2(0, 0) stays zero instead of turning into NaN.
  const r2 = `${x} * ${x} + ${y} * ${y}`;
  return i === 0 ? `(${r2} === 0 ? 0 : ${x} / (${r2}))` : `(${r2} === 0 ? 0 : -${y} / (${r2}))`;
});

/** max/min: the operands equal to the result share the derivative evenly. */
function extremum(i: number, o: Operands): string {
  if (o.n === 1) return "1";
  const out = o.out();
  const ties = Array.from({ length: o.n }, (_, k) => `(${o.arg(k)} === ${out} ? 1 : 0)`).join(" + ");
  return `(${o.arg(i)} === ${out} ? 1 / (${ties}) : 0)`;
}
def("Math.max", "n", extremum);
def("Math.min", "n", extremum);
def("Math.hypot", "n", (i, o) => `(${o.out()} === 0 ? 0 : ${o.arg(i)} / ${o.out()})`);

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
