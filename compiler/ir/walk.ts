/**
 * Small generic walks over IR statements and expressions, shared by the analyses.
 */
import { assertNever, type Expr, type Stmt } from "./ir.js";

/** Calls `f` on every statement, nested ones included, in program order. */
export function forEachStmt(stmts: readonly Stmt[], f: (s: Stmt) => void): void {
  for (const s of stmts) {
    f(s);
    switch (s.k) {
      case "if":
        forEachStmt(s.then, f);
        forEachStmt(s.else, f);
        break;
      case "loop":
        forEachStmt(s.init, f);
        forEachStmt(s.body, f);
        forEachStmt(s.update, f);
        break;
      case "block":
        forEachStmt(s.body, f);
        break;
      case "let": case "assign": case "break": case "continue": case "return": case "expr": case "comment":
        break;
      default:
        assertNever(s, "statement");
    }
  }
}

/** The expressions a statement evaluates itself (not those of nested statements). */
export function stmtExprs(s: Stmt): Expr[] {
  switch (s.k) {
    case "let":
      return s.init ? [s.init] : [];
    case "assign":
      return s.target.k === "index" ? [s.target.idx, s.value] : [s.value];
    case "if":
      return [s.cond];
    case "loop":
      return s.cond ? [s.cond] : [];
    case "return":
      return s.value ? [s.value] : [];
    case "expr":
      return [s.e];
    case "block": case "break": case "continue": case "comment":
      return [];
    default:
      return assertNever(s, "statement");
  }
}

/** Calls `f` on `e` and every subexpression. */
export function forEachExpr(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.k) {
    case "bin":
      forEachExpr(e.l, f);
      forEachExpr(e.r, f);
      break;
    case "un":
    case "stop":
      forEachExpr(e.e, f);
      break;
    case "call":
      e.args.forEach((a) => forEachExpr(a, f));
      break;
    case "index":
      forEachExpr(e.arr, f);
      forEachExpr(e.idx, f);
      break;
    case "len":
      forEachExpr(e.arr, f);
      break;
    case "field":
      forEachExpr(e.obj, f);
      if (e.idx) forEachExpr(e.idx, f);
      break;
    case "cond":
      forEachExpr(e.c, f);
      forEachExpr(e.a, f);
      forEachExpr(e.b, f);
      break;
    case "alloc":
      forEachExpr(e.size, f);
      break;
    case "arrlit":
      e.elems.forEach((x) => forEachExpr(x, f));
      break;
    case "copy":
    case "as":
      forEachExpr(e.e, f);
      break;
    case "num": case "bool": case "str": case "var": case "free":
      break;
    default:
      assertNever(e, "expression");
  }
}

/** Names of the variables an expression reads. */
export function reads(e: Expr, into: Set<string> = new Set()): Set<string> {
  forEachExpr(e, (x) => {
    if (x.k === "var") into.add(x.name);
  });
  return into;
}

/** Whether the expression calls anything (user, primitive, NDArray or opaque) or allocates. */
export function hasCall(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "call" || x.k === "alloc" || x.k === "arrlit" || x.k === "copy") found = true;
  });
  return found;
}

/** Calls `f` on each direct subexpression of `e`. */
export function forEachChildExpr(e: Expr, f: (e: Expr) => void): void {
  switch (e.k) {
    case "bin":
      f(e.l);
      f(e.r);
      break;
    case "un":
    case "stop":
      f(e.e);
      break;
    case "call":
      e.args.forEach(f);
      break;
    case "index":
      f(e.arr);
      f(e.idx);
      break;
    case "len":
      f(e.arr);
      break;
    case "field":
      f(e.obj);
      if (e.idx) f(e.idx);
      break;
    case "cond":
      f(e.c);
      f(e.a);
      f(e.b);
      break;
    case "alloc":
      f(e.size);
      break;
    case "arrlit":
      e.elems.forEach(f);
      break;
    case "copy":
    case "as":
      f(e.e);
      break;
    case "num": case "bool": case "str": case "var": case "free":
      break;
    default:
      assertNever(e, "expression");
  }
}

/** `e` with each direct subexpression replaced by `m` of it. */
export function mapChildren(e: Expr, m: (x: Expr) => Expr): Expr {
  switch (e.k) {
    case "bin":
      return { ...e, l: m(e.l), r: m(e.r) };
    case "un":
    case "stop":
      return { ...e, e: m(e.e) };
    case "copy":
    case "as":
      return { ...e, e: m(e.e) };
    case "call":
      return { ...e, args: e.args.map(m) };
    case "index":
      return { ...e, arr: m(e.arr), idx: m(e.idx) };
    case "len":
      return { ...e, arr: m(e.arr) };
    case "field":
      return { ...e, obj: m(e.obj), idx: e.idx && m(e.idx) };
    case "cond":
      return { ...e, c: m(e.c), a: m(e.a), b: m(e.b) };
    case "alloc":
      return { ...e, size: m(e.size) };
    case "arrlit":
      return { ...e, elems: e.elems.map(m) };
    case "num": case "bool": case "str": case "var": case "free":
      return e;
    default:
      return assertNever(e, "expression");
  }
}

/** Rebuilds e top-down: where `f` gives a replacement it is used as it is; elsewhere the children are rebuilt. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr | undefined): Expr {
  return f(e) ?? mapChildren(e, (x) => mapExpr(x, f));
}

/** Rebuilds e bottom-up: the children first, then `f` on the rebuilt node. */
export function foldExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  return f(mapChildren(e, (x) => foldExpr(x, f)));
}

/** The statement lists a statement holds (branches, loop parts, block body). */
export function stmtLists(s: Stmt): readonly (readonly Stmt[])[] {
  switch (s.k) {
    case "if":
      return [s.then, s.else];
    case "loop":
      return [s.init, s.body, s.update];
    case "block":
      return [s.body];
    default:
      return [];
  }
}

/** The statement with each statement list it holds (branches, loop parts, block body) mapped by `f`. */
export function mapStmtLists(s: Stmt, f: (l: readonly Stmt[]) => Stmt[]): Stmt {
  switch (s.k) {
    case "if":
      return { ...s, then: f(s.then), else: f(s.else) };
    case "loop":
      return { ...s, init: f(s.init), body: f(s.body), update: f(s.update) };
    case "block":
      return { ...s, body: f(s.body) };
    default:
      return s;
  }
}

/** The statement with every expression it evaluates mapped by `f`, nested statements included. */
export function mapStmtExprs(s: Stmt, f: (e: Expr) => Expr): Stmt {
  switch (s.k) {
    case "let":
      return s.init ? { ...s, init: f(s.init) } : s;
    case "assign":
      return { ...s, target: s.target.k === "index" ? { ...s.target, idx: f(s.target.idx) } : s.target, value: f(s.value) };
    case "if":
      return { ...s, cond: f(s.cond), then: s.then.map((x) => mapStmtExprs(x, f)), else: s.else.map((x) => mapStmtExprs(x, f)) };
    case "loop":
      return { ...s, cond: s.cond && f(s.cond), init: s.init.map((x) => mapStmtExprs(x, f)), body: s.body.map((x) => mapStmtExprs(x, f)), update: s.update.map((x) => mapStmtExprs(x, f)) };
    case "block":
      return { ...s, body: s.body.map((x) => mapStmtExprs(x, f)) };
    case "return":
      return s.value ? { ...s, value: f(s.value) } : s;
    case "expr":
      return { ...s, e: f(s.e) };
    default:
      return s;
  }
}
