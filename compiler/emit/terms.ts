/**
 * Helpers that apply a scalar rule to an IR operation: its operands as the rule sees them, and
 * its name and arguments. (`scale` and `sum`, which combine partials with tangents and adjoints,
 * are in ir/make.ts.)
 */
import type { Expr } from "../ir/ir.js";
import { name } from "../ir/make.js";
import type { Operands, ScalarRule } from "../rules/scalar.js";

/** Operands for a rule, recording every primal name a partial reads. */
export function operands(args: readonly Expr[], out: string, read: (e: Expr | string) => void): Operands {
  return {
    n: args.length,
    arg(i) {
      read(args[i]);
      return args[i];
    },
    lit(i) {
      const a = args[i];
      return a.k === "num" ? a.v : undefined;
    },
    out() {
      read(out);
      return name(out);
    },
  };
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
