/**
 * What reverse mode knows about a function before it writes a sweep: which variables are active,
 * which definitions overwrite a value the reverse sweep reads (and must be recorded), which
 * overwrites are undone instead (index steps) or need no record, which calls must run reversed,
 * and which variables the sweeps read (recorded as they are written; the driver runs the sweeps
 * until that read set stops growing, reverse/index.ts). Every field of the emitter lives here.
 */
import { type Namer } from "../../emit/names.js";
import { bin, GEN, name } from "../../ir/make.js";
import { type Expr, type FnId, type Loop, type Pos, type Stmt, type Ty } from "../../ir/ir.js";
import { assign } from "../build-ir.js";
import { forEachChildExpr, forEachExpr, forEachStmt, reads, stmtExprs, stmtLists } from "../../ir/walk.js";
import { findRemat, type Remat } from "../../analysis/remat.js";
import { fnKey } from "../../analysis/summaries.js";
import { type Prepared, type Specializer } from "../prepare.js";
import type { AdjointMode, Rec } from "./index.js";

/**
 * The facts the constructor finds in the body. They depend on the function, its activity and the
 * body, not on R, so the rounds of one function's sweeps (reverse/index.ts) find them once.
 */
export interface BodyFacts {
  readonly vars: Map<string, Ty>;
  readonly retActive: boolean;
  readonly remat: Remat;
  readonly defs: Map<string, Stmt[]>;
  readonly inLoop: Set<Stmt>;
  readonly topOf: Map<Stmt, number>;
  readonly parentOf: Map<Stmt, { stmt: Stmt }>;
  readonly listOf: Map<Stmt, readonly Stmt[]>;
  readonly topDecl: Map<string, Extract<Stmt, { k: "let" }>>;
  readonly singleUse: Set<string>;
  readonly indexVars: Set<string>;
  readonly atUse: Map<string, Expr>;
}

export abstract class Facts {
  protected abstract findSingleUse(body: readonly Stmt[]): void;
  protected abstract findAtUse(body: readonly Stmt[]): void;
  protected abstract checkpointsOf(l: Loop): string[];

  readonly reads = new Set<string>();
  /** Arrays read for their length only, as the reverse sweep allocates their adjoints. */
  readonly lengthReads = new Set<string>();
  protected readonly recs = new Map<Stmt, Rec>();
  protected readonly counterScope = new Set<string>();
  protected readonly lastOrigin = new Map<Stmt[], Pos | undefined>();
  /** The position of the user statement whose derivative is being written (its statements get it). */
  protected here: Pos = GEN;
  protected readonly remat: Remat;
  /**
   * Temporaries with one definition and one use, next to each other in one statement list: their
   * adjoint gets exactly one contribution, so it is a `const` declared where that contribution is
   * made, not an accumulator declared at the top and reset.
   */
  protected readonly singleUse = new Set<string>();
  /**
   * Temporaries defined by one cheap operation and used once, right after, in the same statement
   * list, with nothing in between changing what they read: the reverse sweep recomputes them where
   * their use's adjoint needs them, instead of saving them. Their operands must then be right at
   * that point, which the restore invariant gives (they join the read set).
   */
  protected readonly atUse = new Map<string, Expr>();
  /** At-use temporaries read while writing the current statement's adjoint. */
  protected atUseRead: Set<string> | null = null;
  /** Recomputed variables the reverse sweep has read (their loop's prologue defines them). */
  protected readonly rematUsed = new Set<string>();
  protected readonly defs = new Map<string, Stmt[]>();
  protected readonly inLoop = new Set<Stmt>();
  /** The first top-level declaration of each name. */
  protected readonly topDecl = new Map<string, Extract<Stmt, { k: "let" }>>();
  protected readonly params: Set<string>;
  protected readonly retActive: boolean;
  protected readonly vars: Map<string, Ty>;
  protected output: Expr | null = null;

  /** Index variables: used only as whole array indices and in their own integer steps. */
  protected readonly indexVars = new Set<string>();

  /** Each statement's enclosing statement (if, loop, block) and the list it sits in. */
  protected readonly parentOf = new Map<Stmt, { stmt: Stmt }>();
  protected readonly listOf = new Map<Stmt, readonly Stmt[]>();

  /** The statement whose adjoint is being written (null outside statements). */
  protected currentStmt: Stmt | null = null;
  readonly readers = new Map<string, Set<Stmt | null>>();

  /** Top-level statement index of every statement (its position in the function body). */
  protected readonly topOf = new Map<Stmt, number>();
  /** Where the current adjoint is being written: the top-level statement index (Infinity: after all). */
  protected topIndex = Infinity;
  /** Read sites of this round. */
  readonly sites = new Map<string, Set<number>>();

  /** At-use temporaries already recomputed in each block of the reverse sweep. */
  protected readonly recomputedIn = new Map<Stmt[], Set<string>>();

  // ---- forward-sweep liveness ---------------------------------------------------------------

  /** Variables whose forward-sweep values matter: read by the reverse sweep, by needed statements, or returned. */
  protected readonly neededVars = new Set<string>();

  /** Loops whose trip count the reverse sweep recomputes, with the formula. */
  protected readonly closedCounts = new Map<Loop, Expr>();

  protected readonly checkpoints = new Map<Loop, string[]>();

  constructor(
    protected readonly p: Prepared,
    protected readonly spec: Specializer,
    protected readonly mode: AdjointMode,
    protected readonly body: readonly Stmt[],
    protected readonly retVar: string | null,
    protected readonly R: ReadonlySet<string>,
    protected readonly namer: Namer,
    protected readonly outBar: string | readonly string[],
    protected readonly needValue: boolean,
    /** Read sites found by the previous round (see `skippableSave`). */
    protected readonly prevSites: ReadonlyMap<string, ReadonlySet<number>>,
    /** The statements whose adjoints read each variable, found by the previous round (null: at the end). */
    protected readonly prevReaders: ReadonlyMap<string, ReadonlySet<Stmt | null>>,
    /** The body's facts from an earlier round of the same function (they do not depend on R). */
    shared?: BodyFacts,
    /**
     * Arrays of R that the sweep reads only for their length (to allocate their adjoint): their
     * elements need no saving, since adc's arrays keep their length (docs/semantics.md).
     */
    protected readonly lengthOnly: ReadonlySet<string> = new Set(),
  ) {
    this.params = new Set(p.fn.params.map((q) => q.name));
    if (shared) {
      this.vars = shared.vars;
      this.retActive = shared.retActive;
      this.remat = shared.remat;
      this.defs = shared.defs;
      this.inLoop = shared.inLoop;
      this.topOf = shared.topOf;
      this.parentOf = shared.parentOf;
      this.listOf = shared.listOf;
      this.topDecl = shared.topDecl;
      this.singleUse = shared.singleUse;
      this.indexVars = shared.indexVars;
      this.atUse = shared.atUse;
      return;
    }
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
    for (const st of body) if (st.k === "let" && !this.topDecl.has(st.name)) this.topDecl.set(st.name, st);
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

  /** What the constructor found, for the next round's emitter (none of it is changed after). */
  bodyFacts(): BodyFacts {
    const { vars, retActive, remat, defs, inLoop, topOf, parentOf, listOf, topDecl, singleUse, indexVars, atUse } = this;
    return { vars, retActive, remat, defs, inLoop, topOf, parentOf, listOf, topDecl, singleUse, indexVars, atUse };
  }

  // ---- facts about the body ---------------------------------------------------------------

  protected isActive(n: string): boolean {
    return this.p.isActive(n) || (n === this.retVar && this.retActive);
  }

  protected isActiveAtom(e: Expr): boolean {
    return e.k === "var" && this.isActive(e.name);
  }

  protected ty(n: string): Ty {
    return this.vars.get(n) ?? { k: "num" };
  }

  protected indexDefs(stmts: readonly Stmt[], loop: boolean): void {
    for (const s of stmts) {
      if (loop) this.inLoop.add(s);
      const n = s.k === "let" && s.init ? s.name : s.k === "assign" && s.target.k === "var" ? s.target.name : undefined;
      if (n !== undefined) (this.defs.get(n) ?? this.defs.set(n, []).get(n)!).push(s);
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
  protected overwrites(site: Stmt, v: string): boolean {
    return this.inLoop.has(site) || this.defs.get(v)?.[0] !== site || this.params.has(v);
  }

  protected needsSave(site: Stmt, v: string): boolean {
    return this.R.has(v) && !this.counterScope.has(v) && this.overwrites(site, v) && !this.skippableSave(site, v) && this.inverseOf(site, v) === undefined;
  }

  /**
   * `i = i + 1` on an index variable is undone by `i = i - 1` instead of a saved value: an index
   * is an integer (an array read at a non-integer index would already make the result NaN), and
   * integer steps below 2^53 are exact. Returns the undoing statement's text.
   */
  protected inverseOf(site: Stmt, v: string): Stmt | undefined {
    if (!this.indexVars.has(v) || site.k !== "assign" || site.target.k !== "var") return undefined;
    const e = site.value;
    if (e.k !== "bin" || (e.op !== "+" && e.op !== "-") || e.l.k !== "var" || e.l.name !== v || e.r.k !== "num" || !Number.isInteger(e.r.v)) return undefined;
    return assign(v, bin(e.op === "+" ? "-" : "+", name(v), e.r), site.pos);
  }

  protected findIndexVars(body: readonly Stmt[]): void {
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
  protected skippableSave(site: Stmt, v: string): boolean {
    const at = this.prevSites.get(v);
    const top = this.topOf.get(site);
    if (!at || top === undefined) return false;
    let allAfter = true;
    for (const t of at) if (t <= top) allAfter = false;
    // Outside loops the same holds: an overwrite whose every reader comes after its top-level
    // statement restores a value nothing reads (`let x2 = 0; if (c) x2 = ...; ... x0 / x2`).
    if (!this.inLoop.has(site)) return allAfter;
    return allAfter || this.resetBeforeLoop(site, v);
  }

  /**
   * The same inside an outer loop: the innermost loop L around the overwrite reads no v in
   * reverse, and earlier in L's statement list v is reset by a plain definition with no reads of v
   * in between (`s = 0; for (...) s += t; ... log(s)`). Then the loop only overwrites values it
   * made itself, which no adjoint reads; the reset is the save that matters.
   */
  protected resetBeforeLoop(site: Stmt, v: string): boolean {
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

  protected indexParents(stmts: readonly Stmt[], parent: Stmt | null): void {
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

  protected hoisted(v: string): boolean {
    if (!this.R.has(v) || this.params.has(v)) return false;
    const decl = this.topDecl.get(v);
    return !decl?.init;
  }

  /**
   * Whether a statement's reverse has anything to do (so its branch or trip records are needed):
   * whether it or a statement inside it does. Remembered per statement while no loop counter is
   * in scope (the only state it depends on that changes), so nested loops do not re-walk their
   * insides once per enclosing level.
   */
  protected hasWork(s: Stmt): boolean {
    const memo = this.counterScope.size === 0;
    const known = memo ? this.workMemo.get(s) : undefined;
    if (known !== undefined) return known;
    const work = this.stmtWork(s) || stmtLists(s).some((l) => l.some((x) => this.hasWork(x)));
    if (memo) this.workMemo.set(s, work);
    return work;
  }
  private readonly workMemo = new Map<Stmt, boolean>();

  /** Whether the statement's own reverse (not that of statements inside it) has anything to do. */
  private stmtWork(x: Stmt): boolean {
    if (this.savedByCall(x).length) return true;
    switch (x.k) {
      case "let":
        return !!x.init && (this.isActive(x.name) || this.needsSave(x, x.name) || this.callNeedsRev(x.init, null));
      case "assign":
        if (x.target.k !== "var") return this.isActive(x.target.arr) || this.elementsRead(x.target.arr);
        return this.isActive(x.target.name) || this.needsSave(x, x.target.name) || (this.R.has(x.target.name) && this.inverseOf(x, x.target.name) !== undefined) || this.callNeedsRev(x.value, null);
      case "expr":
        return this.callNeedsRev(x.e, null);
      default:
        return false;
    }
  }

  /**
   * Arrays the reverse sweep reads that a call of the statement writes without being reversed
   * (its result and its arrays carry no derivative, so the plain function runs): saved whole
   * before the statement and restored after its adjoint, so the sweep reads what it had.
   */
  protected savedByCall(s: Stmt): string[] {
    if (s.k !== "let" && s.k !== "assign" && s.k !== "expr") return [];
    const target = s.k === "let" ? s.name : s.k === "assign" && s.target.k === "var" ? s.target.name : null;
    const out: string[] = [];
    for (const e of stmtExprs(s))
      forEachExpr(e, (x) => {
        if (x.k !== "call" || x.fn.k !== "user" || this.callNeedsRev(x, x === e ? target : null)) return;
        const m = this.spec.mutations.get(fnKey(x.fn.fn));
        x.args.forEach((a, j) => {
          if (m?.has(j) && a.k === "var" && this.ty(a.name).k === "arr" && this.elementsRead(a.name) && !out.includes(a.name)) out.push(a.name);
        });
      });
    return out;
  }

  protected isActiveCall(e: Expr): boolean {
    return e.k === "call" && e.fn.k === "user" && e.args.some((a) => this.isActiveAtom(a));
  }

  /**
   * Whether a user call's reverse must run: its result (bound to `target`) has an adjoint, or it
   * writes into an array that has one. Otherwise the forward sweep calls the plain function, so
   * nothing is recorded that no reverse would pop.
   */
  protected callNeedsRev(e: Expr, target: string | null): boolean {
    if (!this.isActiveCall(e)) return false;
    if (target !== null && this.isActive(target)) return true;
    const m = this.spec.mutations.get(fnKey((e as { fn: { fn: FnId } }).fn.fn));
    return (e as Extract<Expr, { k: "call" }>).args.some((a, j) => a.k === "var" && !!m?.has(j) && this.isActive(a.name));
  }

  /** The array `v` is read for its length (its elements are not). */
  protected readLength(v: string): void {
    if (!this.counterScope.has(v)) this.lengthReads.add(v);
  }

  protected read(e: Expr | string): void {
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

  protected bar(n: string): string {
    return this.namer.bar(n);
  }

  /** A counted loop whose index the reverse sweep can recount (its start is not changed by the loop). */
  protected counterFor(s: Loop): Loop["counter"] {
    const k = s.counter;
    if (!k || s.doWhile) return undefined;
    const initReads = reads(k.init);
    if (initReads.size === 0) return k; // a literal start: nothing to look for in the body
    let changed = false;
    forEachStmt([...s.body, ...s.update], (x) => {
      if ((x.k === "assign" && x.target.k === "var" && initReads.has(x.target.name)) || (x.k === "let" && initReads.has(x.name))) changed = true;
    });
    return changed ? undefined : k;
  }

  /** Whether the reverse sweep reads the array's elements (not only its length). */
  protected elementsRead(arr: string): boolean {
    return this.R.has(arr) && !this.lengthOnly.has(arr);
  }

  /** Whether an element write to `arr` at this statement saves the old element. */
  protected elementSaved(site: Stmt, arr: string): boolean {
    if (!this.elementsRead(arr)) return false;
    for (let x = this.parentOf.get(site); x; x = this.parentOf.get(x.stmt)) if (x.stmt.k === "loop" && this.checkpointsOf(x.stmt).includes(arr)) return false;
    return true;
  }

  protected arrayLane(a: string, op: "push" | "pop"): string {
    const t = this.ty(a);
    return t.k === "arr" && t.ctor === "Float64Array" ? `${op}F64` : `${op}Array`;
  }

  /** The last declaration of `v` in program order (the body is indexed on the first call). */
  protected declOf(v: string): Stmt | null {
    if (!this.lastDecl) {
      const last = (this.lastDecl = new Map<string, Stmt>());
      forEachStmt(this.body, (x) => void (x.k === "let" && last.set(x.name, x)));
    }
    return this.lastDecl.get(v) ?? null;
  }
  private lastDecl?: Map<string, Stmt>;
}
