/**
 * Seeding jacrev's reverse sweep with row i's unit cotangent.
 *
 * The fused sweep starts with `out_bar = zerosLike(out)` and `addInto(out_bar, ct)`: a copy, so
 * that a caller's cotangent is never written. In jacrev the cotangent is jacrev's own and set
 * afresh for each row, so the sweep may take it as it is. Better still, when the sweep indexes
 * the output's adjoint only at literal positions (`out[0] = ...; out[1] = ...`), each entry
 * becomes a local `out_bar_k = i === k ? 1 : 0`: no cotangent array to allocate, fill and read.
 */
import type { Expr, Stmt } from "../ir/ir.js";
import { NUM } from "../ir/ir.js";
import { bin, cond, name, num } from "../ir/make.js";
import { forEachChildExpr, forEachStmt, mapExpr, mapStmtExprs, mapStmtLists, reads, stmtExprs } from "../ir/walk.js";

type Call = Extract<Expr, { k: "call" }>;
type Let = Extract<Stmt, { k: "let" }>;

/**
 * `rev` seeded for row `row`: `usesCotangent` says whether it still reads `ct` (else the caller
 * need not make it). `fresh` names the locals.
 */
export function seedRow(rev: readonly Stmt[], ct: string, row: string, fresh: (base: string) => string): { stmts: Stmt[]; usesCotangent: boolean } {
  const isRt = (e: Expr | undefined, fn: string): e is Call => e?.k === "call" && e.fn.k === "rt" && e.fn.name === fn;
  const seed = rev.findIndex((s) => s.k === "expr" && isRt(s.e, "addInto") && s.e.args[1]?.k === "var" && s.e.args[1].name === ct && s.e.args[0]?.k === "var");
  if (seed < 0) return { stmts: [...rev], usesCotangent: true };
  const bar = ((rev[seed] as Extract<Stmt, { k: "expr" }>).e as Call).args[0] as Extract<Expr, { k: "var" }>;
  const decl = rev.findIndex((s) => s.k === "let" && s.name === bar.name && isRt(s.init, "zerosLike"));
  // Nothing between the declaration and the seeding may touch the adjoint (it is zero there).
  const touches = (s: Stmt): boolean => stmtExprs(s).some((e) => reads(e).has(bar.name)) || (s.k === "assign" && (s.target.k === "var" ? s.target.name : s.target.arr) === bar.name);
  if (decl < 0 || decl > seed || rev.slice(decl + 1, seed).some(touches)) return { stmts: [...rev], usesCotangent: true };
  const rest = rev.filter((_, k) => k !== seed && k !== decl);
  const entries = literalEntries(rest, bar.name);
  if (!entries) {
    // The cotangent itself is the adjoint.
    const init: Expr = { k: "var", name: ct, ty: bar.ty, pos: bar.pos };
    return { stmts: rev.flatMap((s, k) => (k === seed ? [] : k === decl ? [{ ...(s as Let), init }] : [s])), usesCotangent: true };
  }
  // One local per entry, 1 in row `row`'s entry and 0 elsewhere.
  const local = new Map([...entries].sort((a, b) => a - b).map((k) => [k, fresh(`${bar.name}_${k}`)] as const));
  const pos = rev[decl].pos;
  const lets: Stmt[] = [...local].map(([k, v]) => ({ k: "let", name: v, ty: NUM, init: cond(bin("===", name(row), num(k)), num(1), num(0)), isConst: false, pos }));
  const scalar = (e: Expr): Expr =>
    mapExpr(e, (x) => (x.k === "index" && x.arr.k === "var" && x.arr.name === bar.name && x.idx.k === "num" ? name(local.get(x.idx.v)!) : undefined));
  const rewrite = (list: readonly Stmt[]): Stmt[] =>
    list.map((s) => {
      let t = mapStmtLists(mapStmtExprs(s, scalar), rewrite);
      if (t.k === "assign" && t.target.k === "index" && t.target.arr === bar.name && t.target.idx.k === "num") t = { ...t, target: { k: "var", name: local.get(t.target.idx.v)!, ty: NUM, pos: t.target.pos } };
      return t;
    });
  return { stmts: rev.flatMap((s, k) => (k === seed ? [] : k === decl ? lets : rewrite([s]))), usesCotangent: false };
}

/** The literal positions at which `stmts` index `arr`, or null if they use it any other way. */
function literalEntries(stmts: readonly Stmt[], arr: string): Set<number> | null {
  const found = new Set<number>();
  let other = false;
  const visit = (e: Expr): void => {
    if (e.k === "index" && e.arr.k === "var" && e.arr.name === arr) {
      if (e.idx.k === "num" && Number.isInteger(e.idx.v) && e.idx.v >= 0) found.add(e.idx.v);
      else other = true;
      visit(e.idx);
      return;
    }
    if (e.k === "var" && e.name === arr) other = true;
    forEachChildExpr(e, visit);
  };
  forEachStmt(stmts, (s) => {
    if (s.k === "let" && s.name === arr) other = true;
    if (s.k === "assign") {
      if (s.target.k === "var" && s.target.name === arr) other = true;
      if (s.target.k === "index" && s.target.arr === arr) {
        if (s.target.idx.k === "num" && Number.isInteger(s.target.idx.v) && s.target.idx.v >= 0) found.add(s.target.idx.v);
        else other = true;
      }
    }
    for (const e of stmtExprs(s)) visit(e);
  });
  return other ? null : found;
}
