/**
 * Second names for arrays that nothing writes through while they share: copies.
 *
 * adc's derivatives give each array variable its own adjoint, which is right only while no two
 * live names share one array that is written (the fence refuses those, ADC1011). The pattern
 * of a layer-by-layer pass, `let h = x; for (...) { const out = ...; ...; h = out; }`, makes
 * such names, yet neither is written through once they share: x is read only, and each
 * iteration fills a new `out` before handing it over. Then a copy at the handover is
 * indistinguishable from the alias (the same entries are read through either name, and the
 * copy is never compared by identity in differentiated code), so the function as differentiated
 * copies there, and the sharing the fence refuses does not arise.
 *
 * `h = a` (a `let` or an assignment of an array variable) becomes `h = copy(a)` when
 * - h is never written through (an element assignment, or a call that writes that argument), nor
 *   is any name the array can move on to from h or a (`v = h` in a swap, and so on), and
 * - a is never written through, or a is a local declared with a new array in the same statement
 *   list before the handover, has no other definition, and is written through only between its
 *   declaration and the handover (each pass through that list fills a new array); or
 * - a is given another array later in the same list, with no write through a or h and no jump
 *   in between (a swap of buffers, by destructuring or through a temporary).
 * Anything else stays as written, for the fence to judge.
 */
import type { Expr, FnId, IrFunction, Stmt } from "../ir/ir.js";
import { forEachExpr, forEachStmt, mapStmtLists, stmtExprs } from "../ir/walk.js";

export function copyHarmlessAliases(fn: IrFunction, writesOf: (id: FnId) => ReadonlySet<number> | undefined): IrFunction {
  const written = writtenThrough(fn.body, writesOf);
  const defs = new Map<string, number>();
  forEachStmt(fn.body, (s) => {
    const n = s.k === "let" ? s.name : s.k === "assign" && s.target.k === "var" ? s.target.name : undefined;
    if (n !== undefined) defs.set(n, (defs.get(n) ?? 0) + 1);
  });
  for (const q of fn.params) defs.set(q.name, (defs.get(q.name) ?? 0) + 1);
  const onward = handovers(fn.body);
  let changed = false;
  const visit = (list: readonly Stmt[]): Stmt[] =>
    list.map((s, at) => {
      const alias = aliasOf(s);
      // (The array may move on to other names, `v = u` in a swap: none of those may write it either.)
      const reach = alias && reachable([alias.name, alias.source.name], onward);
      const harmless = alias && reach && [...reach].every((n) => n === alias.source.name || !written.has(n)) && harmlessSource(alias.source, list, at, written, defs, writesOf);
      if (alias && (harmless || handedOver(alias, list, at, writesOf))) {
        changed = true;
        const copy: Expr = { k: "copy", ctor: alias.ctor, e: alias.source, pos: alias.source.pos };
        return s.k === "let" ? { ...s, init: copy } : { ...(s as Extract<Stmt, { k: "assign" }>), value: copy };
      }
      return mapStmtLists(s, visit);
    });
  const body = visit(fn.body);
  return changed ? { ...fn, body } : fn;
}

type ArrayVar = Extract<Expr, { k: "var" }>;

/** For each array variable, the variables that are given its array somewhere (`b = a`, `b = c ? a : d`). */
function handovers(body: readonly Stmt[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  forEachStmt(body, (s) => {
    const [name, value] = s.k === "let" ? [s.name, s.init] : s.k === "assign" && s.target.k === "var" ? [s.target.name, s.value] : [undefined, undefined];
    if (name === undefined || !value) return;
    for (const a of arrayNames(value)) if (a.ty.k === "arr") (out.get(a.name) ?? out.set(a.name, new Set()).get(a.name)!).add(name);
  });
  return out;
}

/** The array variables an expression may evaluate to without copying (`c ? a : b`, `a ?? b`). */
export function arrayNames(e: Expr): Extract<Expr, { k: "var" }>[] {
  if (e.k === "var") return [e];
  if (e.k === "cond") return [...arrayNames(e.a), ...arrayNames(e.b)];
  if (e.k === "bin" && (e.op === "&&" || e.op === "||" || e.op === "??")) return [...arrayNames(e.l), ...arrayNames(e.r)];
  return [];
}

/** The names from which an array can reach others through handovers, closed. */
function reachable(start: readonly string[], onward: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const seen = new Set(start);
  const work = [...start];
  while (work.length) for (const n of onward.get(work.pop()!) ?? []) if (!seen.has(n)) (seen.add(n), work.push(n));
  return seen;
}

/**
 * `b = a` just before a is given another array (a swap: `[u, v] = [v, u]` is `t0 = v; t1 = u;
 * u = t0; v = t1`, or `t = u; u = v; v = t`): a is rebound later in the same list and nothing
 * writes through a or b in between, so afterwards b is the array's one name and a copy in b
 * reads as the handover does (with no jump in between, after which both names could live on).
 * (`u = t0`, a temporary read nowhere else that holds a new array, is a move the fence accepts.)
 */
function handedOver(alias: { name: string; source: ArrayVar }, list: readonly Stmt[], at: number, writesOf: (id: FnId) => ReadonlySet<number> | undefined): boolean {
  const a = alias.source.name;
  const rebound = list.findIndex((s, k) => k > at && s.k === "assign" && s.target.k === "var" && s.target.name === a);
  if (rebound < 0) return false;
  const gap = list.slice(at + 1, rebound);
  // (A jump in between could leave the loop or function with both names on one array.)
  let jumps = false;
  forEachStmt(gap, (s) => void (jumps ||= s.k === "break" || s.k === "continue" || s.k === "return"));
  const between = writtenThrough(gap, writesOf);
  return !jumps && !between.has(a) && !between.has(alias.name);
}

/** How many times each variable is read (mentioned in an expression) in the statements. */
export function readsOf(stmts: readonly Stmt[]): Map<string, number> {
  const n = new Map<string, number>();
  forEachStmt(stmts, (s) => {
    for (const e of stmtExprs(s)) forEachExpr(e, (x) => void (x.k === "var" && n.set(x.name, (n.get(x.name) ?? 0) + 1)));
  });
  return n;
}

/** `h = a` of array variables: the name given, the array it is given, and its constructor. */
function aliasOf(s: Stmt): { name: string; source: ArrayVar; ctor: "Array" | "Float64Array" } | undefined {
  const [name, value] = s.k === "let" ? [s.name, s.init] : s.k === "assign" && s.target.k === "var" ? [s.target.name, s.value] : [undefined, undefined];
  if (name === undefined || !value || value.k !== "var" || value.ty.k !== "arr") return undefined;
  return { name, source: value, ctor: value.ty.ctor };
}

function harmlessSource(a: ArrayVar, list: readonly Stmt[], at: number, written: ReadonlyMap<string, number>, defs: ReadonlyMap<string, number>, writesOf: (id: FnId) => ReadonlySet<number> | undefined): boolean {
  const writes = written.get(a.name);
  if (writes === undefined) return true;
  if (defs.get(a.name) !== 1) return false;
  const decl = list.findIndex((s, k) => k < at && s.k === "let" && s.name === a.name);
  if (decl < 0) return false;
  const init = (list[decl] as Extract<Stmt, { k: "let" }>).init;
  if (!init || (init.k !== "alloc" && init.k !== "copy" && init.k !== "arrlit")) return false;
  // Every write through a lies between its declaration and the handover.
  return writtenThrough(list.slice(decl + 1, at), writesOf).get(a.name) === writes;
}

/** How many statements write through each array variable (element assignments, writing calls, unknown calls). */
export function writtenThrough(stmts: readonly Stmt[], writesOf: (id: FnId) => ReadonlySet<number> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const add = (n: string): void => void out.set(n, (out.get(n) ?? 0) + 1);
  forEachStmt(stmts, (s) => {
    if (s.k === "assign" && s.target.k === "index") add(s.target.arr);
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k !== "call" || x.fn.k === "prim" || x.fn.k === "nd") return;
        const w = x.fn.k === "user" ? writesOf(x.fn.fn) : undefined;
        x.args.forEach((arg, j) => {
          // (A callee whose summary is unknown, or code adc does not read, may write what it is given.)
          if (arg.k === "var" && arg.ty.k === "arr" && (x.fn.k !== "user" || !w || w.has(j))) add(arg.name);
        });
      });
  });
  return out;
}
