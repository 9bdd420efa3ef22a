/**
 * Vector forward mode: a tangent function that carries K directions ("lanes") through one run,
 * so that jacfwd evaluates the function once per K columns instead of once per column.
 *
 * The lane statements are those that compute tangents: starting from the tangent parameters,
 * every statement that reads a lane variable or writes one, and what it writes, to a fixed point.
 * Each is repeated K times with lane k's variables renamed (lane 0 keeps the names); every other
 * statement (the primal code, loops, branches) runs once. The result's tangent goes to slot k of
 * the return registers (`_rt.retF[k]`, `_rt.retO[k]`).
 *
 * A body this cannot split is left alone (null): control flow that depends on a tangent, a call
 * that takes a tangent (a callee's tangent function leaves its result in slot 0, which the next
 * lane's call would overwrite), or a read of the return registers.
 */
import type { Expr, Stmt, Target } from "../ir/ir.js";
import { num } from "../ir/make.js";
import { forEachExpr, forEachStmt, mapExpr, mapStmtLists, reads, stmtExprs } from "../ir/walk.js";

export interface Lanes {
  /** The body, each lane statement K times in a row. */
  readonly stmts: Stmt[];
  /** Lane k's name for `v`: v itself for lane 0 and for what every lane shares. */
  name(v: string, k: number): string;
}

/**
 * `seeds`: the tangent parameters; `slots`: the return registers (arrays whose entry 0 a lane
 * statement writes: lane k writes entry k).
 */
export function laneBody(body: readonly Stmt[], seeds: readonly string[], K: number, slots: ReadonlySet<string>, fresh: (base: string) => string): Lanes | null {
  const lane = new Set(seeds);
  const readsLane = (e: Expr | null | undefined): boolean => !!e && [...reads(e)].some((v) => lane.has(v));
  const isLane = (s: Stmt): boolean => {
    switch (s.k) {
      case "let":
        return lane.has(s.name) || readsLane(s.init);
      case "assign":
        if (s.target.k === "var") return lane.has(s.target.name) || readsLane(s.value);
        // (Every lane writes its own return slot, whatever its value.)
        return slots.has(s.target.arr) || lane.has(s.target.arr) || readsLane(s.target.idx) || readsLane(s.value);
      case "expr":
        return readsLane(s.e);
      default:
        return false;
    }
  };
  for (let changed = true; changed; ) {
    changed = false;
    forEachStmt(body, (s) => {
      if (!isLane(s)) return;
      const w = s.k === "let" ? s.name : s.k === "assign" ? (s.target.k === "var" ? s.target.name : s.target.arr) : undefined;
      if (w !== undefined && !slots.has(w) && !lane.has(w)) {
        lane.add(w);
        changed = true;
      }
    });
  }
  let splittable = true;
  forEachStmt(body, (s) => {
    if ((s.k === "if" || s.k === "loop") && readsLane(s.cond)) splittable = false;
    if (s.k === "return" && readsLane(s.value)) splittable = false;
    if (s.k === "expr" && isLane(s)) splittable = false;
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k === "call" && x.fn.k !== "prim" && (x.fn.k !== "rt" || x.fn.name !== "zerosLike") && x.args.some((a) => readsLane(a))) splittable = false;
        if (x.k === "call" && x.fn.k === "derived") splittable = false;
        if (x.k === "free" && slots.has(x.text)) splittable = false;
      });
  });
  if (!splittable) return null;

  const names = new Map<string, string[]>();
  const name = (v: string, k: number): string => {
    if (k === 0 || !lane.has(v)) return v;
    let per = names.get(v);
    if (!per) names.set(v, (per = [v]));
    while (per.length <= k) per.push(fresh(`${v}_${per.length}`));
    return per[k];
  };
  const renameExpr = (e: Expr, k: number): Expr => mapExpr(e, (x) => (x.k === "var" && lane.has(x.name) ? { ...x, name: name(x.name, k) } : undefined));
  const target = (t: Target, k: number): Target => {
    if (t.k === "var") return { ...t, name: name(t.name, k) };
    if (slots.has(t.arr)) return { ...t, idx: num(k) };
    return { ...t, arr: name(t.arr, k), idx: renameExpr(t.idx, k) };
  };
  const copy = (s: Stmt, k: number): Stmt => {
    switch (s.k) {
      case "let":
        return { ...s, name: name(s.name, k), ...(s.init ? { init: renameExpr(s.init, k) } : {}) };
      case "assign":
        return { ...s, target: target(s.target, k), value: renameExpr(s.value, k) };
      default:
        return s;
    }
  };
  const repeat = (list: readonly Stmt[]): Stmt[] =>
    list.flatMap((s) => {
      if (s.k === "if" || s.k === "loop" || s.k === "block") return [mapStmtLists(s, repeat)];
      if (!isLane(s)) return [s];
      return Array.from({ length: K }, (_, k) => copy(s, k));
    });
  return { stmts: repeat(body), name };
}
