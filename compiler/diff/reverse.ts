/**
 * Reverse mode: the adjoint of a function, as one fused function (forward sweep, then reverse
 * sweep) or as a split pair (`f_fwd` records, `f_rev` replays) for calls from other adjoints.
 *
 * The forward sweep is the primal code (jumps removed by `structurize`) plus records:
 * - a branch record per `if` and a trip count per loop whose reverse has work; outside loops in
 *   a fused function these are plain locals (`_br0`, `_n0`), elsewhere they go on the tape;
 * - the old value of a variable (or array element) just before it is overwritten, when the
 *   reverse sweep reads that variable ("to be recorded", docs/design.md). The reverse sweep
 *   restores it at the same point, so there every variable holds the value it had at the
 *   matching point of the forward sweep, and adjoint statements read primal variables directly.
 * The reverse sweep visits statements backwards: each active `v = op(a, b)` becomes
 * `a_bar += v_bar * da; b_bar += v_bar * db`, each `if` pops its branch record, each loop pops its
 * trip count (a counted `for` recounts its index instead of recording it).
 *
 * Which variables the reverse sweep reads is only known once it is written, and restoring a
 * variable can make the sweep read more (an array element's index). So the emitter runs to a
 * fixed point: emit with a guess of the read set, collect what was read, repeat until stable.
 * Both sweeps are IR (statement lists), printed by ir/print-stmt.ts.
 */
import { RT, type Namer } from "../emit/names.js";
import { operands, ruleArgs, ruleName } from "../emit/terms.js";
import { bin, free, GEN, isNum, name, neg, num, scale } from "../ir/make.js";
import { BOOL, F64, NUM, NUMARR, originText, type Expr, type FnId, type Loop, type Pos, type Stmt, type Ty } from "../ir/ir.js";
import { barInPlace, isDiffTy, isTree } from "../ir/ir.js";
import { paren, printExpr, printTy } from "../ir/print.js";
import { assignText, elementIncrement } from "../ir/print-stmt.js";
import { assign, assignAt, block, comment as commentStmt, decl, exprStmt, ifStmt, increment, lane, ndOperands, rt, tyText } from "./build-ir.js";
import { structurize } from "../ir/structurize.js";
import { forEachChildExpr, forEachExpr, forEachStmt, reads, stmtExprs } from "../ir/walk.js";
import { findRemat, type Remat } from "../analysis/remat.js";
import { linearSelfUpdate } from "../ir/anf.js";
import { fnKey } from "../analysis/summaries.js";
import { scalarRule } from "../rules/scalar.js";
import { callMask, type Prepared, type Specializer } from "./prepare.js";

export type AdjointMode = "fused" | "split";

export interface Adjoint {
  /** Declarations hoisted to the top of the function (variables the reverse sweep reads). */
  readonly hoisted: Stmt[];
  readonly fwd: Stmt[];
  /** Split mode: the snapshot pushed at the end of the forward sweep. */
  readonly snapshotPush: Stmt[];
  /** Split mode: the snapshot popped at the start of the reverse sweep. */
  readonly snapshotPop: Stmt[];
  /** Adjoint variable declarations (at the start of the reverse sweep). */
  readonly barDecls: Stmt[];
  readonly rev: Stmt[];
  /** The atom the function returns (null for void). */
  readonly output: Expr | null;
  /** Whether the output carries a derivative. */
  readonly outputActive: boolean;
  readonly namer: Namer;
  bar(name: string): string;
}

/**
 * `needValue`: whether the caller uses the function's value (valueAndGrad, the split forward
 * sweep); when it does not (grad), forward-sweep code that only computes the value is dropped.
 */
export function emitAdjoint(p: Prepared, spec: Specializer, mode: AdjointMode, outBar: string | readonly string[], base: Namer, needValue = true): Adjoint {
  const s = structurize(p.body, p.fn.ret, (b, numbered) => base.fresh(b, numbered));
  // Arrays are shared by reference, so their contents must be right whenever anyone's reverse
  // sweep reads them. A recording version (split mode) therefore saves and restores every element
  // it writes into an array parameter: its caller may read that array's contents in reverse.
  let R = new Set<string>(mode === "split" ? p.fn.params.filter((q) => q.ty.k === "arr").map((q) => q.name) : []);
  // Where (at which top-level statement) each variable is read by the reverse sweep; an array
  // parameter of a recording version counts as read before everything (its caller's reads).
  let sites = new Map<string, Set<number>>([...R].map((v) => [v, new Set([-1])]));
  let readers = new Map<string, Set<Stmt | null>>([...R].map((v) => [v, new Set([null])]));
  for (let round = 0; ; round++) {
    const em = new ReverseEmitter(p, spec, mode, s.body, s.retVar, R, base.clone(), outBar, needValue, sites, readers);
    const result = em.run();
    const grew = [...em.sites].some(([v, at]) => [...at].some((t) => !sites.get(v)?.has(t))) || [...em.readers].some(([v, at]) => [...at].some((t) => !readers.get(v)?.has(t)));
    if ((!grew && [...em.reads].every((v) => R.has(v))) || round > 20) return result;
    R = new Set([...R, ...em.reads]);
    const merged = new Map([...sites].map(([v, at]) => [v, new Set(at)]));
    for (const [v, at] of em.sites) for (const t of at) (merged.get(v) ?? merged.set(v, new Set()).get(v)!).add(t);
    sites = merged;
    const mergedReaders = new Map([...readers].map(([v, at]) => [v, new Set(at)]));
    for (const [v, at] of em.readers) for (const t of at) (mergedReaders.get(v) ?? mergedReaders.set(v, new Set()).get(v)!).add(t);
    readers = mergedReaders;
  }
}

interface Rec {
  /** A local's name, or null when the record goes on the tape. */
  local: string | null;
}

class ReverseEmitter {
  readonly reads = new Set<string>();
  private readonly recs = new Map<Stmt, Rec>();
  private readonly counterScope = new Set<string>();
  private readonly lastOrigin = new Map<Stmt[], Pos | undefined>();
  /** The position of the user statement whose derivative is being written (its statements get it). */
  private here: Pos = GEN;
  private readonly remat: Remat;
  /**
   * Temporaries with one definition and one use, next to each other in one statement list: their
   * adjoint gets exactly one contribution, so it is a `const` declared where that contribution is
   * made, not an accumulator declared at the top and reset.
   */
  private readonly singleUse = new Set<string>();
  /**
   * Temporaries defined by one cheap operation and used once, right after, in the same statement
   * list, with nothing in between changing what they read: the reverse sweep recomputes them where
   * their use's adjoint needs them, instead of saving them. Their operands must then be right at
   * that point, which the restore invariant gives (they join the read set).
   */
  private readonly atUse = new Map<string, Expr>();
  /** At-use temporaries read while writing the current statement's adjoint. */
  private atUseRead: Set<string> | null = null;
  /** Recomputed variables the reverse sweep has read (their loop's prologue defines them). */
  private readonly rematUsed = new Set<string>();
  private readonly defs = new Map<string, Stmt[]>();
  private readonly inLoop = new Set<Stmt>();
  private readonly topDecl = new Set<string>();
  private readonly params: Set<string>;
  private readonly retActive: boolean;
  private readonly vars: Map<string, Ty>;
  private output: Expr | null = null;

  constructor(
    private readonly p: Prepared,
    private readonly spec: Specializer,
    private readonly mode: AdjointMode,
    private readonly body: readonly Stmt[],
    private readonly retVar: string | null,
    private readonly R: ReadonlySet<string>,
    private readonly namer: Namer,
    private readonly outBar: string | readonly string[],
    private readonly needValue: boolean,
    /** Read sites found by the previous round (see `skippableSave`). */
    private readonly prevSites: ReadonlyMap<string, ReadonlySet<number>>,
    /** The statements whose adjoints read each variable, found by the previous round (null: at the end). */
    private readonly prevReaders: ReadonlyMap<string, ReadonlySet<Stmt | null>>,
  ) {
    this.params = new Set(p.fn.params.map((q) => q.name));
    this.vars = new Map(p.vars);
    for (const st of body) if (st.k === "let" && !this.vars.has(st.name)) this.vars.set(st.name, st.ty);
    let retActive = false;
    forEachStmt(body, (st) => {
      if (retVar && st.k === "assign" && st.target.k === "var" && st.target.name === retVar && p.isActiveAtom(st.value)) retActive = true;
    });
    this.retActive = retActive;
    this.indexDefs(body, false);
    body.forEach((st, i) => forEachStmt([st], (x) => this.topOf.set(x, i)));
    this.indexParents(body, null);
    for (const st of body) if (st.k === "let") this.topDecl.add(st.name);
    const mutated = new Set<string>();
    forEachStmt(body, (st) => {
      for (const e of stmtExprs(st))
        forEachExpr(e, (x) => {
          if (x.k !== "call" || x.fn.k !== "user") return;
          const m = spec.mutations.get(fnKey(x.fn.fn));
          x.args.forEach((a, j) => m?.has(j) && a.k === "var" && mutated.add(a.name));
        });
    });
    this.remat = findRemat(body, p.fn.params.map((q) => q.name), mutated, (l) => this.counterFor(l)?.name);
    this.findSingleUse(body);
    this.findIndexVars(body);
    this.findAtUse(body);
  }

  // ---- facts about the body ---------------------------------------------------------------

  private isActive(n: string): boolean {
    return this.p.isActive(n) || (n === this.retVar && this.retActive);
  }

  private isActiveAtom(e: Expr): boolean {
    return e.k === "var" && this.isActive(e.name);
  }

  private ty(n: string): Ty {
    return this.vars.get(n) ?? { k: "num" };
  }

  private indexDefs(stmts: readonly Stmt[], loop: boolean): void {
    for (const s of stmts) {
      if (loop) this.inLoop.add(s);
      const def = (n: string): void => {
        const l = this.defs.get(n) ?? [];
        l.push(s);
        this.defs.set(n, l);
      };
      if (s.k === "let" && s.init) def(s.name);
      if (s.k === "assign" && s.target.k === "var") def(s.target.name);
      if (s.k === "if") {
        this.indexDefs(s.then, loop);
        this.indexDefs(s.else, loop);
      }
      if (s.k === "block") this.indexDefs(s.body, loop);
      if (s.k === "loop") {
        this.indexDefs(s.init, loop);
        this.indexDefs(s.body, true);
        this.indexDefs(s.update, true);
      }
    }
  }

  /** Whether this definition may overwrite a value some other part of the sweep needs. */
  private overwrites(site: Stmt, v: string): boolean {
    return this.inLoop.has(site) || this.defs.get(v)?.[0] !== site || this.params.has(v);
  }

  private needsSave(site: Stmt, v: string): boolean {
    return this.R.has(v) && !this.counterScope.has(v) && this.overwrites(site, v) && !this.skippableSave(site, v) && this.inverseOf(site, v) === undefined;
  }

  /** Index variables: used only as whole array indices and in their own integer steps. */
  private readonly indexVars = new Set<string>();

  /**
   * `i = i + 1` on an index variable is undone by `i = i - 1` instead of a saved value: an index
   * is an integer (an array read at a non-integer index would already make the result NaN), and
   * integer steps below 2^53 are exact. Returns the undoing statement's text.
   */
  private inverseOf(site: Stmt, v: string): Stmt | undefined {
    if (!this.indexVars.has(v) || site.k !== "assign" || site.target.k !== "var") return undefined;
    const e = site.value;
    if (e.k !== "bin" || (e.op !== "+" && e.op !== "-") || e.l.k !== "var" || e.l.name !== v || e.r.k !== "num" || !Number.isInteger(e.r.v)) return undefined;
    return assign(v, bin(e.op === "+" ? "-" : "+", name(v), e.r), site.pos);
  }

  private findIndexVars(body: readonly Stmt[]): void {
    const candidates = new Set<string>();
    const bad = new Set<string>();
    const visit = (e: Expr, asIndex: boolean): void => {
      if (e.k === "var") {
        (asIndex ? candidates : bad).add(e.name);
        return;
      }
      if (e.k === "index") {
        visit(e.arr, false);
        visit(e.idx, true);
        return;
      }
      if (e.k === "bin" && ["<", "<=", ">", ">=", "===", "!=="].includes(e.op)) {
        // Comparisons (loop tests) do not need integers but do not break them either.
        for (const x of [e.l, e.r]) if (x.k === "var") candidates.add(x.name);
        else visit(x, false);
        return;
      }
      forEachChildExpr(e, (x) => visit(x, false));
    };
    forEachStmt(body, (st) => {
      if (st.k === "assign" && st.target.k === "var" && st.value.k === "bin" && st.value.l.k === "var" && st.value.l.name === st.target.name && st.value.r.k === "num") return; // its own step
      if (st.k === "assign" && st.target.k === "index") visit(st.target.idx, true);
      for (const e of stmtExprs(st)) if (!(st.k === "assign" && st.target.k === "index" && e === st.target.idx)) visit(e, false);
    });
    for (const v of candidates) if (!bad.has(v) && !this.isActive(v) && this.ty(v).k === "num") this.indexVars.add(v);
  }

  /**
   * An overwrite inside a loop need not be saved when every reverse-sweep read of the variable
   * comes after that loop: those reads see the loop's final value, and nothing in or before the
   * loop reads the values the loop overwrites (an accumulator `s += t` read only after its loop).
   */
  private skippableSave(site: Stmt, v: string): boolean {
    if (!this.inLoop.has(site)) return false;
    const at = this.prevSites.get(v);
    const top = this.topOf.get(site);
    if (!at || top === undefined) return false;
    let allAfter = true;
    for (const t of at) if (t <= top) allAfter = false;
    return allAfter || this.resetBeforeLoop(site, v);
  }

  /**
   * The same inside an outer loop: the innermost loop L around the overwrite reads no v in
   * reverse, and earlier in L's statement list v is reset by a plain definition with no reads of v
   * in between (`s = 0; for (...) s += t; ... log(s)`). Then the loop only overwrites values it
   * made itself, which no adjoint reads; the reset is the save that matters.
   */
  private resetBeforeLoop(site: Stmt, v: string): boolean {
    if (this.ty(v).k === "arr") return false;
    const readers = this.prevReaders.get(v);
    if (!readers) return false;
    let loop: Stmt | undefined;
    for (let x = this.parentOf.get(site); x; x = this.parentOf.get(x.stmt)) if (x.stmt.k === "loop") {
      loop = x.stmt;
      break;
    }
    if (!loop) return false;
    const inside = (r: Stmt | null, under: Stmt): boolean => {
      for (let x: Stmt | null = r; x; x = this.parentOf.get(x)?.stmt ?? null) if (x === under) return true;
      return false;
    };
    for (const r of readers) if (r === null ? false : inside(r, loop)) return false;
    const home = this.listOf.get(loop);
    if (!home) return false;
    const k = home.indexOf(loop);
    for (let m = k - 1; m >= 0; m--) {
      const st = home[m];
      for (const r of readers) if (r !== null && inside(r, st)) return false;
      if ((st.k === "assign" && st.target.k === "var" && st.target.name === v) || (st.k === "let" && st.name === v && !!st.init)) return true;
    }
    return false;
  }

  /** Each statement's enclosing statement (if, loop, block) and the list it sits in. */
  private readonly parentOf = new Map<Stmt, { stmt: Stmt }>();
  private readonly listOf = new Map<Stmt, readonly Stmt[]>();

  private indexParents(stmts: readonly Stmt[], parent: Stmt | null): void {
    for (const st of stmts) {
      if (parent) this.parentOf.set(st, { stmt: parent });
      this.listOf.set(st, stmts);
      if (st.k === "if") {
        this.indexParents(st.then, st);
        this.indexParents(st.else, st);
      } else if (st.k === "loop") {
        this.indexParents(st.init, st);
        this.indexParents(st.body, st);
        this.indexParents(st.update, st);
      } else if (st.k === "block") this.indexParents(st.body, st);
    }
  }

  /** The statement whose adjoint is being written (null outside statements). */
  private currentStmt: Stmt | null = null;
  readonly readers = new Map<string, Set<Stmt | null>>();

  /** Top-level statement index of every statement (its position in the function body). */
  private readonly topOf = new Map<Stmt, number>();
  /** Where the current adjoint is being written: the top-level statement index (Infinity: after all). */
  private topIndex = Infinity;
  /** Read sites of this round. */
  readonly sites = new Map<string, Set<number>>();

  private hoisted(v: string): boolean {
    if (!this.R.has(v) || this.params.has(v)) return false;
    if (!this.topDecl.has(v)) return true;
    const decl = this.body.find((s) => s.k === "let" && s.name === v) as Extract<Stmt, { k: "let" }> | undefined;
    return !decl?.init;
  }

  /** Whether a statement's reverse has anything to do (so its branch or trip records are needed). */
  private hasWork(s: Stmt): boolean {
    let work = false;
    forEachStmt([s], (x) => {
      if (work) return;
      if (this.savedByCall(x).length) work = true;
      switch (x.k) {
        case "let":
          if (x.init && (this.isActive(x.name) || this.needsSave(x, x.name) || this.callNeedsRev(x.init, null))) work = true;
          break;
        case "assign":
          if (x.target.k === "var" ? this.isActive(x.target.name) || this.needsSave(x, x.target.name) || (this.R.has(x.target.name) && this.inverseOf(x, x.target.name) !== undefined) || this.callNeedsRev(x.value, null) : this.isActive(x.target.arr) || this.R.has(x.target.arr)) work = true;
          break;
        case "expr":
          if (this.callNeedsRev(x.e, null)) work = true;
          break;
      }
    });
    return work;
  }

  /**
   * Arrays the reverse sweep reads that a call of the statement writes without being reversed
   * (its result and its arrays carry no derivative, so the plain function runs): saved whole
   * before the statement and restored after its adjoint, so the sweep reads what it had.
   */
  private savedByCall(s: Stmt): string[] {
    if (s.k !== "let" && s.k !== "assign" && s.k !== "expr") return [];
    const target = s.k === "let" ? s.name : s.k === "assign" && s.target.k === "var" ? s.target.name : null;
    const out: string[] = [];
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k !== "call" || x.fn.k !== "user" || this.callNeedsRev(x, x === e ? target : null)) return;
        const m = this.spec.mutations.get(fnKey(x.fn.fn));
        x.args.forEach((a, j) => {
          if (m?.has(j) && a.k === "var" && this.ty(a.name).k === "arr" && this.R.has(a.name) && !out.includes(a.name)) out.push(a.name);
        });
      });
    return out;
  }

  private isActiveCall(e: Expr): boolean {
    return e.k === "call" && e.fn.k === "user" && e.args.some((a) => this.isActiveAtom(a));
  }

  /**
   * Whether a user call's reverse must run: its result (bound to `target`) has an adjoint, or it
   * writes into an array that has one. Otherwise the forward sweep calls the plain function, so
   * nothing is recorded that no reverse would pop.
   */
  private callNeedsRev(e: Expr, target: string | null): boolean {
    if (!this.isActiveCall(e)) return false;
    if (target !== null && this.isActive(target)) return true;
    const m = this.spec.mutations.get(fnKey((e as { fn: { fn: FnId } }).fn.fn));
    return (e as Extract<Expr, { k: "call" }>).args.some((a, j) => a.k === "var" && !!m?.has(j) && this.isActive(a.name));
  }

  private read(e: Expr | string): void {
    for (const v of typeof e === "string" ? [e] : reads(e)) {
      if (this.counterScope.has(v)) continue;
      if (this.atUse.has(v)) {
        this.atUseRead?.add(v);
        continue;
      }
      if (this.remat.names.has(v)) this.rematUsed.add(v);
      else {
        this.reads.add(v);
        (this.sites.get(v) ?? this.sites.set(v, new Set()).get(v)!).add(this.topIndex);
        (this.readers.get(v) ?? this.readers.set(v, new Set()).get(v)!).add(this.currentStmt);
      }
    }
  }

  private bar(n: string): string {
    return this.namer.bar(n);
  }

  private pushOf(v: string): Stmt {
    return exprStmt(rt(isObjTy(this.ty(v)) ? "tape.pushO" : "tape.pushF", [name(v, this.ty(v))]), this.here);
  }

  private popOf(v: string): Expr {
    const t = this.ty(v);
    return isObjTy(t) ? rt("tape.popO", [], t, [t]) : rt("tape.popF", []);
  }

  // ---- the whole function -----------------------------------------------------------------

  run(): Adjoint {
    this.findNeeded();
    const fwd: Stmt[] = [];
    this.fs(this.body, fwd, false);
    const rev: Stmt[] = [];
    this.here = this.p.fn.pos;
    if (typeof this.outBar !== "string") {
      // A record block: one cotangent per output variable.
      (this.p.fn.outputs ?? []).forEach((o, k) => {
        if (this.isActive(o)) this.accumulate(rev, o, name((this.outBar as readonly string[])[k]));
      });
    } else if (this.output && this.isActiveAtom(this.output)) {
      const out = (this.output as { name: string }).name;
      // `grad` seeds the sweep with the number 1; the others with their cotangent parameter.
      this.accumulate(rev, out, /^\d/.test(this.outBar) ? num(Number(this.outBar)) : name(this.outBar));
    }
    this.rs(this.body, rev, false);

    const at = this.p.fn.pos;
    const hoisted: Stmt[] = [];
    const snapshotPush: Stmt[] = [];
    const snapshotPop: Stmt[] = [];
    const order = [...this.vars.keys()].filter((v) => this.R.has(v) && !this.counterScope.has(v));
    for (const v of order) if (this.hoisted(v)) hoisted.push(hoistDecl(v, this.ty(v), at));
    if (this.mode === "split") {
      this.here = at;
      for (const v of order) snapshotPush.push(this.pushOf(v));
      for (const v of [...order].reverse()) snapshotPop.push(decl(v, this.popOf(v), at));
    }
    const barDecls: Stmt[] = [];
    // Array and object parameters differentiated with respect to get their adjoints from the
    // caller; one that is only written with active values (not a wrt parameter) needs its own.
    const given = new Set(this.p.activeParams.map((q) => q.name));
    for (const [v, t] of this.vars) {
      if (!this.isActive(v) || this.singleUse.has(v) || (given.has(v) && barInPlace(t))) continue;
      barDecls.push(barDecl(this.bar(v), t, v, at));
      if (t.k !== "num") this.read(v);
    }
    return {
      hoisted, fwd, snapshotPush, snapshotPop, barDecls, rev,
      output: this.output,
      outputActive: !!this.output && this.isActiveAtom(this.output),
      namer: this.namer,
      bar: (n) => this.bar(n),
    };
  }

  private findAtUse(body: readonly Stmt[]): void {
    const uses = new Map<string, number>();
    forEachStmt(body, (st) => {
      for (const e of stmtExprs(st)) forEachExpr(e, (x) => x.k === "var" && uses.set(x.name, (uses.get(x.name) ?? 0) + 1));
    });
    // Temporaries that prologue recomputation reads must exist before the prologue: leave them.
    const prologueReads = new Set<string>();
    for (const list of this.remat.byLoop.values()) for (const r of list) for (const v of reads(r.init)) prologueReads.add(v);
    const cheap = (e: Expr): boolean =>
      (e.k === "index" && e.arr.k === "var") ||
      (e.k === "bin" && ["+", "-", "*", "/"].includes(e.op)) ||
      (e.k === "un" && e.op === "-") ||
      (e.k === "call" && e.fn.k === "prim" && CHEAP_PRIMS.has(e.fn.name));
    // Statements using each variable (a temporary may be used twice by one statement: t * t).
    const users = new Map<string, Set<Stmt>>();
    forEachStmt(body, (st) => {
      for (const e of stmtExprs(st)) for (const v of reads(e)) (users.get(v) ?? users.set(v, new Set()).get(v)!).add(st);
    });
    // Only inside loops: elsewhere the forward sweep's own value is in scope and costs nothing.
    const visit = (stmts: readonly Stmt[], inLoop: boolean): void => {
      stmts.forEach((st, i) => {
        if (st.k === "if") {
          visit(st.then, inLoop);
          visit(st.else, inLoop);
        } else if (st.k === "loop") {
          visit(st.body, true);
        } else if (st.k === "block") visit(st.body, inLoop);
        if (!inLoop || st.k !== "let" || !st.init || st.ty.k !== "num" || !/^_t\d+$/.test(st.name)) return;
        const t = st.name;
        if (users.get(t)?.size !== 1 || this.remat.names.has(t) || prologueReads.has(t) || !cheap(st.init) || hasCall(st.init)) return;
        const opReads = reads(st.init);
        const arrays = new Set<string>();
        forEachExpr(st.init, (x) => x.k === "index" && x.arr.k === "var" && arrays.add(x.arr.name));
        for (let j = i + 1; j < stmts.length; j++) {
          const u = stmts[j];
          if (stmtExprs(u).some((e) => reads(e).has(t))) {
            // Not when the statement overwrites an operand and its adjoint reads the temporary
            // (`x = log1p(x * x)`): that adjoint runs before the old value is restored. A plain
            // copy (`m = _t1`) is fine: the temporary's own adjoint comes after the restore.
            // (Operands of recomputed operands count: `_t1 = 0.5 + _t0` with `_t0 = x * x`.)
            const deep = new Set<string>();
            const expand = (vs: Iterable<string>): void => {
              for (const v of vs) {
                if (deep.has(v)) continue;
                deep.add(v);
                const init = this.atUse.get(v);
                if (init) {
                  expand(reads(init));
                  forEachExpr(init, (x) => x.k === "index" && x.arr.k === "var" && arrays.add(x.arr.name));
                }
              }
            };
            expand(opReads);
            const copy = u.k === "assign" && u.value.k === "var" && u.value.name === t;
            const overwrites = u.k === "assign" && !copy && (u.target.k === "var" ? deep.has(u.target.name) : arrays.has(u.target.arr) || deep.has(u.target.arr));
            if ((u.k === "let" || u.k === "assign") && !overwrites) this.atUse.set(t, st.init);
            return;
          }
          // Anything in between that changes an operand disqualifies.
          let changes = false;
          forEachStmt([u], (x) => {
            if (x.k === "let" && opReads.has(x.name)) changes = true;
            if (x.k === "assign" && (opReads.has(x.target.k === "var" ? x.target.name : x.target.arr) || (x.target.k === "index" && arrays.has(x.target.arr)))) changes = true;
            for (const e of stmtExprs(x)) if (hasCall(e)) changes = true;
          });
          if (changes) return;
        }
      });
    };
    visit(body, false);
  }

  /** At-use temporaries already recomputed in each block of the reverse sweep. */
  private readonly recomputedIn = new Map<Stmt[], Set<string>>();

  /** Writes one statement's adjoint, preceded by the recomputation of the at-use temporaries it reads. */
  private withAtUse(c: Stmt[], write: (into: Stmt[]) => void): void {
    const saved = this.atUseRead;
    const used = (this.atUseRead = new Set());
    const inner: Stmt[] = [];
    try {
      write(inner);
      // The temporaries those recomputations read, transitively.
      const work = [...used];
      while (work.length) for (const v of reads(this.atUse.get(work.pop()!)!)) if (this.atUse.has(v) && !used.has(v)) {
        used.add(v);
        work.push(v);
      }
    } finally {
      this.atUseRead = saved;
    }
    const done = this.recomputedIn.get(c) ?? new Set<string>();
    this.recomputedIn.set(c, done);
    // In program order (definitions come before their uses in the map).
    for (const [t, init] of this.atUse) if (used.has(t) && !done.has(t)) {
      done.add(t);
      for (const v of reads(init)) if (!this.atUse.has(v)) this.read(v);
      c.push(decl(t, init, this.here, { isConst: true }));
    }
    c.push(...inner);
  }

  private findSingleUse(body: readonly Stmt[]): void {
    const uses = new Map<string, number>();
    const defs = new Map<string, number>();
    forEachStmt(body, (st) => {
      for (const e of stmtExprs(st)) forEachExpr(e, (x) => x.k === "var" && uses.set(x.name, (uses.get(x.name) ?? 0) + 1));
      if (st.k === "let" && st.init) defs.set(st.name, (defs.get(st.name) ?? 0) + 1);
      if (st.k === "assign") {
        const n = st.target.k === "var" ? st.target.name : st.target.arr;
        defs.set(n, (defs.get(n) ?? 0) + 2); // an assignment disqualifies
      }
    });
    const visit = (stmts: readonly Stmt[]): void => {
      stmts.forEach((st, i) => {
        if (st.k === "if") {
          visit(st.then);
          visit(st.else);
        } else if (st.k === "loop") {
          visit(st.body);
        } else if (st.k === "block") visit(st.body);
        if (st.k !== "let" || !st.init || !this.isActive(st.name) || (st.ty.k !== "num" && st.ty.k !== "nd")) return;
        const v = st.name;
        if (defs.get(v) !== 1 || uses.get(v) !== 1 || this.params.has(v) || this.p.fn.outputs?.includes(v)) return;
        const user = stmts.slice(i + 1).find((x) => stmtExprs(x).some((e) => reads(e).has(v)));
        if (user && this.contributesTo(user, v)) this.singleUse.add(v);
      });
    };
    visit(body);
  }

  /** Whether the reverse sweep of `st` adds exactly one contribution to v's adjoint. */
  private contributesTo(st: Stmt, v: string): boolean {
    const operand = (e: Expr): boolean => e.k === "var" && e.name === v;
    let value: Expr | undefined;
    let target: string | undefined;
    if (st.k === "let" && st.init) [value, target] = [st.init, st.name];
    else if (st.k === "assign" && st.target.k === "var") [value, target] = [st.value, st.target.name];
    else if (st.k === "return") return !!st.value && operand(st.value) && this.body[this.body.length - 1] === st;
    else if (st.k === "assign" && st.target.k === "index") {
      const inc = elementIncrement(st);
      return !!inc && operand(inc.step) && this.isActive(st.target.arr);
    }
    if (!value || !target || !this.isActive(target) || !this.p.isVaried(value)) return false;
    if (operand(value)) return true;
    const rule = ruleName(value);
    if (rule) {
      const args = ruleArgs(value);
      const self = args.some((a) => a.k === "var" && a.name === target);
      return args.filter(operand).length === 1 && (!self || linearSelfUpdate(value, target, (e) => this.p.isVaried(e)));
    }
    if (value.k === "call" && value.fn.k === "nd") return value.args.some(operand);
    if (value.k === "field") return operand(value.obj);
    return false;
  }

  // ---- forward-sweep liveness ---------------------------------------------------------------

  /** Variables whose forward-sweep values matter: read by the reverse sweep, by needed statements, or returned. */
  private readonly neededVars = new Set<string>();

  /**
   * Dead code in the forward sweep: a definition is kept only if the reverse sweep reads the
   * variable (R), a kept statement reads it, or it is the returned value and the caller wants the
   * value. Calls, writes into parameter arrays and observers are always kept; so is the control
   * (conditions) around anything kept or recorded. A fixed point, per variable.
   */
  private findNeeded(): void {
    const need = this.neededVars;
    for (const v of this.R) need.add(v);
    const outputAtoms: Expr[] = [];
    forEachStmt(this.body, (st) => {
      if (st.k === "return" && st.value) outputAtoms.push(st.value);
    });
    if (this.needValue) for (const e of outputAtoms) for (const v of reads(e)) need.add(v);
    for (const o of this.p.fn.outputs ?? []) need.add(o);
    const addReads = (e: Expr | null | undefined): boolean => {
      let grew = false;
      if (e) for (const v of reads(e)) if (!need.has(v)) {
        need.add(v);
        grew = true;
      }
      return grew;
    };
    for (let changed = true; changed; ) {
      changed = false;
      const visit = (stmts: readonly Stmt[]): boolean => {
        let any = false;
        for (const st of stmts) {
          if (this.stmtNeeded(st)) {
            any = true;
            for (const e of stmtExprs(st)) if (st.k !== "if" && st.k !== "loop" && addReads(e)) changed = true;
          }
          if (st.k === "if") {
            const inner = [visit(st.then), visit(st.else)].some(Boolean);
            if ((inner || this.hasWork(st)) && addReads(st.cond)) changed = true;
            any ||= inner;
          } else if (st.k === "loop") {
            const inner = [visit(st.init), visit(st.body), visit(st.update)].some(Boolean);
            if ((inner || this.hasWork(st)) && addReads(st.cond)) changed = true;
            any ||= inner;
          } else if (st.k === "block") any = visit(st.body) || any;
        }
        return any;
      };
      visit(this.body);
    }
  }

  /** Whether a flat statement must run in the forward sweep (nested ones are judged by their contents). */
  private stmtNeeded(st: Stmt): boolean {
    switch (st.k) {
      case "let":
        return this.neededVars.has(st.name) || (!!st.init && hasCall(st.init));
      case "assign":
        if (st.target.k === "var") return this.neededVars.has(st.target.name) || hasUserCall(st.value);
        return this.neededVars.has(st.target.arr) || this.params.has(st.target.arr);
      case "expr":
        return true;
      case "return":
        return this.needValue || this.mode === "split";
      default:
        return false;
    }
  }

  /** Whether anything in the statements is kept in the forward sweep. */
  private anyNeeded(stmts: readonly Stmt[]): boolean {
    let any = false;
    forEachStmt(stmts, (st) => {
      if (this.stmtNeeded(st)) any = true;
    });
    return any;
  }

  // ---- forward sweep ----------------------------------------------------------------------

  private fs(stmts: readonly Stmt[], c: Stmt[], loop: boolean): void {
    for (const s of stmts) this.fsStmt(s, c, loop);
  }

  private fsList(stmts: readonly Stmt[], loop: boolean): Stmt[] {
    const out: Stmt[] = [];
    this.fs(stmts, out, loop);
    return out;
  }

  private fsStmt(s: Stmt, c: Stmt[], loop: boolean): void {
    this.here = "origin" in s && s.origin ? s.origin : s.pos;
    if ((s.k === "let" || s.k === "assign") && !this.stmtNeeded(s)) return;
    if ((s.k === "if" || s.k === "block") && !this.hasWork(s) && !this.anyNeeded([s])) return;
    for (const a of this.savedByCall(s)) c.push(exprStmt(rt(`tape.${this.arrayLane(a, "push")}`, [name(a, this.ty(a))]), this.here));
    switch (s.k) {
      case "let": {
        if (!s.init) {
          if (!this.hoisted(s.name)) c.push(s);
          return;
        }
        if (this.needsSave(s, s.name)) c.push(this.pushOf(s.name));
        const value = this.fsValue(s.init, s.name);
        if (this.hoisted(s.name)) c.push({ k: "assign", target: { k: "var", name: s.name, ty: s.ty, pos: s.pos }, value, pos: s.pos, origin: s.origin });
        else c.push({ ...s, init: value });
        return;
      }
      case "assign": {
        const t = s.target;
        if (t.k === "var") {
          if (!this.neededVars.has(t.name)) {
            // Kept only for the call it makes: the variable (maybe not even declared) is not read.
            c.push({ k: "expr", e: this.fsValue(s.value, t.name), pos: s.pos, origin: s.origin });
            return;
          }
          if (this.needsSave(s, t.name)) c.push(this.pushOf(t.name));
          c.push({ ...s, value: this.fsValue(s.value, t.name) });
        } else {
          if (this.elementSaved(s, t.arr)) c.push(exprStmt(rt("tape.pushF", [{ k: "index", arr: name(t.arr, t.arrTy), idx: t.idx, pos: s.pos }]), s.pos));
          c.push(s);
        }
        return;
      }
      case "if": {
        if (!this.hasWork(s)) {
          c.push({ ...s, then: this.fsList(s.then, loop), else: this.fsList(s.else, loop) });
          return;
        }
        const rec = this.record(s, loop);
        const empty = !this.anyNeeded(s.then) && !this.anyNeeded(s.else) && !hasLoopWork(s, (x) => this.hasWork(x));
        if (rec.local) {
          c.push(decl(rec.local, s.cond, s.pos, { isConst: true }));
          if (!empty) c.push({ ...s, cond: name(rec.local, BOOL), then: this.fsList(s.then, loop), else: this.fsList(s.else, loop) });
          return;
        }
        const push = (b: boolean | Expr): Stmt => exprStmt(rt("tape.pushB", [typeof b === "boolean" ? { k: "bool", v: b, pos: GEN } : b]), s.pos);
        if (empty) {
          c.push(push(s.cond));
          return;
        }
        const then = this.fsList(s.then, loop);
        then.push(push(true));
        const els = this.fsList(s.else, loop);
        els.push(push(false));
        c.push(ifStmt(s.cond, then, els, s.pos));
        return;
      }
      case "loop":
        return this.fsLoop(s, c, loop);
      case "block":
        c.push(block(this.fsList(s.body, loop), s.pos));
        return;
      case "return":
        this.output = s.value ?? null;
        return;
      case "expr":
        c.push({ ...s, e: this.fsValue(s.e, null) });
        return;
      case "comment":
        return;
      case "break":
      case "continue":
        throw new Error("reverse mode: jumps should have been structurized");
    }
  }

  /** A right-hand side in the forward sweep: active user calls go to their recording version. */
  private fsValue(e: Expr, target: string | null): Expr {
    if (e.k === "call" && e.fn.k === "user" && this.callNeedsRev(e, target)) {
      const { fwd } = this.spec.splitNames(e.fn.fn, callMask(this.p, e.args));
      return { ...e, fn: { k: "derived", name: fwd, of: e.fn.fn, kind: "fwd" } };
    }
    return e;
  }

  /** A record is a plain local only for a top-level statement of a fused function; else it is taped. */
  private record(s: Stmt, _loop: boolean): Rec {
    let r = this.recs.get(s);
    if (!r) {
      const local = this.mode === "fused" && this.body.includes(s);
      r = { local: local ? this.namer.fresh(s.k === "if" ? "_br" : "_n") : null };
      this.recs.set(s, r);
    }
    return r;
  }

  private fsLoop(s: Loop, c: Stmt[], loop: boolean): void {
    const work = this.hasWork(s);
    if (!work && !this.anyNeeded([s])) return;
    // A counted loop whose bounds do not change is recounted by the reverse sweep: no record.
    const formula = work ? this.tripCountFormula(s) : undefined;
    if (formula !== undefined) {
      this.closedCounts.set(s, formula);
      if (!this.bodyRuns(s)) return; // and nothing in it runs in the forward sweep
    }
    const rec = work && formula === undefined ? this.record(s, loop) : null;
    const count = rec ? rec.local ?? this.namer.fresh("_n") : null;
    if (rec && !rec.local) (rec as { count?: string }).count = count!;
    const plainInit = s.init.every((x) => x.k === "let" && !this.hoisted(x.name) && !this.needsSave(x, x.name)) || s.init.every((x) => x.k === "assign" && !this.needsSave(x, (x.target as { name: string }).name));
    const plainUpdate = s.update.every((u) => u.k === "assign" && u.target.k === "var" && !this.isActive(u.target.name) && !this.needsSave(u, u.target.name));
    const wrap = !plainInit && s.init.length > 0;
    if (count) c.push(decl(count, num(0), s.pos));
    const body: Stmt[] = [];
    if (count) body.push(increment(count, s.pos));
    for (const a of this.checkpointsOf(s)) body.push(exprStmt(rt(`tape.${this.arrayLane(a, "push")}`, [name(a, this.ty(a))]), s.pos));
    this.fs(s.body, body, true);
    if (!plainUpdate || s.doWhile) this.fs(s.update, body, true);
    const head: Loop = {
      k: "loop", init: wrap || s.doWhile ? [] : s.init, cond: s.cond, doWhile: s.doWhile, body,
      update: plainUpdate && !s.doWhile ? s.update : [], pos: s.pos,
    };
    if (wrap) c.push(block([...this.fsList(s.init, loop), head], s.pos));
    else c.push(head);
    if (count && !rec!.local) c.push(exprStmt(rt("tape.pushI", [name(count)]), s.pos));
  }

  /** Loops whose trip count the reverse sweep recomputes, with the formula. */
  private readonly closedCounts = new Map<Loop, Expr>();

  /** Whether an element write to `arr` at this statement saves the old element. */
  private elementSaved(site: Stmt, arr: string): boolean {
    if (!this.R.has(arr)) return false;
    for (let x = this.parentOf.get(site); x; x = this.parentOf.get(x.stmt)) if (x.stmt.k === "loop" && this.checkpointsOf(x.stmt).includes(arr)) return false;
    return true;
  }

  private readonly checkpoints = new Map<Loop, string[]>();

  private arrayLane(a: string, op: "push" | "pop"): string {
    const t = this.ty(a);
    return t.k === "arr" && t.ctor === "Float64Array" ? `${op}F64` : `${op}Array`;
  }

  /**
   * Arrays saved whole at the start of each iteration of loop L, instead of element by element.
   * A scratch array (allocated in this function, outside L) that L's body writes only inside
   * nested loops or calls, and whose reverse-sweep reads in the body all come after its last write
   * there: the reverse of one iteration then needs only the iteration's final contents, which the
   * whole-array restore of the next iteration provides. (GMM's centred point and Q times it: two
   * short arrays per component instead of every intermediate element.)
   */
  private checkpointsOf(l: Loop): string[] {
    let list = this.checkpoints.get(l);
    if (list) return list;
    list = [];
    this.checkpoints.set(l, list);
    const body = l.body;
    const allocated = new Set<string>();
    forEachStmt(this.body, (x) => {
      if (x.k === "let" && x.init?.k === "alloc") allocated.add(x.name);
    });
    const inside = (r: Stmt | null, under: Stmt): boolean => {
      for (let x: Stmt | null = r; x; x = this.parentOf.get(x)?.stmt ?? null) if (x === under) return true;
      return false;
    };
    for (const a of this.R) {
      if (this.ty(a).k !== "arr" || !allocated.has(a) || this.params.has(a)) continue;
      if (body.some((st) => inside(this.declOf(a), st))) continue;
      let lastWrite = -1;
      let flat = false;
      body.forEach((st, k) => {
        forEachStmt([st], (x) => {
          const writes = (x.k === "assign" && x.target.k === "index" && x.target.arr === a) || (x.k !== "loop" && x.k !== "if" && x.k !== "block" && stmtExprs(x).some((e) => callWrites(e, a, this.spec)));
          if (!writes) return;
          lastWrite = k;
          if (x === st) flat = true;
        });
      });
      if (lastWrite < 0 || flat) continue;
      let firstRead = Infinity;
      for (const r of this.prevReaders.get(a) ?? []) {
        if (r === null) continue;
        const k = body.findIndex((st) => inside(r, st));
        if (k >= 0) firstRead = Math.min(firstRead, k);
      }
      if (firstRead !== Infinity && lastWrite < firstRead) list.push(a);
    }
    return list;
  }

  private declOf(v: string): Stmt | null {
    let found: Stmt | null = null;
    forEachStmt(this.body, (x) => {
      if (x.k === "let" && x.name === v) found = x;
    });
    return found;
  }

  /** Whether anything in the loop's body runs in the forward sweep (kept code or nested records). */
  private bodyRuns(s: Loop): boolean {
    if (this.checkpointsOf(s).length) return true;
    const k = s.counter?.name;
    const body = [...s.body, ...s.update.filter((u) => !(u.k === "assign" && u.target.k === "var" && u.target.name === k))];
    let records = false;
    forEachStmt(body, (x) => {
      if ((x.k === "if" || x.k === "loop") && this.hasWork(x)) records = true;
    });
    return records || this.anyNeeded(body);
  }

  /**
   * The trip count of a counted loop in closed form, when its start and bound are not changed by
   * the loop: `for (let i = a; i < b; i++)` runs max(0, ceil(b - a)) times.
   */
  private tripCountFormula(s: Loop): Expr | undefined {
    const k = this.counterFor(s);
    const cond = s.cond;
    if (!k || !cond || cond.k !== "bin" || Math.abs(k.step) !== 1) return undefined;
    if (cond.l.k !== "var" || cond.l.name !== k.name || reads(cond.r).has(k.name) || hasCall(cond.r) || hasCall(k.init)) return undefined;
    const changed = new Set<string>();
    forEachStmt([...s.body, ...s.update], (x) => {
      if (x.k === "let") changed.add(x.name);
      if (x.k === "assign" && x.target.k === "var") changed.add(x.target.name);
    });
    for (const v of [...reads(cond.r), ...reads(k.init)]) if (changed.has(v)) return undefined;
    const text = this.closedTripCount(k, cond);
    return text === undefined ? undefined : { k: "free", text, ty: { k: "num" }, pos: s.pos, reads: [...reads(cond.r), ...reads(k.init)] } as unknown as Expr;
  }

  private closedTripCount(k: NonNullable<Loop["counter"]>, cond: Extract<Expr, { k: "bin" }>): string | undefined {
    const a = paren(printExpr(k.init));
    const b = paren(printExpr(cond.r));
    const up = k.step === 1;
    const span = a === "0" ? b : `${b} - ${a}`;
    switch (cond.op) {
      case "<":
        return up ? `Math.max(0, Math.ceil(${span}))` : undefined;
      case "<=":
        return up ? `Math.max(0, Math.floor(${span}) + 1)` : undefined;
      case ">":
        return up ? undefined : `Math.max(0, Math.ceil(${a} - ${b}))`;
      case ">=":
        return up ? undefined : `Math.max(0, Math.floor(${a} - ${b}) + 1)`;
      default:
        return undefined;
    }
  }

  // ---- reverse sweep ----------------------------------------------------------------------

  private rs(stmts: readonly Stmt[], c: Stmt[], loop: boolean): void {
    const top = stmts === this.body;
    for (let i = stmts.length - 1; i >= 0; i--) {
      if (top) this.topIndex = i;
      this.rsStmt(stmts[i], c, loop);
    }
    if (top) this.topIndex = Infinity;
  }

  private rsList(stmts: readonly Stmt[], loop: boolean): Stmt[] {
    const out: Stmt[] = [];
    this.rs(stmts, out, loop);
    return out;
  }

  private rsStmt(s: Stmt, c: Stmt[], loop: boolean): void {
    const saved = this.currentStmt;
    this.currentStmt = s;
    try {
      this.rsStmtInner(s, c, loop);
      const whole = this.savedByCall(s);
      if (whole.length) this.comment(c, s, s.k === "expr" ? printExpr(s.e) : s.k === "let" ? s.name : s.k === "assign" ? assignText(s) : "");
      for (const a of [...whole].reverse()) {
        this.read(a);
        c.push(exprStmt(rt(`tape.${this.arrayLane(a, "pop")}`, [name(a, this.ty(a))]), this.here));
      }
    } finally {
      this.currentStmt = saved;
    }
  }

  private rsStmtInner(s: Stmt, c: Stmt[], loop: boolean): void {
    this.here = "origin" in s && s.origin ? s.origin : s.pos;
    if (s.k === "if" || s.k === "loop" || s.k === "block") this.lastOrigin.delete(c);
    switch (s.k) {
      case "let":
        if (s.init) this.rsDefinition(s, s.name, s.init, c, `${s.name} = ${printExpr(s.init)}`);
        return;
      case "assign": {
        const t = s.target;
        if (t.k === "var") return this.rsDefinition(s, t.name, s.value, c, assignText(s));
        const active = this.isActive(t.arr);
        if (!active && !this.R.has(t.arr)) return;
        this.comment(c, s, assignText(s));
        const inc = elementIncrement(s);
        const bar: Expr = { k: "index", arr: name(this.bar(t.arr), t.arrTy), idx: t.idx, pos: GEN };
        if (active && inc) {
          // a[i] += t: t_bar gets a_bar[i], which stays (the old element counts once, as before).
          this.read(t.idx);
          if (this.isActiveAtom(inc.step)) this.accumulate(c, (inc.step as { name: string }).name, inc.sign === "-" ? neg(bar) : bar);
        } else if (active) {
          this.read(t.idx);
          if (this.isActiveAtom(s.value)) c.push(assign(this.bar((s.value as { name: string }).name), bar, this.here, NUM, "+"));
          c.push(assignAt(this.bar(t.arr), t.idx, num(0), this.here, t.arrTy));
        }
        if (this.elementSaved(s, t.arr)) {
          this.read(t.idx);
          this.read(t.arr);
          c.push(assignAt(t.arr, t.idx, rt("tape.popF", []), this.here, t.arrTy));
        }
        return;
      }
      case "if": {
        if (!this.hasWork(s)) return;
        const rec = this.recs.get(s)!;
        const cond: Expr = rec.local ? name(rec.local, BOOL) : rt("tape.popB", [], BOOL);
        const then = this.rsList(s.then, loop);
        const els = this.rsList(s.else, loop);
        if (then.length === 0 && els.length === 0) {
          if (!rec.local) c.push(exprStmt(cond, s.pos));
          return;
        }
        if (then.length === 0) {
          c.push(ifStmt({ k: "un", op: "!", e: cond, ty: BOOL, pos: GEN }, els, [], s.pos));
          return;
        }
        c.push(ifStmt(cond, then, els, s.pos));
        return;
      }
      case "loop":
        return this.rsLoop(s, c, loop);
      case "block": {
        const inner = this.rsList(s.body, loop);
        if (inner.length) c.push(block(inner, s.pos));
        return;
      }
      case "expr":
        if (this.callNeedsRev(s.e, null)) {
          this.comment(c, s, printExpr(s.e));
          this.rsUserCall(s.e as Extract<Expr, { k: "call" }>, null, c);
        }
        return;
      default:
        return;
    }
  }

  /**
   * `// adjoint of: <the user's statement>`, once for the run of normalized statements that came
   * from one user statement (the reverse sweep meets them one after another).
   */
  private comment(c: Stmt[], s: Stmt, fallback: string): void {
    const origin = s.k === "let" || s.k === "assign" || s.k === "expr" ? s.origin : undefined;
    const last = this.lastOrigin.get(c);
    if (origin && last && last.start === origin.start && last.end === origin.end) return;
    this.lastOrigin.set(c, origin);
    c.push(commentStmt(`adjoint of: ${origin ? originText(this.p.fn.source, origin) : fallback}`, this.here));
  }

  /** The adjoint of `v = value`, then the restore of v's old value if it was recorded. */
  private rsDefinition(site: Stmt, v: string, value: Expr, c: Stmt[], text: string): void {
    const active = this.isActive(v);
    const save = this.needsSave(site, v);
    const inverse = this.R.has(v) && this.overwrites(site, v) && !this.skippableSave(site, v) ? this.inverseOf(site, v) : undefined;
    if (inverse) {
      this.comment(c, site, text);
      c.push(inverse);
      return;
    }
    const callOnly = !active && value.k === "call" && this.callNeedsRev(value, null);
    if (!active && !save && !callOnly) return;
    this.comment(c, site, text);
    if (callOnly) {
      // The result has no adjoint, but the call wrote into an active array: run its reverse with
      // a zero result adjoint.
      const zero = barInit(this.ty(v), v);
      if (!isNum(zero, 0)) this.read(v);
      this.rsUserCall(value as Extract<Expr, { k: "call" }>, this.spec.resultActive((value as { fn: { fn: FnId } }).fn.fn, callMask(this.p, value.args)) ? zero : null, c);
    }
    this.withAtUse(c, (into) => this.rsDefinitionBody(site, v, value, into, active, save));
  }

  private rsDefinitionBody(site: Stmt, v: string, value: Expr, c: Stmt[], active: boolean, save: boolean): void {
    const ty = this.ty(v);
    const reset = this.overwrites(site, v);
    let inPlace = false;
    if (active) {
      inPlace = this.rsOperation(v, value, c);
      if (reset && ty.k === "num" && !inPlace && !this.singleUse.has(v)) c.push(assign(this.bar(v), num(0), this.here));
    }
    // `typeof v`: TypeScript gives `new Float64Array(n)` the narrower Float64Array<ArrayBuffer>.
    if (save) c.push(assign(v, ty.k === "arr" ? rt("tape.popO", [], ty, [tyText(`typeof ${v}`)]) : this.popOf(v), this.here, ty));
    if (active && reset && ty.k !== "num" && !this.singleUse.has(v)) {
      this.read(v);
      c.push(assign(this.bar(v), barInit(ty, v), this.here, ty));
    }
  }

  /**
   * Propagates v_bar to the operands of `v = value`. Returns true for a self-update linear in v
   * (`s = s + t`), whose adjoint scales v_bar in place instead of resetting it.
   */
  private rsOperation(v: string, value: Expr, c: Stmt[]): boolean {
    if (!this.p.isVaried(value) && !(value.k === "var" && this.isActive(value.name))) return false;
    const g = this.bar(v);
    const gv = name(g, this.ty(v));
    const rule = ruleName(value);
    if (rule && ruleArgs(value).some((a) => a.k === "var" && a.name === v)) {
      const r = scalarRule(rule)!;
      const args = ruleArgs(value);
      const ops = operands(args, v, (x) => this.read(x));
      let selfPartial: Expr = num(0);
      args.forEach((a, i) => {
        const self = a.k === "var" && a.name === v;
        if (!self && !this.isActiveAtom(a)) return; // only needed partials: each one records its reads
        const part = r.partial(i, ops);
        if (self) selfPartial = part ?? num(0);
        else if (part !== null) this.accumulate(c, (a as { name: string }).name, scale(part, gv));
        else if (this.singleUse.has((a as { name: string }).name)) c.push(decl(this.bar((a as { name: string }).name), num(0), this.here, { isConst: true }));
      });
      if (isNum(selfPartial, -1)) c.push(assign(g, neg(gv), this.here));
      else if (!isNum(selfPartial, 1)) c.push(assign(g, scale(selfPartial, gv), this.here));
      return true;
    }
    if (value.k === "var") {
      if (this.isActive(value.name)) this.accumulate(c, value.name, gv);
      return false;
    }
    if (rule) {
      const r = scalarRule(rule)!;
      const args = ruleArgs(value);
      const ops = operands(args, v, (x) => this.read(x));
      args.forEach((a, i) => {
        if (!this.isActiveAtom(a)) return;
        const part = r.partial(i, ops);
        if (part !== null) this.accumulate(c, (a as { name: string }).name, scale(part, gv));
        else if (this.singleUse.has((a as { name: string }).name)) c.push(decl(this.bar((a as { name: string }).name), num(0), this.here, { isConst: true }));
      });
      return false;
    }
    switch (value.k) {
      case "index":
        if (this.isActiveAtom(value.arr)) {
          this.read(value.idx);
          c.push(assignAt(this.bar((value.arr as { name: string }).name), value.idx, gv, this.here, NUM, "+"));
        }
        return false;
      case "call":
        if (value.fn.k === "user") {
          this.rsUserCall(value, gv, c);
          return false;
        }
        if (value.fn.k === "nd") {
          // The registry's adjoint rules, one per active operand; they may read any operand and the result.
          const op: Expr = { k: "str", text: JSON.stringify(value.fn.op), pos: GEN };
          const { args } = ndOperands(value, () => free("null"));
          const list = value.fn.list;
          value.args.forEach((a) => this.read(a));
          this.read(v);
          value.args.forEach((a, i) => {
            if (!this.isActiveAtom(a)) return;
            const n = (a as { name: string }).name;
            // A list element's adjoint is element k of operand 0's adjoint.
            const [at, elem] = list === undefined ? [i, undefined] : i < list ? [0, i] : [i - list + 1, undefined];
            const fn = this.ty(n).k === "num" ? "ndVjpNum" : "ndVjp";
            this.accumulate(c, n, rt(fn, [op, num(at), gv, args, name(v, this.ty(v)), ...(elem === undefined ? [] : [num(elem)])], this.ty(n)));
          });
          return false;
        }
        break;
      case "field":
        if (this.isActiveAtom(value.obj)) {
          if (value.idx) this.read(value.idx);
          this.accumulateField(c, (value.obj as { name: string }).name, value, gv);
        }
        return false;
      case "arrlit":
        value.elems.forEach((x, k) => {
          if (this.isActiveAtom(x)) c.push(assign(this.bar((x as { name: string }).name), { k: "index", arr: gv, idx: num(k), pos: GEN }, this.here, NUM, "+"));
        });
        return false;
      case "copy":
        if (this.isActiveAtom(value.e)) c.push(exprStmt(rt("addInto", [name(this.bar((value.e as { name: string }).name)), gv]), this.here));
        return false;
      case "alloc":
      case "stop":
        return false;
    }
    throw new Error(`reverse mode: no adjoint for ${value.k}`);
  }

  /** `name_bar += contrib`, spelled for the variable's type (arrays elementwise; NDArray nulls are zeros). */
  private accumulate(c: Stmt[], n: string, contrib: Expr): void {
    const t = this.ty(n);
    const b = this.bar(n);
    if (this.singleUse.has(n)) {
      c.push(decl(b, contrib, this.here, { isConst: true }));
      return;
    }
    if (t.k === "arr") c.push(exprStmt(rt("addInto", [name(b, t), contrib]), this.here));
    else if (t.k === "nd") c.push(assign(b, rt("ndAcc", [name(b, t), contrib], t), this.here, t));
    else if (isTree(t)) c.push(exprStmt(rt("addTree", [name(b, t), contrib]), this.here));
    else c.push(assign(b, contrib, this.here, NUM, "+"));
  }

  /**
   * `obj_bar.field += contrib` for a part of a parameter object or list (`.w` or `[i]`): the
   * part's adjoint is its own accumulator, added into the whole's when the reverse sweep reaches
   * the read. (Writes through parts are refused by the fence, so the part's adjoint only ever
   * collects reads.)
   */
  private accumulateField(c: Stmt[], obj: string, part: Extract<Expr, { k: "field" }>, contrib: Expr): void {
    const ty = part.ty;
    const whole = this.bar(obj);
    const b: Expr = { ...part, obj: name(whole, this.ty(obj)) };
    // The part as a target: `p_bar.w` is written as a name (derivative code only; nothing
    // analyses it), `l_bar[i]` as an element.
    const set = (value: Expr, op?: "+"): Stmt => (part.idx ? assignAt(whole, part.idx, value, this.here, ty, op) : assign(`${whole}.${part.name}`, value, this.here, ty, op));
    if (ty.k === "nd") c.push(set(rt("ndAcc", [b, contrib], ty)));
    else if (ty.k === "arr") c.push(exprStmt(rt("addInto", [b, contrib]), this.here));
    else if (isTree(ty)) c.push(exprStmt(rt("addTree", [b, contrib]), this.here));
    else c.push(set(contrib, "+"));
  }

  /** `g_rev(array bars..., out_bar)`; scalar adjoints come back as the result or in `_rt.retF`. */
  private rsUserCall(e: Extract<Expr, { k: "call" }>, g: Expr | null, c: Stmt[]): void {
    const fn: FnId = (e.fn as { fn: FnId }).fn;
    // The callee's reverse sweep may read the contents of any array it was given: keep them
    // restored here too (writes to them in this function are saved and undone).
    for (const a of e.args) if (a.k === "var" && this.ty(a.name).k === "arr") this.read(a.name);
    const mask = callMask(this.p, e.args);
    const { rev } = this.spec.splitNames(fn, mask);
    const callee = this.spec.callee(fn);
    const passed: Expr[] = [];
    const returned: { name: string; lane: "retF" | "retO" }[] = [];
    e.args.forEach((a, i) => {
      if (!mask[i]) return;
      const n = (a as { name: string }).name;
      const t = callee.params[i]?.ty ?? this.ty(n);
      if (barInPlace(t)) passed.push(name(this.bar(n), t));
      else returned.push({ name: n, lane: t.k === "num" ? "retF" : "retO" });
    });
    if (g !== null && this.spec.resultActive(fn, mask)) passed.push(g);
    const call: Expr = { k: "call", fn: { k: "derived", name: rev, of: fn, kind: "rev" }, args: passed, ty: returned.length === 1 ? this.ty(returned[0].name) : { k: "void" }, pos: GEN };
    if (returned.length === 0) c.push(exprStmt(call, this.here));
    else if (returned.length === 1) this.accumulate(c, returned[0].name, call);
    else {
      c.push(exprStmt(call, this.here));
      let f = 0;
      let o = 0;
      for (const r of returned)
        this.accumulate(c, r.name, r.lane === "retF" ? lane(`${RT}.retF`, f++) : { k: "as", e: lane(`${RT}.retO`, o++), ty: tyText(`${printTy(this.ty(r.name))} | null`), pos: GEN });
    }
  }

  private rsLoop(s: Loop, c: Stmt[], loop: boolean): void {
    const rec = this.recs.get(s);
    const formula = this.closedCounts.get(s);
    if (!rec && !formula) return; // no work in the reverse
    const count = formula ? this.namer.fresh("_n") : rec!.local ?? (rec as { count?: string }).count!;
    const counter = this.counterFor(s);
    if (counter) this.counterScope.add(counter.name);
    const body: Stmt[] = [];
    this.rs(s.update, body, true);
    this.rs(s.body, body, true);
    this.here = s.pos;
    // Recompute this body's cheap variables that the reverse iteration reads (analysis/remat.ts).
    const prologue: Stmt[] = [];
    const recompute = this.remat.byLoop.get(s) ?? [];
    for (let i = recompute.length - 1; i >= 0; i--) if (this.rematUsed.has(recompute[i].name)) this.read(recompute[i].init);
    for (const r of recompute) if (this.rematUsed.has(r.name)) prologue.push(decl(r.name, r.init, s.pos, { isConst: true }));
    if (prologue.length) prologue.unshift(commentStmt("recomputed, not recorded", s.pos));
    if (counter) this.counterScope.delete(counter.name);
    const n = name(count);
    if (formula) {
      for (const v of (formula as unknown as { reads: string[] }).reads) this.read(v);
      c.push(decl(count, formula, s.pos, { isConst: true }));
    } else if (!rec!.local) c.push(decl(count, rt("tape.popI", []), s.pos, { isConst: true }));
    const down = (v: string, from: Expr, to: Expr): Loop => ({
      k: "loop", init: [decl(v, from, s.pos)], cond: bin(">=", name(v), to), doWhile: false, body: [], update: [assign(v, bin("-", name(v), num(1)), s.pos)], pos: s.pos,
    });
    let head: Loop;
    const first: Stmt[] = [];
    if (counter) {
      const init = counter.init;
      this.read(counter.init);
      const i = counter.name;
      if (counter.step === 1) head = down(i, printExpr(init) === "0" ? bin("-", n, num(1)) : bin("-", bin("+", init, n), num(1)), init);
      else if (counter.step === -1)
        head = { k: "loop", init: [decl(i, bin("+", bin("-", init, n), num(1)), s.pos)], cond: bin("<=", name(i), init), doWhile: false, body: [], update: [increment(i, s.pos)], pos: s.pos };
      else {
        const k = this.namer.fresh("_k");
        head = down(k, bin("-", n, num(1)), num(0));
        first.push(decl(i, bin("+", init, bin("*", name(k), num(counter.step))), s.pos, { isConst: true }));
      }
    } else {
      const k = this.namer.fresh("_k");
      head = { k: "loop", init: [decl(k, num(0), s.pos)], cond: bin("<", name(k), n), doWhile: false, body: [], update: [increment(k, s.pos)], pos: s.pos };
    }
    const restore = this.checkpointsOf(s);
    for (const a of [...restore].reverse()) {
      this.read(a);
      body.push(exprStmt(rt(`tape.${this.arrayLane(a, "pop")}`, [name(a, this.ty(a))]), s.pos));
    }
    c.push({ ...head, body: [...first, ...prologue, ...body] });
    this.rs(s.init, c, loop);
  }

  /** A counted loop whose index the reverse sweep can recount (its start is not changed by the loop). */
  private counterFor(s: Loop): Loop["counter"] {
    const k = s.counter;
    if (!k || s.doWhile) return undefined;
    const initReads = reads(k.init);
    let changed = false;
    forEachStmt([...s.body, ...s.update], (x) => {
      if ((x.k === "assign" && x.target.k === "var" && initReads.has(x.target.name)) || (x.k === "let" && initReads.has(x.name))) changed = true;
    });
    return changed ? undefined : k;
  }
}

/** Whether a call in `e` may write into array `a` (a user function given `a`). */
function callWrites(e: Expr, a: string, spec: Specializer): boolean {
  let w = false;
  forEachExpr(e, (x) => {
    if (x.k !== "call" || x.fn.k !== "user") return;
    const m = spec.mutations.get(fnKey(x.fn.fn));
    x.args.forEach((arg, j) => {
      if (arg.k === "var" && arg.name === a && m?.has(j)) w = true;
    });
  });
  return w;
}

/** Primitives cheap enough to recompute rather than record. */
const CHEAP_PRIMS = new Set(["Math.max", "Math.min", "Math.abs", "Math.sign"]);

/** Whether a nested loop or branch inside the statement does work the forward sweep must keep. */
function hasLoopWork(s: Stmt, work: (x: Stmt) => boolean): boolean {
  let found = false;
  forEachStmt([s], (x) => {
    if (x !== s && (x.k === "loop" || x.k === "if") && work(x)) found = true;
  });
  return found;
}

function hasCall(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "call" && (x.fn.k === "user" || x.fn.k === "opaque")) found = true;
  });
  return found;
}

function hasUserCall(e: Expr): boolean {
  return hasCall(e);
}

function isObjTy(t: Ty): boolean {
  return t.k === "arr" || t.k === "nd" || isTree(t) || t.k === "other";
}

function hoistDecl(v: string, t: Ty, pos: Pos): Stmt {
  switch (t.k) {
    case "num":
      return decl(v, num(0), pos);
    case "bool":
      return decl(v, { k: "bool", v: false, pos: GEN }, pos);
    case "arr":
      return t.ctor === "Float64Array" ? decl(v, free(`${RT}.EMPTY_F64`), pos, { annot: F64 }) : decl(v, { k: "arrlit", ctor: "Array", elems: [], pos: GEN }, pos, { annot: NUMARR });
    default:
      return decl(v, undefined, pos, { ty: t });
  }
}

/** A zero adjoint for a value of type t, shaped like `like`. */
function barInit(t: Ty, like: string): Expr {
  switch (t.k) {
    case "num":
      return num(0);
    case "arr":
      return rt("zerosLike", [name(like, t)], t);
    case "obj":
    case "list":
      return rt("barOf", [name(like, t)], t);
    default:
      return free("null");
  }
}

function barDecl(bar: string, t: Ty, v: string, pos: Pos): Stmt {
  if (t.k === "num" || t.k === "arr" || isTree(t)) return decl(bar, barInit(t, v), pos);
  return decl(bar, free("null"), pos, { annot: tyText(`${printTy(t)} | null`) });
}

export { isDiffTy };
