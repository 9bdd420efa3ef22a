/**
 * The cleanup pass over generated IR (a reverse sweep), run before printing:
 *
 * - copy propagation: `const a_bar = b_bar;` (or `= 1`) disappears and its uses read `b_bar`,
 *   when nothing writes `b_bar` before the last use (a copy taken before `b_bar = 0` stays);
 * - folding of factors of one: `e * 1`, `1 * e`, `e / 1` are `e`, `e * -1` is `-e` and `-(1)` is
 *   `-1` (exact in floating point; zero factors are not folded, since 0 * Infinity is NaN);
 * - dead stores: a write to a variable that nothing reads afterwards is dropped when its value
 *   has no effect (no call but Math functions and the runtime's pure adjoint helpers); inside a
 *   loop everything the loop reads counts as read afterwards;
 * - empty adjoints: a `// adjoint of:` comment with no statement under it.
 *
 * `liveOut`: the variables read after the statements (the function's results).
 */
import type { Expr, Stmt } from "../ir/ir.js";
import { foldExpr, forEachExpr, forEachStmt, mapExpr, mapStmtExprs, mapStmtLists, stmtExprs, stmtLists } from "../ir/walk.js";
import { neg, num } from "../ir/make.js";

/** Runtime helpers without effects: calling them only computes a value. */
const PURE_RT = new Set(["ndAcc", "ndVjp", "ndVjpNum", "zerosLike", "barOf", "ndZerosLike"]);

export function cleanup(stmts: readonly Stmt[], liveOut: ReadonlySet<string>): Stmt[] {
  // (Statements from the caller are fresh to this run: the memos hold only what it builds.)
  readMemo = new WeakMap();
  writeMemo = new WeakMap();
  // Folding can make a copy (`x * 1` is `x`), and a copy can make a factor of one.
  let out = [...stmts];
  for (let n = Infinity; count(out) < n; ) {
    n = count(out);
    out = propagateCopies(out).map(foldStmt);
  }
  // Dropping a read can make a write dead (`y_bar += x_bar` gone, `x_bar = 0` in a loop next).
  for (let n = count(out), before = Infinity; n < before; before = n, n = count(out)) out = deadStores(out, new UndoSet(liveOut), mentioned(out));
  return dropEmptyAdjoints(out);
}

// ---- copy propagation ---------------------------------------------------------------------

/**
 * One pass over the list with an index of which statements read and write each variable, so a
 * copy costs the statements that use it, not the whole rest of the list (a 3,000-term sum made
 * this pass quadratic).
 */
function propagateCopies(list: readonly Stmt[]): Stmt[] {
  const out = list.map((s) => mapStmtLists(s, propagateCopies));
  const reads = new Map<string, number[]>();
  const writes = new Map<string, number[]>();
  const note = (index: Map<string, number[]>, v: string, j: number): void => {
    const at = index.get(v);
    if (!at) index.set(v, [j]);
    else if (!at.includes(j)) {
      at.push(j);
      at.sort((x, y) => x - y);
    }
  };
  out.forEach((s, j) => {
    for (const v of varsRead(s)) note(reads, v, j);
    for (const v of varsWritten(s)) note(writes, v, j);
  });
  const dropped = new Set<number>();
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (s.k !== "let" || !s.isConst || !s.init || (s.init.k !== "var" && s.init.k !== "num")) continue;
    const copy = s.name;
    const source = s.init;
    const uses = (reads.get(copy) ?? []).filter((j) => j > i && !dropped.has(j));
    if (source.k === "var") {
      // Every read of the copy must come before anything writes the source; a compound
      // statement (a loop) that does both may write first.
      const firstWrite = (writes.get(source.name) ?? []).find((j) => j > i) ?? Infinity;
      const compound = (j: number): boolean => out[j].k === "if" || out[j].k === "loop" || out[j].k === "block";
      if (uses.some((j) => j > firstWrite || (j === firstWrite && compound(j)))) continue;
    }
    // A literal tested for truth (`3 || v`, `!3`) is an error under strict TypeScript (TS2872).
    if (source.k === "num" && testedForTruth(uses.map((j) => out[j]), copy)) continue;
    for (const j of uses) {
      out[j] = substitute(out[j], copy, source);
      if (source.k === "var") {
        note(reads, source.name, j);
        // Handing the source to a call now counts as writing it.
        if (varsWritten(out[j]).has(source.name)) note(writes, source.name, j);
      }
    }
    dropped.add(i);
  }
  return out.filter((_, j) => !dropped.has(j));
}

/** Whether `v` is read as an operand of && || ?? or ! (where a literal would always be truthy). */
function testedForTruth(rest: readonly Stmt[], v: string): boolean {
  let found = false;
  const isV = (e: Expr): boolean => e.k === "var" && e.name === v;
  forEachStmt(rest, (s) => {
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k === "bin" && (x.op === "&&" || x.op === "||" || x.op === "??") && (isV(x.l) || isV(x.r))) found = true;
        if (x.k === "un" && x.op === "!" && isV(x.e)) found = true;
      });
    if ((s.k === "if" && isV(s.cond)) || (s.k === "loop" && s.cond && isV(s.cond))) found = true;
  });
  return found;
}

/**
 * The variables a statement reads, nested statements included (a compound assignment and an
 * element write read theirs). Remembered per statement object and built from the statements
 * inside, so nested loops are not re-walked from each enclosing level (IR is never mutated).
 */
function varsRead(s: Stmt): ReadonlySet<string> {
  return nestedUnion(s, readMemo, (x, found) => {
    for (const e of stmtExprs(x)) forEachExpr(e, (y) => void (y.k === "var" && found.add(y.name)));
    if (x.k === "assign" && x.target.k === "var" && x.op) found.add(x.target.name);
    if (x.k === "assign" && x.target.k === "index") found.add(x.target.arr);
  });
}
let readMemo = new WeakMap<Stmt, ReadonlySet<string>>();

/** The variables a statement writes: assigns, declares, or hands to a call that may write into it (an array adjoint). */
function varsWritten(s: Stmt): ReadonlySet<string> {
  return nestedUnion(s, writeMemo, (x, found) => {
    if (x.k === "assign" && x.target.k === "var") found.add(x.target.name);
    if (x.k === "assign" && x.target.k === "index") found.add(x.target.arr);
    if (x.k === "let") found.add(x.name);
    for (const e of stmtExprs(x)) forEachExpr(e, (y) => void (y.k === "call" && y.args.forEach((a) => a.k === "var" && found.add(a.name))));
  });
}
let writeMemo = new WeakMap<Stmt, ReadonlySet<string>>();

/**
 * What `own` finds in the statement itself and in every statement inside it; remembered in
 * `memo` for statements that hold others (a flat one is cheaper to look at again).
 */
function nestedUnion(s: Stmt, memo: WeakMap<Stmt, ReadonlySet<string>>, own: (x: Stmt, into: Set<string>) => void): ReadonlySet<string> {
  const lists = stmtLists(s);
  let found = lists.length ? (memo.get(s) as Set<string> | undefined) : undefined;
  if (found) return found;
  found = new Set<string>();
  own(s, found);
  for (const list of lists)
    for (const x of list) {
      if (stmtLists(x).length) for (const v of nestedUnion(x, memo, own)) found.add(v);
      else own(x, found);
    }
  if (lists.length) memo.set(s, found);
  return found;
}

function substitute(s: Stmt, v: string, by: Expr): Stmt {
  return mapStmtExprs(s, (e) => mapExpr(e, (x) => (x.k === "var" && x.name === v ? by : undefined)));
}

// ---- folding --------------------------------------------------------------------------------

function foldStmt(s: Stmt): Stmt {
  return mapStmtExprs(s, (e) => foldExpr(e, fold));
}

function fold(e: Expr): Expr {
  if (e.k === "un" && e.op === "-" && e.e.k === "num") return num(-e.e.v);
  if (e.k !== "bin") return e;
  if (e.op === "*" && isNumber(e.r, 1)) return e.l;
  if (e.op === "*" && isNumber(e.l, 1)) return e.r;
  if (e.op === "/" && isNumber(e.r, 1)) return e.l;
  // A factor of -1 is a negation (exact too).
  if (e.op === "*" && isNumber(e.r, -1)) return neg(e.l);
  if (e.op === "*" && isNumber(e.l, -1)) return neg(e.r);
  return e;
}

function isNumber(x: Expr, v: number): boolean {
  return x.k === "num" && x.v === v;
}

// ---- dead stores ----------------------------------------------------------------------------

/**
 * Drops writes nothing reads later; `live` holds what is read after `list` (and is updated to
 * what is read before it). A declaration goes only with every other mention of its variable
 * (`written` lists the variables still assigned). A nested list works on `live` and then undoes
 * its changes, rather than on a copy: the set holds most of a long function's variables.
 */
function deadStores(list: readonly Stmt[], live: UndoSet, written: ReadonlySet<string>): Stmt[] {
  const out: Stmt[] = [];
  // A break or continue goes somewhere this backward walk does not follow (past the rest of a
  // labelled block, an inlined callee's early return): before one, anything may be read. (Reverse
  // sweeps are structurized and have none; tangent functions keep the user's jumps.)
  if (hasJump(list)) for (const v of written) live.add(v);
  for (let i = list.length - 1; i >= 0; i--) {
    const s = list[i];
    const target = s.k === "assign" && s.target.k === "var" ? s.target.name : s.k === "let" && s.init ? s.name : undefined;
    const value = s.k === "assign" ? s.value : s.k === "let" ? s.init : undefined;
    const dead = target !== undefined && value && !live.has(target) && pure(value) && !(s.k === "let" && written.has(target));
    // (A part of a parameter's adjoint, `p_bar.w`, is written as a dotted name: never dropped.)
    if (dead && !target.includes(".")) continue;
    switch (s.k) {
      case "if": {
        const then = live.scoped(() => deadStores(s.then, live, written));
        const els = live.scoped(() => deadStores(s.else, live, written));
        const kept = { ...s, then, else: els };
        for (const v of varsRead(kept)) live.add(v);
        out.push(kept);
        continue;
      }
      case "loop": {
        // Any iteration may read what any other writes: everything the loop reads is live.
        const kept = {
          ...s,
          body: live.scoped(() => {
            for (const v of varsRead(s)) live.add(v);
            return deadStores(s.body, live, written);
          }),
        };
        for (const v of varsRead(kept)) live.add(v);
        out.push(kept);
        continue;
      }
      case "block": {
        const kept = { ...s, body: live.scoped(() => deadStores(s.body, live, written)) };
        for (const v of varsRead(kept)) live.add(v);
        out.push(kept);
        continue;
      }
    }
    if (s.k === "assign" && s.target.k === "var" && !s.op) live.delete(s.target.name);
    for (const v of varsRead(s)) live.add(v);
    out.push(s);
  }
  return out.reverse();
}

function hasJump(list: readonly Stmt[]): boolean {
  let jump = false;
  forEachStmt(list, (s) => void ((s.k === "break" || s.k === "continue") && (jump = true)));
  return jump;
}

/** A set whose changes inside `scoped` are undone when it ends. */
class UndoSet {
  private readonly items: Set<string>;
  private readonly log: { v: string; had: boolean }[] = [];
  private depth = 0;
  constructor(init: Iterable<string>) {
    this.items = new Set(init);
  }
  has(v: string): boolean {
    return this.items.has(v);
  }
  add(v: string): void {
    if (this.depth && !this.items.has(v)) this.log.push({ v, had: false });
    this.items.add(v);
  }
  delete(v: string): void {
    if (this.depth && this.items.has(v)) this.log.push({ v, had: true });
    this.items.delete(v);
  }
  scoped<T>(f: () => T): T {
    const mark = this.log.length;
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
      while (this.log.length > mark) {
        const e = this.log.pop()!;
        if (e.had) this.items.add(e.v);
        else this.items.delete(e.v);
      }
    }
  }
}

/** Statements, nested ones included. */
function count(list: readonly Stmt[]): number {
  let n = 0;
  forEachStmt(list, () => n++);
  return n;
}

/** Variables assigned anywhere in the statements (their declarations must stay). */
function mentioned(list: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  forEachStmt(list, (x) => {
    if (x.k === "assign" && x.target.k === "var") out.add(x.target.name);
  });
  return out;
}

function pure(e: Expr): boolean {
  let ok = true;
  forEachExpr(e, (x) => {
    if (x.k !== "call") return;
    if (x.fn.k === "prim" || (x.fn.k === "rt" && PURE_RT.has(x.fn.name))) return;
    ok = false;
  });
  return ok;
}


// ---- empty adjoints -------------------------------------------------------------------------

function dropEmptyAdjoints(list: readonly Stmt[]): Stmt[] {
  const out = list.map((s) => mapStmtLists(s, dropEmptyAdjoints));
  return out.filter((s, i) => !(s.k === "comment" && s.text.startsWith("adjoint of:") && (i + 1 === out.length || out[i + 1].k === "comment")));
}
