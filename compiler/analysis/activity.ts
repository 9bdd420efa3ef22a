/**
 * Activity analysis: which variables carry a derivative.
 *
 * A variable is *varied* if its value depends on a differentiated input, and *useful* if the
 * output depends on it; it is *active* if both. Only active variables get tangent (`_dot`) or
 * adjoint (`_bar`) variables: everything else is a symbolic zero, so no code is emitted for it.
 *
 * The analysis is flow-insensitive per variable (a variable varied anywhere is varied
 * everywhere): simple, sound, and precise enough for numeric code, where a variable keeps one
 * role. Arrays are tracked as a whole. Calls use the callee's mutation summary: a callee that
 * writes into an array argument makes that array varied when any argument is varied.
 */
import type { Expr, IrFunction, Stmt } from "../ir/ir.js";
import { isDiffTy } from "../ir/ir.js";
import { forEachExpr, forEachStmt, stmtExprs } from "../ir/walk.js";
import { isZeroRule } from "../rules/scalarInfo.js";
import { ndDiffPositions } from "../rules/ndarray.js";
import { fnKey, type Mutations } from "./summaries.js";

export interface Activity {
  readonly varied: ReadonlySet<string>;
  readonly useful: ReadonlySet<string>;
  /** Varied and useful: has a tangent or an adjoint. */
  isActive(name: string): boolean;
  /** Whether the expression's value depends on a differentiated input (through derivative-carrying positions). */
  isVariedExpr(e: Expr): boolean;
  /** Declares a compiler-made temporary active (A-normal form adds them). */
  addActive(name: string): void;
}

/** Whether an nd op returns a differentiable value and which operands are differentiable. */
export type NdInfo = (op: string) => { diff: readonly number[]; returns: "ndarray" | "number" | "bool" | "boolean" } | undefined;

export function analyzeActivity(fn: IrFunction, activeParams: ReadonlySet<string>, mutations: Mutations, nd: NdInfo): Activity {
  const varied = new Set<string>([...activeParams]);
  const useful = new Set<string>();

  const variedExpr = (e: Expr): boolean => {
    switch (e.k) {
      case "var":
        return varied.has(e.name);
      case "num": case "bool": case "str": case "free": case "len": case "stop": case "alloc":
        return false;
      case "bin":
        if (["+", "-", "*", "/", "%", "**"].includes(e.op)) return e.ty.k === "num" && (variedExpr(e.l) || variedExpr(e.r));
        if ((e.op === "&&" || e.op === "||" || e.op === "??") && e.ty.k === "num") return variedExpr(e.l) || variedExpr(e.r);
        return false;
      case "un":
        return e.op === "-" || e.op === "+" ? variedExpr(e.e) : false;
      case "call":
        switch (e.fn.k) {
          case "prim":
            return !isZeroRule(e.fn.name) && e.args.some(variedExpr);
          case "user":
            return isDiffTy(e.ty) && e.args.some(variedExpr);
          case "nd": {
            const info = nd(e.fn.op);
            return !!info && info.returns !== "bool" && info.returns !== "boolean" && ndDiffPositions(e.fn.op, e.fn.list).some((i) => i < e.args.length && variedExpr(e.args[i]));
          }
          case "opaque":
          case "rt":
          case "derived":
            return false;
        }
        return false;
      case "index":
        return variedExpr(e.arr);
      case "field":
        return variedExpr(e.obj);
      case "cond":
        return variedExpr(e.a) || variedExpr(e.b);
      case "arrlit":
        return e.elems.some(variedExpr);
      case "copy":
      case "as":
        return variedExpr(e.e);
    }
  };

  const userCalls = (s: Stmt, f: (args: readonly Expr[], mutated: ReadonlySet<number>) => void): void => {
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k === "call" && x.fn.k === "user") f(x.args, mutations.get(fnKey(x.fn.fn)) ?? new Set());
      });
  };

  // Forward: varied.
  for (let changed = true; changed; ) {
    changed = false;
    const add = (n: string): void => {
      if (!varied.has(n)) {
        varied.add(n);
        changed = true;
      }
    };
    forEachStmt(fn.body, (s) => {
      if (s.k === "let" && s.init && variedExpr(s.init)) add(s.name);
      if (s.k === "assign" && variedExpr(s.value)) add(s.target.k === "var" ? s.target.name : s.target.arr);
      userCalls(s, (args, mutated) => {
        if (mutated.size && args.some(variedExpr)) mutated.forEach((j) => args[j]?.k === "var" && add((args[j] as { name: string }).name));
      });
    });
  }

  // Backward: useful, from the result and from array parameters the function writes (its other outputs).
  const mutatedParams = mutations.get(fnKey(fn.id)) ?? new Set();
  fn.params.forEach((p, i) => mutatedParams.has(i) && useful.add(p.name));
  for (const o of fn.outputs ?? []) useful.add(o);
  forEachStmt(fn.body, (s) => {
    if (s.k === "return" && s.value && isDiffTy(fn.ret)) diffReads(s.value, (n) => useful.add(n));
  });
  for (let changed = true; changed; ) {
    changed = false;
    const mark = (e: Expr): void =>
      diffReads(e, (n) => {
        if (varied.has(n) && !useful.has(n)) {
          useful.add(n);
          changed = true;
        }
      });
    forEachStmt(fn.body, (s) => {
      if (s.k === "let" && s.init && useful.has(s.name)) mark(s.init);
      if (s.k === "assign" && useful.has(s.target.k === "var" ? s.target.name : s.target.arr)) mark(s.value);
      userCalls(s, (args, mutated) => {
        if ([...mutated].some((j) => args[j]?.k === "var" && useful.has((args[j] as { name: string }).name))) args.forEach(mark);
      });
    });
  }

  return {
    varied,
    useful,
    isActive: (n) => varied.has(n) && useful.has(n),
    isVariedExpr: variedExpr,
    addActive: (n) => {
      varied.add(n);
      useful.add(n);
    },
  };
}

/** Variables read where a derivative flows (the operands `variedExpr` looks at). */
export function diffReads(e: Expr, out: (name: string) => void): void {
  switch (e.k) {
    case "var":
      out(e.name);
      return;
    case "bin":
      if (["+", "-", "*", "/", "%", "**"].includes(e.op) || ((e.op === "&&" || e.op === "||" || e.op === "??") && e.ty.k === "num")) {
        diffReads(e.l, out);
        diffReads(e.r, out);
      }
      return;
    case "un":
      if (e.op === "-" || e.op === "+") diffReads(e.e, out);
      return;
    case "call":
      if (e.fn.k === "prim" && !isZeroRule(e.fn.name)) e.args.forEach((a) => diffReads(a, out));
      if (e.fn.k === "user") e.args.forEach((a) => diffReads(a, out));
      if (e.fn.k === "nd") ndDiffPositions(e.fn.op, e.fn.list).forEach((i) => i < e.args.length && diffReads(e.args[i], out));
      return;
    case "index":
      diffReads(e.arr, out);
      return;
    case "field":
      diffReads(e.obj, out);
      return;
    case "cond":
      diffReads(e.a, out);
      diffReads(e.b, out);
      return;
    case "arrlit":
      e.elems.forEach((x) => diffReads(x, out));
      return;
    case "copy":
      diffReads(e.e, out);
      return;
    default:
      return;
  }
}
