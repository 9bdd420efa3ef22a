/**
 * Helpers that turn a scalar rule's partials into tangent and adjoint text, with the small
 * simplifications that keep generated code readable: a partial of 1 is dropped, -1 becomes a
 * negation, and a sum with no active terms is a symbolic zero.
 */
import { printExpr, paren } from "../ir/print.js";
import type { Expr } from "../ir/ir.js";
import type { Operands, ScalarRule } from "../rules/scalar.js";

/** Operand texts for a rule, recording every primal name a partial reads. */
export function operands(args: readonly Expr[], out: string, read: (e: Expr | string) => void): Operands {
  return {
    n: args.length,
    arg(i) {
      read(args[i]);
      const t = printExpr(args[i]);
      return paren(t);
    },
    lit(i) {
      const a = args[i];
      return a.k === "num" ? a.v : undefined;
    },
    out() {
      read(out);
      return out;
    },
  };
}

/** `partial * factor`, simplified. */
export function scale(partial: string, factor: string): string {
  if (partial === "1") return factor;
  if (partial === "-1") return `-${paren(factor)}`;
  return `${paren(partial)} * ${paren(factor)}`;
}

/** Joins tangent terms into one sum; "0" when there are none. */
export function sum(terms: readonly string[]): string {
  if (terms.length === 0) return "0";
  let s = terms[0];
  for (const t of terms.slice(1)) s += t.startsWith("-") ? ` - ${t.slice(1)}` : ` + ${t}`;
  return s;
}

/** The rule's name for an IR operation (`+`, `neg`, `Math.sin`, ...). */
export function ruleName(e: Expr): string | undefined {
  if (e.k === "bin") return e.op;
  if (e.k === "un" && e.op === "-") return "neg";
  if (e.k === "call" && e.fn.k === "prim") return e.fn.name;
  return undefined;
}

export function ruleArgs(e: Expr): readonly Expr[] {
  if (e.k === "bin") return [e.l, e.r];
  if (e.k === "un") return [e.e];
  if (e.k === "call") return e.args;
  return [];
}

export type { ScalarRule };
