/**
 * Local accumulators for loop-invariant adjoint targets, a pass over a reverse sweep (issue
 * "Performance round 2", adjoint code shape). In the reverse of
 *
 *   for (i ...) for (j ...) out[j] += Q[idx] * v[i]
 *
 * the inner loop adds into `v_bar[i]` with `i` fixed: every iteration loads and stores the same
 * element, a chain through memory the CPU cannot overlap. Here such a loop adds into a local
 * instead, and the element gets the sum once after the loop:
 *
 *   let v_bar_acc = 0;
 *   for (j ...) { ...; v_bar_acc += t; }
 *   if (v_bar_acc !== 0) v_bar[i] += v_bar_acc;
 *
 * (The guard keeps a loop that ran no iteration from touching an element its index may not
 * name; adding a zero changes nothing else.) Floating-point sums are regrouped, as any
 * reassociation would: the result can differ in the last bits.
 *
 * When: the array is a local of the function (an adjoint the function allocated; a parameter
 * could be the same array as another one), every write to it in the loop is `a[e] += value` with
 * one index `e` that the loop does not change, and nothing in the loop reads the array (or passes
 * it anywhere) or jumps out of the loop past its end.
 */
import type { Expr, Loop, Stmt, Ty } from "../ir/ir.js";
import { NUM } from "../ir/ir.js";
import { GEN, name, num } from "../ir/make.js";
import { printExpr } from "../ir/print.js";
import { forEachExpr, forEachStmt, mapStmtLists, reads, stmtExprs } from "../ir/walk.js";

export interface AccumulatorScope {
  /** Arrays declared by the function itself (never one of its parameters). */
  readonly locals: ReadonlySet<string>;
  fresh(base: string): string;
}

export function localAccumulators(stmts: readonly Stmt[], scope: AccumulatorScope): Stmt[] {
  const out: Stmt[] = [];
  for (const s0 of stmts) {
    // Inner loops first: a sum flushed after an inner loop may accumulate again in the outer one.
    const s = mapStmtLists(s0, (l) => localAccumulators(l, scope));
    if (s.k !== "loop") {
      out.push(s);
      continue;
    }
    const targets = candidates(s, scope.locals);
    if (targets.size === 0) {
      out.push(s);
      continue;
    }
    const acc = new Map([...targets].map(([arr, t]) => [arr, { ...t, local: scope.fresh(`${arr}_acc`) }]));
    for (const [, a] of acc) out.push({ k: "let", name: a.local, ty: NUM, init: num(0), isConst: false, pos: s.pos });
    out.push({ ...s, body: redirect(s.body, acc) });
    for (const [arr, a] of acc) {
      const flush: Stmt = { k: "assign", target: { k: "index", arr, arrTy: a.arrTy, idx: a.idx, pos: s.pos }, value: name(a.local), pos: s.pos, op: "+" };
      out.push({ k: "if", cond: { k: "bin", op: "!==", l: name(a.local), r: num(0), ty: NUM, pos: GEN }, then: [flush], else: [], pos: s.pos });
    }
  }
  return out;
}

/** The arrays the loop only adds into, at one index the loop does not change: array -> index. */
function candidates(loop: Loop, locals: ReadonlySet<string>): Map<string, { idx: Expr; arrTy: Ty }> {
  const assigned = new Set<string>();
  const used = new Set<string>();
  const idxOf = new Map<string, { idx: Expr; arrTy: Ty } | null>();
  let jumps = false;
  forEachStmt([...loop.init, ...loop.body, ...loop.update], (x) => {
    if (x.k === "let") assigned.add(x.name);
    if (x.k === "return" || ((x.k === "break" || x.k === "continue") && x.label)) jumps = true;
    for (const e of stmtExprs(x)) forEachExpr(e, (y) => void (y.k === "var" && used.add(y.name)));
    if (x.k !== "assign") return;
    if (x.target.k === "var") {
      assigned.add(x.target.name);
      return;
    }
    const arr = x.target.arr;
    const prev = idxOf.get(arr);
    const ok = x.op === "+" && (prev === undefined || (prev !== null && printExpr(prev.idx) === printExpr(x.target.idx)));
    idxOf.set(arr, ok ? { idx: x.target.idx, arrTy: x.target.arrTy } : null);
  });
  if (jumps) return new Map();
  const out = new Map<string, { idx: Expr; arrTy: Ty }>();
  for (const [arr, t] of idxOf) {
    if (t === null || !locals.has(arr) || used.has(arr) || assigned.has(arr)) continue;
    if ([...reads(t.idx)].some((v) => assigned.has(v))) continue;
    out.set(arr, t);
  }
  return out;
}

/** The loop body with `arr[idx] += v` turned into `acc += v`. */
function redirect(stmts: readonly Stmt[], acc: ReadonlyMap<string, { local: string }>): Stmt[] {
  return stmts.map((s) => {
    if (s.k === "assign" && s.target.k === "index" && acc.has(s.target.arr)) {
      const local = acc.get(s.target.arr)!.local;
      return { ...s, target: { k: "var", name: local, ty: NUM, pos: s.target.pos } };
    }
    return mapStmtLists(s, (l) => redirect(l, acc));
  });
}
