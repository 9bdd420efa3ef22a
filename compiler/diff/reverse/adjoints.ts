/**
 * The adjoint of one operation: a scalar rule's partials, an NDArray op's registered adjoint, a
 * user call's reverse sweep, a part of a parameter; and how an adjoint accumulates for each type.
 */
import { RT } from "../../emit/names.js";
import { operands, ruleArgs, ruleName } from "../../emit/terms.js";
import { bin, free, GEN, isNum, name, neg, num, scale, sum } from "../../ir/make.js";
import { NUM, type Expr, type FnId, type Stmt } from "../../ir/ir.js";
import { barInPlace, isTree } from "../../ir/ir.js";
import { printExpr, printTy } from "../../ir/print.js";
import { assign, assignAt, decl, exprStmt, lane, ndOperands, receiverCast, rt, tyText } from "../build-ir.js";
import { scalarRule } from "../../rules/scalar.js";
import { callMask } from "../prepare.js";
import { isObjTy } from "./helpers.js";
import { Liveness } from "./liveness.js";

export abstract class Adjoints extends Liveness {

  protected pushOf(v: string): Stmt {
    return exprStmt(rt(isObjTy(this.ty(v)) ? "tape.pushO" : "tape.pushF", [name(v, this.ty(v))]), this.here);
  }

  protected popOf(v: string): Expr {
    const t = this.ty(v);
    return isObjTy(t) ? rt("tape.popO", [], t, [t]) : rt("tape.popF", []);
  }

  /**
   * Propagates v_bar to the operands of `v = value`. Returns true for a self-update linear in v
   * (`s = s + t`), whose adjoint scales v_bar in place instead of resetting it.
   */
  protected rsOperation(v: string, value: Expr, c: Stmt[]): boolean {
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
      // One operand twice (`a * a`): one update with the partials added (`a_bar += (a + a) * g`),
      // not two read-modify-writes of a_bar.
      const parts = new Map<string, Expr[]>();
      args.forEach((a, i) => {
        if (!this.isActiveAtom(a)) return;
        const x = (a as { name: string }).name;
        const part = r.partial(i, ops);
        if (part !== null) (parts.get(x) ?? parts.set(x, []).get(x)!).push(part);
        else if (this.singleUse.has(x)) c.push(decl(this.bar(x), num(0), this.here, { isConst: true }));
      });
      for (const [x, ps] of parts) this.accumulate(c, x, scale(combined(ps), gv));
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
            // A plain array operand (np.array(xs)): its adjoint is added into xs_bar in place.
            if (this.ty(n).k === "arr") {
              c.push(exprStmt(rt("ndVjpInto", [name(this.bar(n), this.ty(n)), op, num(at), gv, args, name(v, this.ty(v))]), this.here));
              return;
            }
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
  protected accumulate(c: Stmt[], n: string, contrib: Expr): void {
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
  protected accumulateField(c: Stmt[], obj: string, part: Extract<Expr, { k: "field" }>, contrib: Expr): void {
    const ty = part.ty;
    const whole = this.bar(obj);
    // A private or protected member is missing from the adjoint's type (Bar<T> maps the public
    // keys): the adjoint object is read through `any` there.
    // (So is a subclass's field read through a variable of the base class, print.ts "field".)
    const objTy = this.ty(obj);
    const untyped = part.hidden || (!part.idx && objTy.k === "obj" && !objTy.fields.some(([n]) => n === part.name));
    const wholeExpr: Expr = untyped ? { k: "as", e: name(whole, objTy), ty: { k: "other", text: "any" }, pos: this.here } : name(whole, objTy);
    const b: Expr = { ...part, obj: wholeExpr };
    // The part as a target: `p_bar.w` is written as a name (derivative code only; nothing
    // analyses it), `l_bar[i]` as an element.
    // (An optional number field, `beta?: number`, is added to where the object has it: `!`.)
    const optional = ty.k === "other" && /\bundefined\b/.test(ty.text) ? "!" : "";
    const target = untyped ? `(${whole} as any).${part.name}` : `${whole}.${part.name}${optional}`;
    const set = (value: Expr, op?: "+"): Stmt => (part.idx ? assignAt(whole, part.idx, value, this.here, ty, op) : assign(target, value, this.here, ty, op));
    if (ty.k === "nd") c.push(set(rt("ndAcc", [b, contrib], ty)));
    else if (ty.k === "arr") c.push(exprStmt(rt("addInto", [b, contrib]), this.here));
    else if (isTree(ty)) c.push(exprStmt(rt("addTree", [b, contrib]), this.here));
    else c.push(set(contrib, "+"));
  }

  /** `g_rev(array bars..., out_bar)`; scalar adjoints come back as the result or in `_rt.retF`. */
  protected rsUserCall(e: Extract<Expr, { k: "call" }>, g: Expr | null, c: Stmt[]): void {
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
      if (barInPlace(t)) passed.push(i === 0 ? receiverCast(name(this.bar(n), t), this.ty(n), callee, true) : name(this.bar(n), t));
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
}

/** The partials of one operand added: `2 * a` for `a` twice, constants folded. */
function combined(ps: readonly Expr[]): Expr {
  if (ps.length === 1) return ps[0];
  if (ps.every((p) => p.k === "num")) return num(ps.reduce((t, p) => t + (p as { v: number }).v, 0));
  const first = printExpr(ps[0]);
  if (ps.every((p) => printExpr(p) === first)) return bin("*", num(ps.length), ps[0]);
  return sum(ps);
}
