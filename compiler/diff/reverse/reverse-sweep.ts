/**
 * The reverse sweep: statements visited backwards, each active definition's adjoint followed by
 * the restore of what it overwrote, branches and loops replayed from their records; and `run`,
 * which writes both sweeps and the declarations around them.
 */
import { bin, GEN, isNum, name, neg, num } from "../../ir/make.js";
import { assertNever, BOOL, NUM, originText, type Expr, type FnId, type Loop, type Stmt } from "../../ir/ir.js";
import { barInPlace } from "../../ir/ir.js";
import { printExpr } from "../../ir/print.js";
import { assignText, elementIncrement } from "../../ir/print-stmt.js";
import { assign, assignAt, block, comment as commentStmt, decl, exprStmt, ifStmt, increment, rt, tyText } from "../build-ir.js";
import { reads } from "../../ir/walk.js";
import { callMask } from "../prepare.js";
import { hoistDecl, barInit, barDecl } from "./helpers.js";
import { ForwardSweep } from "./forward-sweep.js";
import type { Adjoint } from "./index.js";

export class ReverseEmitter extends ForwardSweep {
  /** Each at-use temporary's place in program order, indexed once the analyses are done. */
  private atUseOrder?: Map<string, number>;

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
      // (zerosLike reads the array's length; barOf and ndZerosLike read the structure.)
      if (t.k === "arr") this.readLength(v);
      else if (t.k !== "num") this.read(v);
    }
    return {
      hoisted, fwd, snapshotPush, snapshotPop, barDecls, rev,
      output: this.output,
      outputActive: !!this.output && this.isActiveAtom(this.output),
      namer: this.namer,
      bar: (n) => this.bar(n),
    };
  }

  // ---- reverse sweep ----------------------------------------------------------------------

  protected rs(stmts: readonly Stmt[], c: Stmt[], loop: boolean): void {
    const top = stmts === this.body;
    for (let i = stmts.length - 1; i >= 0; i--) {
      if (top) this.topIndex = i;
      this.rsStmt(stmts[i], c, loop);
    }
    if (top) this.topIndex = Infinity;
  }

  protected rsList(stmts: readonly Stmt[], loop: boolean): Stmt[] {
    const out: Stmt[] = [];
    this.rs(stmts, out, loop);
    return out;
  }

  protected rsStmt(s: Stmt, c: Stmt[], loop: boolean): void {
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

  protected rsStmtInner(s: Stmt, c: Stmt[], loop: boolean): void {
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
        if (!active && !this.elementsRead(t.arr)) return;
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
      // Jumps were structurized away; a return's adjoint is the seed run() writes first.
      case "return":
      case "break":
      case "continue":
      case "comment":
        return;
      default:
        assertNever(s, "statement");
    }
  }

  /**
   * `// adjoint of: <the user's statement>`, once for the run of normalized statements that came
   * from one user statement (the reverse sweep meets them one after another).
   */
  protected comment(c: Stmt[], s: Stmt, fallback: string): void {
    const origin = s.k === "let" || s.k === "assign" || s.k === "expr" ? s.origin : undefined;
    const last = this.lastOrigin.get(c);
    if (origin && last && last.start === origin.start && last.end === origin.end) return;
    this.lastOrigin.set(c, origin);
    c.push(commentStmt(`adjoint of: ${origin ? originText(this.p.fn.source, origin) : fallback}`, this.here));
  }

  /** The adjoint of `v = value`, then the restore of v's old value if it was recorded. */
  protected rsDefinition(site: Stmt, v: string, value: Expr, c: Stmt[], text: string): void {
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

  protected rsDefinitionBody(site: Stmt, v: string, value: Expr, c: Stmt[], active: boolean, save: boolean): void {
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

  protected rsLoop(s: Loop, c: Stmt[], loop: boolean): void {
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
      this.read(formula);
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

  /** Writes one statement's adjoint, preceded by the recomputation of the at-use temporaries it reads. */
  protected withAtUse(c: Stmt[], write: (into: Stmt[]) => void): void {
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
    // In program order (definitions come before their uses in the map), sorting the few used
    // rather than scanning every at-use temporary of the function for each statement.
    const order = (this.atUseOrder ??= new Map([...this.atUse.keys()].map((t, i) => [t, i])));
    for (const t of [...used].sort((a, b) => order.get(a)! - order.get(b)!)) if (!done.has(t)) {
      const init = this.atUse.get(t)!;
      done.add(t);
      for (const v of reads(init)) if (!this.atUse.has(v)) this.read(v);
      c.push(decl(t, init, this.here, { isConst: true }));
    }
    c.push(...inner);
  }
}
