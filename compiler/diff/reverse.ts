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
 */
import { Code } from "../emit/code.js";
import { RT, type Namer } from "../emit/names.js";
import { operands, ruleArgs, ruleName } from "../emit/terms.js";
import { isNum, name, num, scale } from "../ir/make.js";
import { originText, type Expr, type FnId, type Loop, type Pos, type Stmt, type Ty } from "../ir/ir.js";
import { barInPlace, isDiffTy, isTree, originOf } from "../ir/ir.js";
import { paren, printExpr, printTy } from "../ir/print.js";
import { structurize } from "../ir/structurize.js";
import { forEachChildExpr, forEachExpr, forEachStmt, reads, stmtExprs } from "../ir/walk.js";
import { findRemat, type Remat } from "../analysis/remat.js";
import { linearSelfUpdate } from "../ir/anf.js";
import { fnKey } from "../analysis/summaries.js";
import { scalarRule } from "../rules/scalar.js";
import { callMask, type Prepared, type Specializer } from "./prepare.js";
import { assignText, declText, elementIncrement, emitIf, letAnnotation, ndOperands } from "./shared.js";

export type AdjointMode = "fused" | "split";

export interface Adjoint {
  /** Declarations hoisted to the top of the function (variables the reverse sweep reads). */
  readonly hoisted: Code;
  readonly fwd: Code;
  /** Split mode: the snapshot pushed at the end of the forward sweep. */
  readonly snapshotPush: Code;
  /** Split mode: the snapshot popped at the start of the reverse sweep. */
  readonly snapshotPop: Code;
  /** Adjoint variable declarations (at the start of the reverse sweep). */
  readonly barDecls: Code;
  readonly rev: Code;
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
  private readonly lastOrigin = new Map<Code, Pos | undefined>();
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
  private inverseOf(site: Stmt, v: string): string | undefined {
    if (!this.indexVars.has(v) || site.k !== "assign" || site.target.k !== "var") return undefined;
    const e = site.value;
    if (e.k !== "bin" || (e.op !== "+" && e.op !== "-") || e.l.k !== "var" || e.l.name !== v || e.r.k !== "num" || !Number.isInteger(e.r.v)) return undefined;
    return `${v} = ${v} ${e.op === "+" ? "-" : "+"} ${e.r.text};`;
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

  private pushOf(v: string): string {
    return isObjTy(this.ty(v)) ? `${RT}.tape.pushO(${v});` : `${RT}.tape.pushF(${v});`;
  }

  private popOf(v: string): string {
    const t = this.ty(v);
    return isObjTy(t) ? `${RT}.tape.popO<${printTy(t)}>()` : `${RT}.tape.popF()`;
  }

  // ---- the whole function -----------------------------------------------------------------

  run(): Adjoint {
    this.findNeeded();
    const fwd = new Code();
    this.fs(this.body, fwd, false);
    const rev = new Code();
    if (typeof this.outBar !== "string") {
      // A record block: one cotangent per output variable.
      (this.p.fn.outputs ?? []).forEach((o, k) => {
        if (this.isActive(o)) this.accumulate(rev, o, (this.outBar as readonly string[])[k]);
      });
    } else if (this.output && this.isActiveAtom(this.output)) {
      const out = (this.output as { name: string }).name;
      this.accumulate(rev, out, this.outBar);
    }
    this.rs(this.body, rev, false);

    const hoisted = new Code();
    const snapshotPush = new Code();
    const snapshotPop = new Code();
    const order = [...this.vars.keys()].filter((v) => this.R.has(v) && !this.counterScope.has(v));
    for (const v of order) if (this.hoisted(v)) hoisted.line(hoistDecl(v, this.ty(v)));
    if (this.mode === "split") {
      for (const v of order) snapshotPush.line(this.pushOf(v));
      for (const v of [...order].reverse()) snapshotPop.line(`let ${v} = ${this.popOf(v)};`);
    }
    const barDecls = new Code();
    // Array and object parameters differentiated with respect to get their adjoints from the
    // caller; one that is only written with active values (not a wrt parameter) needs its own.
    const given = new Set(this.p.activeParams.map((q) => q.name));
    for (const [v, t] of this.vars) {
      if (!this.isActive(v) || this.singleUse.has(v) || (given.has(v) && barInPlace(t))) continue;
      barDecls.line(barDecl(this.bar(v), t, v));
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
  private readonly recomputedIn = new Map<Code, Set<string>>();

  /** Writes one statement's adjoint, preceded by the recomputation of the at-use temporaries it reads. */
  private withAtUse(c: Code, write: (into: Code) => void): void {
    const saved = this.atUseRead;
    const used = (this.atUseRead = new Set());
    const inner = new Code();
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
      c.line(`const ${t} = ${printExpr(init)};`);
    }
    c.append(inner);
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

  private fs(stmts: readonly Stmt[], c: Code, loop: boolean): void {
    for (const s of stmts) this.fsStmt(s, c, loop);
  }

  private fsStmt(s: Stmt, c: Code, loop: boolean): void {
    c.at(originOf(s));
    if ((s.k === "let" || s.k === "assign") && !this.stmtNeeded(s)) return;
    if ((s.k === "if" || s.k === "block") && !this.hasWork(s) && !this.anyNeeded([s])) return;
    switch (s.k) {
      case "let": {
        if (!s.init) {
          if (!this.hoisted(s.name)) c.line(declText(s));
          return;
        }
        if (this.needsSave(s, s.name)) c.line(this.pushOf(s.name));
        const value = this.fsValue(s.init, s.name);
        if (this.hoisted(s.name)) c.line(`${s.name} = ${value};`);
        else c.line(`${s.isConst ? "const" : "let"} ${s.name}${letAnnotation(s)} = ${value};`);
        return;
      }
      case "assign": {
        const t = s.target;
        if (t.k === "var") {
          if (!this.neededVars.has(t.name)) {
            // Kept only for the call it makes: the variable (maybe not even declared) is not read.
            c.line(`${this.fsValue(s.value, t.name)};`);
            return;
          }
          if (this.needsSave(s, t.name)) c.line(this.pushOf(t.name));
          c.line(`${t.name} = ${this.fsValue(s.value, t.name)};`);
        } else {
          if (this.elementSaved(s, t.arr)) c.line(`${RT}.tape.pushF(${t.arr}[${printExpr(t.idx)}]);`);
          c.line(`${assignText(s)};`);
        }
        return;
      }
      case "if": {
        if (!this.hasWork(s)) return emitIf(c, s, (b) => this.fs(b, c, loop));
        const rec = this.record(s, loop);
        const empty = !this.anyNeeded(s.then) && !this.anyNeeded(s.else) && !hasLoopWork(s, (x) => this.hasWork(x));
        if (rec.local) {
          c.line(`const ${rec.local} = ${printExpr(s.cond)};`);
          if (!empty) emitIf(c, s, (b) => this.fs(b, c, loop), rec.local, false);
          return;
        }
        if (empty) {
          c.line(`${RT}.tape.pushB(${printExpr(s.cond)});`);
          return;
        }
        c.open(`if (${printExpr(s.cond)})`);
        this.fs(s.then, c, loop);
        c.line(`${RT}.tape.pushB(true);`);
        c.mid("} else {");
        this.fs(s.else, c, loop);
        c.line(`${RT}.tape.pushB(false);`);
        c.close();
        return;
      }
      case "loop":
        return this.fsLoop(s, c, loop);
      case "block":
        c.open("");
        this.fs(s.body, c, loop);
        c.close();
        return;
      case "return":
        this.output = s.value ?? null;
        if (this.mode === "split") return; // the caller (emitSplit) pushes the snapshot, then returns
        return;
      case "expr":
        c.line(`${this.fsValue(s.e, null)};`);
        return;
      case "break":
      case "continue":
        throw new Error("reverse mode: jumps should have been structurized");
    }
  }

  /** A right-hand side in the forward sweep: active user calls go to their recording version. */
  private fsValue(e: Expr, target: string | null): string {
    if (e.k === "call" && e.fn.k === "user" && this.callNeedsRev(e, target)) {
      const { fwd } = this.spec.splitNames(e.fn.fn, callMask(this.p, e.args));
      return `${fwd}(${e.args.map((a) => printExpr(a)).join(", ")})`;
    }
    return printExpr(e);
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

  private fsLoop(s: Loop, c: Code, loop: boolean): void {
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
    if (count) c.line(`let ${count} = 0;`);
    if (wrap) {
      c.open("");
      this.fs(s.init, c, loop);
    }
    if (s.doWhile) {
      c.open("do");
    } else {
      const init = wrap ? [] : s.init;
      const update = plainUpdate ? s.update : [];
      c.open(loopHead(s, init, update));
    }
    if (count) c.line(`${count}++;`);
    for (const a of this.checkpointsOf(s)) c.line(`${RT}.tape.${this.arrayLane(a, "push")}(${a});`);
    this.fs(s.body, c, true);
    if (!plainUpdate || s.doWhile) this.fs(s.update, c, true);
    if (s.doWhile) c.close(`} while (${printExpr(s.cond!)});`);
    else c.close();
    if (wrap) c.close();
    if (count && !rec!.local) c.line(`${RT}.tape.pushI(${count});`);
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

  private rs(stmts: readonly Stmt[], c: Code, loop: boolean): void {
    const top = stmts === this.body;
    for (let i = stmts.length - 1; i >= 0; i--) {
      if (top) this.topIndex = i;
      this.rsStmt(stmts[i], c, loop);
    }
    if (top) this.topIndex = Infinity;
  }

  private rsStmt(s: Stmt, c: Code, loop: boolean): void {
    const saved = this.currentStmt;
    this.currentStmt = s;
    try {
      this.rsStmtInner(s, c, loop);
    } finally {
      this.currentStmt = saved;
    }
  }

  private rsStmtInner(s: Stmt, c: Code, loop: boolean): void {
    c.at(originOf(s));
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
        const idx = printExpr(t.idx);
        const inc = elementIncrement(s);
        if (active && inc) {
          // a[i] += t: t_bar gets a_bar[i], which stays (the old element counts once, as before).
          this.read(t.idx);
          if (this.isActiveAtom(inc.step)) this.accumulate(c, (inc.step as { name: string }).name, `${inc.sign === "-" ? "-" : ""}${this.bar(t.arr)}[${idx}]`);
        } else if (active) {
          this.read(t.idx);
          const ab = `${this.bar(t.arr)}[${idx}]`;
          if (this.isActiveAtom(s.value)) c.line(`${this.bar((s.value as { name: string }).name)} += ${ab};`);
          c.line(`${ab} = 0;`);
        }
        if (this.elementSaved(s, t.arr)) {
          this.read(t.idx);
          this.read(t.arr);
          c.line(`${t.arr}[${idx}] = ${RT}.tape.popF();`);
        }
        return;
      }
      case "if": {
        if (!this.hasWork(s)) return;
        const rec = this.recs.get(s)!;
        const cond = rec.local ?? `${RT}.tape.popB()`;
        const then = new Code();
        this.rs(s.then, then, loop);
        const els = new Code();
        this.rs(s.else, els, loop);
        if (then.isEmpty && els.isEmpty) {
          if (!rec.local) c.line(`${RT}.tape.popB();`);
          return;
        }
        if (then.isEmpty) {
          c.open(`if (!${cond})`).append(els).close();
          return;
        }
        c.open(`if (${cond})`).append(then);
        if (!els.isEmpty) c.mid("} else {").append(els);
        c.close();
        return;
      }
      case "loop":
        return this.rsLoop(s, c, loop);
      case "block": {
        const inner = new Code();
        this.rs(s.body, inner, loop);
        if (!inner.isEmpty) c.open("").append(inner).close();
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
  private comment(c: Code, s: Stmt, fallback: string): void {
    const origin = s.k === "let" || s.k === "assign" || s.k === "expr" ? s.origin : undefined;
    const last = this.lastOrigin.get(c);
    if (origin && last && last.start === origin.start && last.end === origin.end) return;
    this.lastOrigin.set(c, origin);
    c.line(`// adjoint of: ${origin ? originText(this.p.fn.source, origin) : fallback}`);
  }

  /** The adjoint of `v = value`, then the restore of v's old value if it was recorded. */
  private rsDefinition(site: Stmt, v: string, value: Expr, c: Code, text: string): void {
    const active = this.isActive(v);
    const save = this.needsSave(site, v);
    const inverse = this.R.has(v) && this.overwrites(site, v) && !this.skippableSave(site, v) ? this.inverseOf(site, v) : undefined;
    if (inverse) {
      this.comment(c, site, text);
      c.line(inverse);
      return;
    }
    const callOnly = !active && value.k === "call" && this.callNeedsRev(value, null);
    if (!active && !save && !callOnly) return;
    this.comment(c, site, text);
    if (callOnly) {
      // The result has no adjoint, but the call wrote into an active array: run its reverse with
      // a zero result adjoint.
      const zero = barInit(this.ty(v), v);
      if (zero !== "0") this.read(v);
      this.rsUserCall(value as Extract<Expr, { k: "call" }>, this.spec.resultActive((value as { fn: { fn: FnId } }).fn.fn, callMask(this.p, value.args)) ? zero : null, c);
    }
    this.withAtUse(c, (into) => this.rsDefinitionBody(site, v, value, into, active, save));
  }

  private rsDefinitionBody(site: Stmt, v: string, value: Expr, c: Code, active: boolean, save: boolean): void {
    const ty = this.ty(v);
    const reset = this.overwrites(site, v);
    let inPlace = false;
    if (active) {
      inPlace = this.rsOperation(v, value, c);
      if (reset && ty.k === "num" && !inPlace && !this.singleUse.has(v)) c.line(`${this.bar(v)} = 0;`);
    }
    // `typeof v`: TypeScript gives `new Float64Array(n)` the narrower Float64Array<ArrayBuffer>.
    if (save) c.line(`${v} = ${ty.k === "arr" ? `${RT}.tape.popO<typeof ${v}>()` : this.popOf(v)};`);
    if (active && reset && ty.k !== "num" && !this.singleUse.has(v)) {
      this.read(v);
      c.line(`${this.bar(v)} = ${barInit(ty, v)};`);
    }
  }

  /**
   * Propagates v_bar to the operands of `v = value`. Returns true for a self-update linear in v
   * (`s = s + t`), whose adjoint scales v_bar in place instead of resetting it.
   */
  private rsOperation(v: string, value: Expr, c: Code): boolean {
    if (!this.p.isVaried(value) && !(value.k === "var" && this.isActive(value.name))) return false;
    const g = this.bar(v);
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
        else if (part !== null) this.accumulate(c, (a as { name: string }).name, printExpr(scale(part, name(g))));
        else if (this.singleUse.has((a as { name: string }).name)) c.line(`const ${this.bar((a as { name: string }).name)} = 0;`);
      });
      if (isNum(selfPartial, -1)) c.line(`${g} = -${g};`);
      else if (!isNum(selfPartial, 1)) c.line(`${g} = ${printExpr(scale(selfPartial, name(g)))};`);
      return true;
    }
    if (value.k === "var") {
      if (this.isActive(value.name)) this.accumulate(c, value.name, g);
      return false;
    }
    if (rule) {
      const r = scalarRule(rule)!;
      const args = ruleArgs(value);
      const ops = operands(args, v, (x) => this.read(x));
      args.forEach((a, i) => {
        if (!this.isActiveAtom(a)) return;
        const part = r.partial(i, ops);
        if (part !== null) this.accumulate(c, (a as { name: string }).name, printExpr(scale(part, name(g))));
        else if (this.singleUse.has((a as { name: string }).name)) c.line(`const ${this.bar((a as { name: string }).name)} = 0;`);
      });
      return false;
    }
    switch (value.k) {
      case "index":
        if (this.isActiveAtom(value.arr)) {
          this.read(value.idx);
          c.line(`${this.bar((value.arr as { name: string }).name)}[${printExpr(value.idx)}] += ${g};`);
        }
        return false;
      case "call":
        if (value.fn.k === "user") {
          this.rsUserCall(value, g, c);
          return false;
        }
        if (value.fn.k === "nd") {
          // The registry's adjoint rules, one per active operand; they may read any operand and the result.
          const op = JSON.stringify(value.fn.op);
          const { args } = ndOperands(value, () => "null");
          const list = value.fn.list;
          value.args.forEach((a) => this.read(a));
          this.read(v);
          value.args.forEach((a, i) => {
            if (!this.isActiveAtom(a)) return;
            const name = (a as { name: string }).name;
            // A list element's adjoint is element k of operand 0's adjoint.
            const [pos, elem] = list === undefined ? [i, ""] : i < list ? [0, `, ${i}`] : [i - list + 1, ""];
            const fn = this.ty(name).k === "num" ? "ndVjpNum" : "ndVjp";
            this.accumulate(c, name, `${RT}.${fn}(${op}, ${pos}, ${g}, ${args}, ${v}${elem})`);
          });
          return false;
        }
        break;
      case "field":
        if (this.isActiveAtom(value.obj)) {
          if (value.idx) this.read(value.idx);
          this.accumulateField(c, (value.obj as { name: string }).name, value.idx ? `[${printExpr(value.idx)}]` : `.${value.name}`, value.ty, g);
        }
        return false;
      case "arrlit":
        value.elems.forEach((x, k) => {
          if (this.isActiveAtom(x)) c.line(`${this.bar((x as { name: string }).name)} += ${g}[${k}];`);
        });
        return false;
      case "copy":
        if (this.isActiveAtom(value.e)) c.line(`${RT}.addInto(${this.bar((value.e as { name: string }).name)}, ${g});`);
        return false;
      case "alloc":
      case "stop":
        return false;
    }
    throw new Error(`reverse mode: no adjoint for ${value.k}`);
  }

  /** `name_bar += contrib`, spelled for the variable's type (arrays elementwise; NDArray nulls are zeros). */
  private accumulate(c: Code, name: string, contrib: string): void {
    const t = this.ty(name);
    const b = this.bar(name);
    if (this.singleUse.has(name)) {
      c.line(`const ${b} = ${contrib};`);
      return;
    }
    if (t.k === "arr") c.line(`${RT}.addInto(${b}, ${contrib});`);
    else if (t.k === "nd") c.line(`${b} = ${RT}.ndAcc(${b}, ${contrib});`);
    else if (isTree(t)) c.line(`${RT}.addTree(${b}, ${contrib});`);
    else c.line(`${b} += ${contrib};`);
  }

  /**
   * `obj_bar.field += contrib` for a part of a parameter object or list (`access` is `.w` or
   * `[i]`): the part's adjoint is its own accumulator, added into the whole's when the reverse
   * sweep reaches the read. (Writes through parts are refused by the fence, so the part's
   * adjoint only ever collects reads.)
   */
  private accumulateField(c: Code, obj: string, access: string, ty: Ty, contrib: string): void {
    const b = `${this.bar(obj)}${access}`;
    if (ty.k === "nd") c.line(`${b} = ${RT}.ndAcc(${b}, ${contrib});`);
    else if (ty.k === "arr") c.line(`${RT}.addInto(${b}, ${contrib});`);
    else if (isTree(ty)) c.line(`${RT}.addTree(${b}, ${contrib});`);
    else c.line(`${b} += ${contrib};`);
  }

  /** `g_rev(array bars..., out_bar)`; scalar adjoints come back as the result or in `_rt.retF`. */
  private rsUserCall(e: Extract<Expr, { k: "call" }>, g: string | null, c: Code): void {
    const fn: FnId = (e.fn as { fn: FnId }).fn;
    // The callee's reverse sweep may read the contents of any array it was given: keep them
    // restored here too (writes to them in this function are saved and undone).
    for (const a of e.args) if (a.k === "var" && this.ty(a.name).k === "arr") this.read(a.name);
    const mask = callMask(this.p, e.args);
    const { rev } = this.spec.splitNames(fn, mask);
    const callee = this.spec.callee(fn);
    const passed: string[] = [];
    const returned: { name: string; lane: "retF" | "retO" }[] = [];
    e.args.forEach((a, i) => {
      if (!mask[i]) return;
      const name = (a as { name: string }).name;
      const t = callee.params[i]?.ty ?? this.ty(name);
      if (barInPlace(t)) passed.push(this.bar(name));
      else returned.push({ name, lane: t.k === "num" ? "retF" : "retO" });
    });
    if (g !== null && this.spec.resultActive(fn, mask)) passed.push(g);
    const call = `${rev}(${passed.join(", ")})`;
    if (returned.length === 0) c.line(`${call};`);
    else if (returned.length === 1) this.accumulate(c, returned[0].name, call);
    else {
      c.line(`${call};`);
      let f = 0;
      let o = 0;
      for (const r of returned) this.accumulate(c, r.name, r.lane === "retF" ? `${RT}.retF[${f++}]` : `${RT}.retO[${o++}] as ${printTy(this.ty(r.name))} | null`);
    }
  }

  private rsLoop(s: Loop, c: Code, loop: boolean): void {
    const rec = this.recs.get(s);
    const formula = this.closedCounts.get(s);
    if (!rec && !formula) return; // no work in the reverse
    const count = formula ? this.namer.fresh("_n") : rec!.local ?? (rec as { count?: string }).count!;
    const counter = this.counterFor(s);
    if (counter) this.counterScope.add(counter.name);
    const body = new Code();
    this.rs(s.update, body, true);
    this.rs(s.body, body, true);
    // Recompute this body's cheap variables that the reverse iteration reads (analysis/remat.ts).
    const prologue = new Code();
    const recompute = this.remat.byLoop.get(s) ?? [];
    for (let i = recompute.length - 1; i >= 0; i--) if (this.rematUsed.has(recompute[i].name)) this.read(recompute[i].init);
    for (const r of recompute) if (this.rematUsed.has(r.name)) prologue.line(`const ${r.name} = ${printExpr(r.init)};`);
    if (!prologue.isEmpty) prologue.prepend("// recomputed, not recorded");
    if (counter) this.counterScope.delete(counter.name);
    if (formula) {
      for (const v of (formula as unknown as { reads: string[] }).reads) this.read(v);
      c.line(`const ${count} = ${printExpr(formula)};`);
    } else if (!rec!.local) c.line(`const ${count} = ${RT}.tape.popI();`);
    if (counter) {
      const init = printExpr(counter.init);
      this.read(counter.init);
      const i = counter.name;
      if (counter.step === 1) c.open(`for (let ${i} = ${init === "0" ? "" : `${init} + `}${count} - 1; ${i} >= ${init}; ${i}--)`);
      else if (counter.step === -1) c.open(`for (let ${i} = ${init} - ${count} + 1; ${i} <= ${init}; ${i}++)`);
      else {
        const k = this.namer.fresh("_k");
        c.open(`for (let ${k} = ${count} - 1; ${k} >= 0; ${k}--)`);
        c.line(`const ${i} = ${init} + ${k} * ${counter.step};`);
      }
    } else {
      const k = this.namer.fresh("_k");
      c.open(`for (let ${k} = 0; ${k} < ${count}; ${k}++)`);
    }
    const restore = this.checkpointsOf(s);
    for (const a of [...restore].reverse()) {
      this.read(a);
      body.line(`${RT}.tape.${this.arrayLane(a, "pop")}(${a});`);
    }
    c.append(prologue).append(body).close();
    const init = new Code();
    this.rs(s.init, init, loop);
    c.append(init);
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

function hoistDecl(v: string, t: Ty): string {
  switch (t.k) {
    case "num":
      return `let ${v} = 0;`;
    case "bool":
      return `let ${v} = false;`;
    case "arr":
      return t.ctor === "Float64Array" ? `let ${v}: Float64Array = ${RT}.EMPTY_F64;` : `let ${v}: number[] = [];`;
    default:
      return `let ${v}!: ${printTy(t)};`;
  }
}

function barInit(t: Ty, like: string): string {
  switch (t.k) {
    case "num":
      return "0";
    case "arr":
      return `${RT}.zerosLike(${like})`;
    case "obj":
    case "list":
      return `${RT}.barOf(${like})`;
    default:
      return "null";
  }
}

function barDecl(bar: string, t: Ty, v: string): string {
  if (t.k === "num") return `let ${bar} = 0;`;
  if (t.k === "arr") return `let ${bar} = ${RT}.zerosLike(${v});`;
  if (isTree(t)) return `let ${bar} = ${RT}.barOf(${v});`;
  return `let ${bar}: ${printTy(t)} | null = null;`;
}

function loopHead(s: Loop, init: readonly Stmt[], update: readonly Stmt[]): string {
  const cond = s.cond ? printExpr(s.cond) : "";
  if (init.length === 0 && update.length === 0) return s.cond ? `while (${cond})` : "for (;;)";
  let initText = "";
  if (init.length) {
    if (init.every((x) => x.k === "let")) initText = "let " + (init as Extract<Stmt, { k: "let" }>[]).map((l) => (l.init ? `${l.name} = ${printExpr(l.init)}` : l.name)).join(", ");
    else initText = (init as Extract<Stmt, { k: "assign" }>[]).map((x) => assignText(x)).join(", ");
  }
  return `for (${initText}; ${cond}; ${update.map((u) => assignText(u as Extract<Stmt, { k: "assign" }>)).join(", ")})`;
}

export { isDiffTy };

