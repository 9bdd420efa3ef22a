/**
 * The forward sweep: the primal code (jumps removed) with the records the reverse sweep pops:
 * overwritten values, branch records, trip counts, whole-array checkpoints.
 */
import { GEN, name, num } from "../../ir/make.js";
import { BOOL, type Expr, type Loop, type Stmt } from "../../ir/ir.js";
import { block, decl, exprStmt, ifStmt, increment, receiverCast, rt } from "../build-ir.js";
import { callMask } from "../prepare.js";
import { hasLoopWork } from "./helpers.js";
import { Adjoints } from "./adjoints.js";
import type { Rec } from "./index.js";

export abstract class ForwardSweep extends Adjoints {

  // ---- forward sweep ----------------------------------------------------------------------

  protected fs(stmts: readonly Stmt[], c: Stmt[], loop: boolean): void {
    for (const s of stmts) this.fsStmt(s, c, loop);
  }

  protected fsList(stmts: readonly Stmt[], loop: boolean): Stmt[] {
    const out: Stmt[] = [];
    this.fs(stmts, out, loop);
    return out;
  }

  protected fsStmt(s: Stmt, c: Stmt[], loop: boolean): void {
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
          c.push(push(truth(s.cond)));
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
  protected fsValue(e: Expr, target: string | null): Expr {
    if (e.k === "call" && e.fn.k === "user" && this.callNeedsRev(e, target)) {
      const { fwd } = this.spec.splitNames(e.fn.fn, callMask(this.p, e.args));
      const [first, ...rest] = e.args;
      const args = first ? [receiverCast(first, first.k === "var" ? this.ty(first.name) : first.k === "free" ? first.ty : { k: "void" }, this.spec.callee(e.fn.fn), false), ...rest] : e.args;
      return { ...e, fn: { k: "derived", name: fwd, of: e.fn.fn, kind: "fwd" }, args };
    }
    return e;
  }

  /** A record is a plain local only for a top-level statement of a fused function; else it is taped. */
  protected record(s: Stmt, _loop: boolean): Rec {
    let r = this.recs.get(s);
    if (!r) {
      const local = this.mode === "fused" && this.listOf.get(s) === this.body;
      r = { local: local ? this.namer.fresh(s.k === "if" ? "_br" : "_n") : null };
      this.recs.set(s, r);
    }
    return r;
  }

  protected fsLoop(s: Loop, c: Stmt[], loop: boolean): void {
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
}

/** A condition as a boolean (a number tested for truth, `if (t)`, is pushed as `!!t`). */
function truth(e: Expr): Expr {
  if ("ty" in e && e.ty.k === "bool") return e;
  if (e.k === "bool" || (e.k === "un" && e.op === "!")) return e;
  return { k: "un", op: "!", e: { k: "un", op: "!", e, ty: BOOL, pos: e.pos }, ty: BOOL, pos: e.pos };
}
