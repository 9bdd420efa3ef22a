/**
 * Builders for IR expressions that derivative code is made of: numbers, names, arithmetic with
 * the few simplifications that keep generated code readable (a factor of 1 disappears, -1 becomes
 * a negation, a sum of no terms is 0), Math calls and conditionals. Generated expressions carry a
 * position of no source text (GEN); statements carry the user's positions.
 */
import { NUM, type BinOp, type Expr, type Pos, type Ty } from "./ir.js";

export const GEN: Pos = { start: 0, end: 0 };

export function num(v: number): Expr {
  return { k: "num", v, text: v < 0 ? `-${-v}` : String(v), pos: GEN };
}

export function name(n: string, ty: Ty = NUM): Expr {
  return { k: "var", name: n, ty, pos: GEN };
}

/** A name from outside the function (`Math.LN2`, a runtime member): never differentiated. */
export function free(text: string, ty: Ty = NUM): Expr {
  return { k: "free", text, ty, pos: GEN };
}

export function bin(op: BinOp, l: Expr, r: Expr): Expr {
  return { k: "bin", op, l, r, ty: NUM, pos: GEN };
}

export function neg(e: Expr): Expr {
  if (e.k === "num") return num(-e.v);
  return { k: "un", op: "-", e, ty: NUM, pos: GEN };
}

export function math(fn: string, ...args: Expr[]): Expr {
  return { k: "call", fn: { k: "prim", name: `Math.${fn}` }, args, ty: NUM, pos: GEN };
}

export function cond(c: Expr, a: Expr, b: Expr): Expr {
  return { k: "cond", c, a, b, ty: NUM, pos: GEN };
}

export function isNum(e: Expr, v: number): boolean {
  return e.k === "num" && e.v === v;
}

/** `partial * factor`, simplified. */
export function scale(partial: Expr, factor: Expr): Expr {
  if (isNum(partial, 1)) return factor;
  if (isNum(partial, -1)) return neg(factor);
  if (isNum(factor, 1)) return partial;
  if (isNum(factor, -1)) return neg(partial);
  return bin("*", partial, factor);
}

/** The terms added up; `0` when there are none; `a + -b` written `a - b`. */
export function sum(terms: readonly Expr[]): Expr {
  if (terms.length === 0) return num(0);
  let s = terms[0];
  for (const t of terms.slice(1)) s = t.k === "un" && t.op === "-" ? bin("-", s, t.e) : bin("+", s, t);
  return s;
}
