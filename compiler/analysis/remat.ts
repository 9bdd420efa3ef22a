/**
 * Recomputation instead of recording: which loop-body variables the reverse sweep can
 * recompute at the start of each reverse iteration rather than save on the tape.
 *
 * A variable qualifies when it is declared once, directly in a loop body, by a cheap operation
 * (an element read, + - * /, negation, a copy) whose operands keep their value for the whole
 * iteration: literals, outer names, the loop counters the reverse sweep recounts, earlier
 * qualifying variables of the same body, variables the loop never assigns, and elements of arrays
 * the function never writes. Recomputing an element read and an add costs less than a push and a
 * pop, and the tape shrinks by 8 bytes per variable per iteration.
 */
import type { Expr, Loop, Stmt } from "../ir/ir.js";
import { forEachExpr, forEachStmt, reads } from "../ir/walk.js";

export interface Remat {
  /** Qualifying variables, by loop, in program order, with their definitions. */
  readonly byLoop: ReadonlyMap<Loop, readonly { name: string; init: Expr }[]>;
  readonly names: ReadonlySet<string>;
}

const CHEAP_BIN = new Set(["+", "-", "*", "/"]);

export function findRemat(body: readonly Stmt[], params: readonly string[], mutatedByCalls: ReadonlySet<string>, counterOf: (l: Loop) => string | undefined): Remat {
  // Arrays the function never writes, whose name always denotes the same array.
  const written = new Set<string>(mutatedByCalls);
  const defCount = new Map<string, number>();
  forEachStmt(body, (s) => {
    if (s.k === "assign" && s.target.k === "index") written.add(s.target.arr);
    if (s.k === "assign" && s.target.k === "var") defCount.set(s.target.name, (defCount.get(s.target.name) ?? 0) + 1);
    if (s.k === "let") defCount.set(s.name, (defCount.get(s.name) ?? 0) + 1);
  });
  for (const p of params) defCount.set(p, (defCount.get(p) ?? 0) + 1);
  const readOnly = (a: string): boolean => !written.has(a) && defCount.get(a) === 1;

  const byLoop = new Map<Loop, { name: string; init: Expr }[]>();
  const names = new Set<string>();
  const visit = (stmts: readonly Stmt[], counters: readonly string[]): void => {
    for (const s of stmts) {
      if (s.k === "if") {
        visit(s.then, counters);
        visit(s.else, counters);
      } else if (s.k === "block") visit(s.body, counters);
      else if (s.k === "loop") loop(s, counters);
    }
  };
  const loop = (l: Loop, outer: readonly string[]): void => {
    const c = counterOf(l);
    const counters = c ? [...outer, c] : outer;
    // What the loop assigns, found when a candidate needs it (a nest of loops without any would
    // walk each loop's inside from every enclosing level).
    let assigned: Set<string> | undefined;
    const assignedInLoop = (v: string): boolean => {
      if (!assigned) {
        const found = (assigned = new Set<string>());
        forEachStmt([...l.body, ...l.update], (s) => {
          if (s.k === "let") found.add(s.name);
          if (s.k === "assign") found.add(s.target.k === "var" ? s.target.name : s.target.arr);
        });
      }
      return assigned.has(v);
    };
    const mine: { name: string; init: Expr }[] = [];
    const ok = new Set<string>();
    const stable = (e: Expr): boolean => {
      let good = true;
      forEachExpr(e, (x) => {
        if (x.k === "call" || x.k === "alloc" || x.k === "arrlit" || x.k === "copy" || x.k === "cond") good = false;
        if (x.k === "index" && !(x.arr.k === "var" && readOnly(x.arr.name))) good = false;
      });
      if (!good) return false;
      for (const v of reads(e)) if (!(counters.includes(v) || ok.has(v) || !assignedInLoop(v))) return false;
      return true;
    };
    for (const s of l.body) {
      if (s.k !== "let" || !s.init || defCount.get(s.name) !== 1 || s.ty.k !== "num") continue;
      const e = s.init;
      const cheap = e.k === "var" || e.k === "index" || (e.k === "bin" && CHEAP_BIN.has(e.op)) || (e.k === "un" && e.op === "-");
      if (cheap && stable(e)) {
        mine.push({ name: s.name, init: e });
        ok.add(s.name);
        names.add(s.name);
      }
    }
    if (mine.length) byLoop.set(l, mine);
    visit(l.body, counters);
  };
  visit(body, []);
  return { byLoop, names };
}
