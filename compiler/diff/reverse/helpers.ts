/**
 * Small facts and statement shapes the reverse-mode files share: calls that write an array, the
 * types taped as objects, and the declarations of hoisted variables and adjoints.
 */
import { RT } from "../../emit/names.js";
import { free, GEN, name, num } from "../../ir/make.js";
import { F64, NUMARR, type Expr, type Pos, type Stmt, type Ty } from "../../ir/ir.js";
import { isTree } from "../../ir/ir.js";
import { printTy } from "../../ir/print.js";
import { decl, rt, tyText } from "../build-ir.js";
import { forEachExpr, forEachStmt } from "../../ir/walk.js";
import { fnKey } from "../../analysis/summaries.js";
import { type Specializer } from "../prepare.js";


/** Whether a call in `e` may write into array `a` (a user function given `a`). */
export function callWrites(e: Expr, a: string, spec: Specializer): boolean {
  let w = false;
  forEachExpr(e, (x) => {
    if (x.k !== "call" || x.fn.k !== "user") return;
    const m = spec.mutations.get(fnKey(x.fn.fn));
    x.args.forEach((arg, j) => {
      if (arg.k === "var" && arg.name === a && m?.has(j)) w = true;
    });
  });
  return w;
}

/**
 * Primitives a temporary used once inside a loop is recomputed from (at its use in the reverse
 * sweep) rather than recorded. Not the elementary functions: recomputing sin, cos, exp, log,
 * sqrt and tanh saved a quarter of a long recurrence's tape (32 -> 24 bytes per step) but made the
 * LSTM gradient 1.3x slower (A/B in one process, 10.9 -> 14.4 ms and 11.8 -> 15.2 ms): recording
 * is cheaper while the tape stays in cache.
 */
export const CHEAP_PRIMS = new Set(["Math.max", "Math.min", "Math.abs", "Math.sign"]);

/** Whether a nested loop or branch inside the statement does work the forward sweep must keep. */
export function hasLoopWork(s: Stmt, work: (x: Stmt) => boolean): boolean {
  let found = false;
  forEachStmt([s], (x) => {
    if (x !== s && (x.k === "loop" || x.k === "if") && work(x)) found = true;
  });
  return found;
}

export function hasCall(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "call" && (x.fn.k === "user" || x.fn.k === "opaque")) found = true;
  });
  return found;
}

export function hasUserCall(e: Expr): boolean {
  return hasCall(e);
}

export function isObjTy(t: Ty): boolean {
  return t.k === "arr" || t.k === "nd" || isTree(t) || t.k === "other";
}

export function hoistDecl(v: string, t: Ty, pos: Pos): Stmt {
  switch (t.k) {
    case "num":
      return decl(v, num(0), pos);
    case "bool":
      return decl(v, { k: "bool", v: false, pos: GEN }, pos);
    case "arr":
      return t.ctor === "Float64Array" ? decl(v, free(`${RT}.EMPTY_F64`), pos, { annot: F64 }) : decl(v, { k: "arrlit", ctor: "Array", elems: [], pos: GEN }, pos, { annot: t.ro ? t : NUMARR });
    default:
      return decl(v, undefined, pos, { ty: t });
  }
}

/** A zero adjoint for a value of type t, shaped like `like`. */
export function barInit(t: Ty, like: string): Expr {
  switch (t.k) {
    case "num":
      return num(0);
    case "arr":
      return rt("zerosLike", [name(like, t)], t);
    case "obj":
    case "list":
      return rt("barOf", [name(like, t)], t);
    default:
      return free("null");
  }
}

/** `number | undefined` (a value that may be missing): where it carries a derivative, a number. */
function maybeNumber(t: Ty): boolean {
  return t.k === "other" && /\bnumber\b/.test(t.text) && /^(number|undefined|null)( \| (number|undefined|null))*$/.test(t.text);
}

export function barDecl(bar: string, t: Ty, v: string, pos: Pos): Stmt {
  if (t.k === "num" || t.k === "arr" || isTree(t)) return decl(bar, barInit(t, v), pos);
  if (maybeNumber(t)) return decl(bar, num(0), pos);
  return decl(bar, free("null"), pos, { annot: tyText(`${printTy(t)} | null`) });
}
