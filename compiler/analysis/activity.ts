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
  const variedExpr = (e: Expr): boolean => {
    let hit = false;
    variedReads(e, nd, (n) => (hit ||= varied.has(n)));
    return hit;
  };
  // Both analyses are reachability over edges "this variable's property flows to that one",
  // collected in one walk of the body; a fixed point re-walking the body would take as many
  // rounds as the longest chain of statements (a long function's variables form one chain).
  const toVaried = new Edges();
  const toUseful = new Edges();
  forEachStmt(fn.body, (s) => {
    const target = s.k === "let" && s.init ? s.name : s.k === "assign" ? (s.target.k === "var" ? s.target.name : s.target.arr) : undefined;
    const value = s.k === "let" ? s.init : s.k === "assign" ? s.value : undefined;
    if (target !== undefined && value) {
      variedReads(value, nd, (n) => toVaried.add(n, target));
      diffReads(value, (n) => toUseful.add(target, n));
    }
    // A callee that writes into array arguments: they are varied when any argument is, and every
    // argument is useful when one of them is.
    userCalls(s, mutations, (args, mutated) => {
      const written = [...mutated].flatMap((j) => (args[j]?.k === "var" ? [(args[j] as { name: string }).name] : []));
      for (const w of written) {
        args.forEach((a) => variedReads(a, nd, (n) => toVaried.add(n, w)));
        args.forEach((a) => diffReads(a, (n) => toUseful.add(w, n)));
      }
    });
  });

  // Forward: varied.
  const varied = toVaried.reach(activeParams, () => true);

  // Backward: useful, from the result and from array parameters the function writes (its other outputs).
  const seeds = new Set<string>();
  const mutatedParams = mutations.get(fnKey(fn.id)) ?? new Set();
  fn.params.forEach((p, i) => mutatedParams.has(i) && seeds.add(p.name));
  for (const o of fn.outputs ?? []) seeds.add(o);
  forEachStmt(fn.body, (s) => {
    if (s.k === "return" && s.value && isDiffTy(fn.ret)) diffReads(s.value, (n) => seeds.add(n));
  });
  const useful = toUseful.reach(seeds, (n) => varied.has(n));

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

/** A directed graph on variable names. */
class Edges {
  private readonly out = new Map<string, string[]>();
  add(from: string, to: string): void {
    const l = this.out.get(from);
    if (l) l.push(to);
    else this.out.set(from, [to]);
  }
  /** The seeds and every name reachable from them through names that pass `admit`. */
  reach(seeds: Iterable<string>, admit: (n: string) => boolean): Set<string> {
    const seen = new Set(seeds);
    const todo = [...seen];
    while (todo.length) {
      for (const n of this.out.get(todo.pop()!) ?? []) {
        if (!seen.has(n) && admit(n)) {
          seen.add(n);
          todo.push(n);
        }
      }
    }
    return seen;
  }
}

/** Calls `f` with the arguments and written-parameter positions of each user call `s` makes. */
function userCalls(s: Stmt, mutations: Mutations, f: (args: readonly Expr[], mutated: ReadonlySet<number>) => void): void {
  for (const e of stmtExprs(s))
    forEachExpr(e, (x) => {
      if (x.k === "call" && x.fn.k === "user") f(x.args, mutations.get(fnKey(x.fn.fn)) ?? new Set());
    });
}

const ARITH = new Set(["+", "-", "*", "/", "%", "**"]);

/**
 * The variables whose being varied makes `e` varied: `e` is varied if any of them is. (Loops
 * rather than a closure per call: under tsx every closure made is also named, which costs.)
 */
function variedReads(e: Expr, nd: NdInfo, out: (name: string) => void): void {
  switch (e.k) {
    case "var":
      out(e.name);
      return;
    case "bin":
      if ((ARITH.has(e.op) || e.op === "&&" || e.op === "||" || e.op === "??") && e.ty.k === "num") {
        variedReads(e.l, nd, out);
        variedReads(e.r, nd, out);
      }
      return;
    case "un":
      if (e.op === "-" || e.op === "+") variedReads(e.e, nd, out);
      return;
    case "call": {
      let positions: readonly number[] = [];
      if ((e.fn.k === "prim" && !isZeroRule(e.fn.name)) || (e.fn.k === "user" && isDiffTy(e.ty))) positions = e.args.map((_, i) => i);
      else if (e.fn.k === "nd") {
        const info = nd(e.fn.op);
        if (info && info.returns !== "bool" && info.returns !== "boolean") positions = ndDiffPositions(e.fn.op, e.fn.list);
      }
      for (const i of positions) if (i < e.args.length) variedReads(e.args[i], nd, out);
      return;
    }
    case "index":
      variedReads(e.arr, nd, out);
      return;
    case "field":
      variedReads(e.obj, nd, out);
      return;
    case "cond":
      variedReads(e.a, nd, out);
      variedReads(e.b, nd, out);
      return;
    case "arrlit":
      for (const x of e.elems) variedReads(x, nd, out);
      return;
    case "copy":
    case "as":
      variedReads(e.e, nd, out);
      return;
    default:
      return;
  }
}

/** Variables read where a derivative flows (the operands `variedExpr` looks at). */
export function diffReads(e: Expr, out: (name: string) => void): void {
  switch (e.k) {
    case "var":
      out(e.name);
      return;
    case "bin":
      if (ARITH.has(e.op) || ((e.op === "&&" || e.op === "||" || e.op === "??") && e.ty.k === "num")) {
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
