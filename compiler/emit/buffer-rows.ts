/**
 * Adjoint arrays as slices of a caller's buffer (jacrevInto): a reverse sweep that accumulates
 * `x_bar[e] += ...` can accumulate `J[x_bar_at + e] += ...` instead, straight into the row of the
 * Jacobian, so that no adjoint array is made per row. That holds for an adjoint the sweep only
 * indexes; one it passes whole to a call (`addInto(x_bar, y_bar)`), reads the length of or
 * declares itself stays an array, and the caller copies it into the row.
 */
import { F64, type Expr, type Param, type Stmt } from "../ir/ir.js";
import type { Adjoint } from "../diff/reverse/index.js";
import type { Code } from "./code.js";
import { RT } from "./names.js";
import { bin, name, neg, num } from "../ir/make.js";
import { ifStmt } from "../diff/build-ir.js";
import { forEachChildExpr, forEachExpr, forEachStmt, mapExpr, mapStmtExprs, mapStmtLists, stmtExprs } from "../ir/walk.js";
import { printExpr } from "../ir/print.js";

/**
 * `stmts` with every indexing of an adjoint in `bars` (adjoint name -> the variable holding its
 * first entry's position in `buffer`) made an indexing of `buffer`, for the adjoints that are
 * only indexed; `moved` names those.
 */
export function barsIntoBuffer(stmts: readonly Stmt[], bars: ReadonlyMap<string, string>, buffer: string): { stmts: Stmt[]; moved: ReadonlySet<string> } {
  const moved = new Set(bars.keys());
  // Any other use keeps the array: a whole read, or a declaration of its own.
  forEachStmt(stmts, (s) => {
    if (s.k === "let") moved.delete(s.name);
    if (s.k === "assign" && s.target.k === "var") moved.delete(s.target.name);
    for (const e of stmtExprs(s)) wholeUses(e, moved);
  });
  if (!moved.size) return { stmts: [...stmts], moved };
  const at = (arr: string, idx: Expr): Expr => bin("+", name(bars.get(arr)!), idx);
  const rewriteExpr = (e: Expr): Expr =>
    mapExpr(e, (x) => (x.k === "index" && x.arr.k === "var" && moved.has(x.arr.name) ? { ...x, arr: name(buffer, F64), idx: at(x.arr.name, rewriteExpr(x.idx)) } : undefined));
  const rewrite = (list: readonly Stmt[]): Stmt[] =>
    list.map((s) => {
      // mapStmtExprs maps the nested statements' expressions too; rewriting them again is a no-op
      // (the buffer is no adjoint), and what mapStmtLists adds is their targets.
      let t = mapStmtLists(mapStmtExprs(s, rewriteExpr), rewrite);
      if (t.k === "assign" && t.target.k === "index" && moved.has(t.target.arr)) t = { ...t, target: { ...t.target, arr: buffer, arrTy: F64, idx: at(t.target.arr, t.target.idx) } };
      return t;
    });
  return { stmts: rewrite(stmts), moved };
}

/** Drops from `moved` every adjoint `e` reads other than as the array it indexes. */
function wholeUses(e: Expr, moved: Set<string>): void {
  if (e.k === "var") moved.delete(e.name);
  else if (e.k === "index" && e.arr.k === "var") wholeUses(e.idx, moved);
  else forEachChildExpr(e, (x) => wholeUses(x, moved));
}

/** jacrevInto's buffer: its names, and the code that starts and ends each row. */
export interface RowBuffer {
  readonly J: string;
  readonly offset: string;
  /** The number of columns, and the expression computing it from the arguments. */
  readonly n: string;
  readonly width: string;
  readonly stmts: Stmt[];
  readonly moved: ReadonlySet<string>;
  /** Row `i`'s position, the row zeroed, the moved adjoints' first entries placed in it. */
  startRow(c: Code, i: string): void;
  /** The rest of the row: number adjoints, and the array adjoints that stayed arrays. */
  endRow(c: Code, grads: readonly string[]): void;
}

/**
 * The buffer of jacrevInto for f's parameters `qs` (numbers and arrays), given the cleaned
 * reverse sweep: the sweep with its array adjoints moved into the buffer where it can be.
 */
export function intoBuffer(qs: readonly Param[], adj: Adjoint, rev: readonly Stmt[]): RowBuffer {
  const fresh = (b: string): string => adj.namer.fresh(b, false);
  const J = fresh("J");
  const offset = fresh("offset");
  const n = fresh("n");
  const row = fresh("row");
  const j = fresh("j");
  // Each parameter's first column: the widths before it (a number's 1, an array's length).
  const widths = qs.map((q) => (q.ty.k === "num" ? 1 : `${q.name}.length`));
  const cols = qs.map((_, k) => sumText(widths.slice(0, k)));
  const bases = new Map(qs.filter((q) => q.ty.k === "arr").map((q) => [adj.bar(q.name), fresh(`${q.name}_at`)] as const));
  const intoRows = barsIntoBuffer(rev, bases, J);
  const moved = intoRows.moved;
  const first = firstWrites(intoRows.stmts, new Set([...moved].map((b) => bases.get(b)!)), J);
  const written = first.written;
  // The other writes land in the row only for an entry the argument has: a function that reads
  // past an array's end (x[i], i >= x.length) would otherwise reach another argument's columns.
  const lengthOf = new Map(qs.filter((q) => moved.has(adj.bar(q.name))).map((q) => [bases.get(adj.bar(q.name))!, q] as const));
  const stmts = guardWrites(first.stmts, lengthOf, J, first.firsts);
  const at = (k: number): string => (cols[k] === "0" ? row : `${row} + ${cols[k]}`);
  return {
    J, offset, n, stmts, moved,
    width: sumText(widths),
    startRow(c, i) {
      c.line(`const ${row} = ${i === "0" ? offset : `${offset} + ${i} * ${n}`};`);
      qs.forEach((q, k) => {
        const b = adj.bar(q.name);
        if (!moved.has(b)) return;
        const base = bases.get(b)!;
        c.line(`const ${base} = ${at(k)};`);
        // The entries the sweep does not set by its first write start at zero. (Number
        // adjoints and the arrays that stayed arrays are stored whole at the end of the row.)
        const w = written.get(base) ?? [];
        const last = w.length ? Math.max(...w) : -1;
        if (last >= 0) c.line(`if (${q.name}.length <= ${last}) ${RT}.jacobianIndexError(${JSON.stringify(q.name)}, ${last}, ${q.name}.length);`);
        for (let g = 0; g < last; g++) if (!w.includes(g)) c.line(`${J}[${base} + ${g}] = 0;`);
        c.line(`for (let ${j} = ${last + 1}; ${j} < ${q.name}.length; ${j}++) ${J}[${base} + ${j}] = 0;`);
      });
    },
    endRow(c, grads) {
      qs.forEach((q, k) => {
        if (q.ty.k === "num") c.line(`${J}[${at(k)}] = ${grads[k]};`);
        else if (!moved.has(adj.bar(q.name))) c.line(`${J}.set(${grads[k]}, ${at(k)});`);
      });
    },
  };
}

/** `a.length + b.length + 2` for widths [a.length, 1, b.length, 1]; "0" for none. */
export function sumText(widths: readonly (number | string)[]): string {
  const ones = widths.filter((w) => w === 1).length;
  const terms = widths.filter((w): w is string => typeof w === "string");
  return [...terms, ...(ones ? [String(ones)] : [])].join(" + ") || "0";
}

/**
 * Why: the row's entries must start at zero for the sweep's `J[x_at + k] += v`, and zeroing a
 * whole row before each sweep cost a fifth of a small Jacobian block. A top-level `J[x_at + k] += v`
 * (k a literal) that is the first access to that entry is its only write so far: it becomes
 * `J[x_at + k] = v`, and the entry need not be zeroed. `written` lists those entries per base.
 */
function firstWrites(stmts: readonly Stmt[], bases: ReadonlySet<string>, buffer: string): { stmts: Stmt[]; written: ReadonlyMap<string, number[]>; firsts: ReadonlySet<Stmt> } {
  const written = new Map<string, number[]>();
  const firsts = new Set<Stmt>();
  const seen = new Set<string>();
  // `base + k` for a literal k: the entry; `base + e` otherwise: every entry of base.
  const entryOf = (idx: Expr): { base: string; k?: number } | undefined =>
    idx.k === "bin" && idx.op === "+" && idx.l.k === "var" && bases.has(idx.l.name) ? { base: idx.l.name, ...(idx.r.k === "num" ? { k: idx.r.v } : {}) } : undefined;
  const touch = (idx: Expr): void => {
    const e = entryOf(idx);
    if (e) seen.add(e.k === undefined ? e.base : `${e.base}[${e.k}]`);
    // (An index of the buffer that names no base reaches no adjoint row.)
  };
  const untouched = (base: string, k: number): boolean => !seen.has(base) && !seen.has(`${base}[${k}]`);
  const touches = (s: Stmt): void =>
    forEachStmt([s], (t) => {
      if (t.k === "assign" && t.target.k === "index" && t.target.arr === buffer) touch(t.target.idx);
      for (const e of stmtExprs(t)) forEachExpr(e, (x) => void (x.k === "index" && x.arr.k === "var" && x.arr.name === buffer && touch(x.idx)));
    });
  const readsBuffer = (e: Expr): boolean => {
    let found = false;
    forEachExpr(e, (x) => void (x.k === "var" && x.name === buffer && (found = true)));
    return found;
  };
  const out = stmts.map((s) => {
    if (s.k === "assign" && s.target.k === "index" && s.target.arr === buffer) {
      const e = entryOf(s.target.idx);
      // `J[i] += v` is written either with op "+" or as `J[i] = J[i] + v`.
      const inc = s.op === "+" ? s.value : elementStep(s.value, s.target.idx, buffer);
      if (e && e.k !== undefined && inc && !readsBuffer(inc) && untouched(e.base, e.k)) {
        (written.get(e.base) ?? written.set(e.base, []).get(e.base)!).push(e.k);
        seen.add(`${e.base}[${e.k}]`);
        const { op: _op, ...plain } = s;
        const w: Stmt = { ...plain, value: inc };
        firsts.add(w);
        return w;
      }
    }
    touches(s);
    return s;
  });
  return { stmts: out, written, firsts };
}

/**
 * Every write `J[base + e]` not made a first write, under `if (e >= 0 && e < x.length)` (x the
 * argument whose row entries start at base): an array adjoint ignored such writes, the buffer
 * would not.
 */
function guardWrites(stmts: readonly Stmt[], lengthOf: ReadonlyMap<string, Param>, buffer: string, firsts: ReadonlySet<Stmt>): Stmt[] {
  return stmts.map(function guard(s): Stmt {
    if (s.k === "assign" && s.target.k === "index" && s.target.arr === buffer && !firsts.has(s)) {
      const idx = s.target.idx;
      const q = idx.k === "bin" && idx.op === "+" && idx.l.k === "var" ? lengthOf.get(idx.l.name) : undefined;
      if (!q) return s;
      const e = idx.k === "bin" ? idx.r : idx;
      const len: Expr = { k: "len", arr: name(q.name, q.ty), pos: s.pos };
      const inRange = bin("<", e, len);
      const cond = e.k === "num" ? inRange : bin("&&", bin(">=", e, num(0)), inRange);
      return ifStmt(cond, [s], [], s.pos);
    }
    return mapStmtLists(s, (l) => l.map(guard));
  });
}

/** `v` for `J[i] + v` (and `-v` for `J[i] - v`) at the same index i; undefined otherwise. */
function elementStep(value: Expr, idx: Expr, buffer: string): Expr | undefined {
  if (value.k !== "bin" || (value.op !== "+" && value.op !== "-") || value.l.k !== "index") return undefined;
  const old = value.l;
  if (old.arr.k !== "var" || old.arr.name !== buffer || printExpr(old.idx) !== printExpr(idx)) return undefined;
  return value.op === "+" ? value.r : neg(value.r);
}
