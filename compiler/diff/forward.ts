/**
 * Forward mode: the tangent version of a function.
 *
 * Takes a prepared function (ANF body, activity) and gives the text of `f_jvp`, which runs the
 * primal code unchanged and, after each active statement, computes the statement's tangent
 * (`x_dot`). Control flow, jumps included, stays as the user wrote it: a tangent only ever
 * needs current values, so forward mode needs no tape.
 *
 * Calling convention: parameters are `(x, x_dot, y, ...)`, with a `_dot` after each active
 * parameter. The function returns the primal result and leaves the result's tangent in
 * `_rt.retF[0]` (a number) or `_rt.retO[0]` (an array), to be read by the caller right after.
 */
import { Code, generated, type Generated } from "../emit/code.js";
import { ruleArgs, ruleName, operands } from "../emit/terms.js";
import { name, scale, sum } from "../ir/make.js";
import type { Expr, Loop, Stmt, Ty } from "../ir/ir.js";
import { isDiffTy, originOf } from "../ir/ir.js";
import { printExpr, printTy } from "../ir/print.js";
import { scalarRule } from "../rules/scalar.js";
import { callMask, type Prepared, type Specializer } from "./prepare.js";
import { fnKey } from "../analysis/summaries.js";
import { assignText, declText, elementIncrement, emitIf, ndOperands, printLoopHead, zeroOf } from "./shared.js";
import { RT } from "../emit/names.js";

export function emitJvp(prepared: Prepared, spec: Specializer, name: string): Generated {
  const p: Prepared = { ...prepared, namer: prepared.namer.clone() };
  const fn = p.fn;
  const inMask = new Set(p.activeParams.map((q) => q.name));
  const params = fn.params.flatMap((q) => {
    const decl = `${q.name}: ${printTy(q.ty)}`;
    // One tangent per parameter of the active set (the calling convention), used or not.
    return inMask.has(q.name) ? [decl, `${p.namer.dot(q.name)}: ${printTy(q.ty)}`] : [decl];
  });
  const code = new Code().at(fn.pos.start);
  code.open(`export function ${name}(${params.join(", ")}): ${printTy(fn.ret)}`);
  // A parameter outside the active set that the body assigns an active value starts with a zero tangent.
  for (const q of fn.params) if (!inMask.has(q.name) && p.isActive(q.name)) code.line(`let ${p.namer.dot(q.name)} = ${zeroOf(q.ty, q.name)};`);
  new ForwardEmitter(p, spec, code).block(p.body);
  code.at(fn.pos.start).close();
  return generated(code);
}

class ForwardEmitter {
  constructor(
    private readonly p: Prepared,
    private readonly spec: Specializer,
    private readonly code: Code,
  ) {}

  private dot(e: Expr): string | null {
    return this.p.isActiveAtom(e) ? this.p.namer.dot((e as { name: string }).name) : null;
  }

  private tyOfVar(name: string): Ty {
    return this.p.vars.get(name)!;
  }

  block(stmts: readonly Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    const c = this.code.at(originOf(s));
    switch (s.k) {
      case "let": {
        const active = this.p.isActive(s.name);
        if (!s.init) {
          c.line(`let ${s.name}!: ${printTy(s.ty)};`);
          if (active) c.line(`let ${this.p.namer.dot(s.name)}!: ${printTy(s.ty)};`);
          return;
        }
        if (!active) {
          if (this.writesActiveArray(s.init)) c.line(`${s.isConst ? "const" : "let"} ${s.name} = ${this.userCall(s.init as Extract<Expr, { k: "call" }>)};`);
          else c.line(declText(s));
          return;
        }
        if (!s.isConst && s.ty.k === "arr") {
          // Declared with the wide type, as in declText: later assignments may bring any buffer.
          c.line(`let ${s.name}: ${printTy(s.ty)};`);
          c.line(`let ${this.p.namer.dot(s.name)}: ${printTy(s.ty)};`);
          this.definition(s.name, s.init, "", s.ty);
          return;
        }
        this.definition(s.name, s.init, s.isConst ? "const " : "let ", s.ty);
        return;
      }
      case "assign": {
        const t = s.target;
        if (t.k === "var") {
          if (!this.p.isActive(t.name)) c.line(`${t.name} = ${this.writesActiveArray(s.value) ? this.userCall(s.value as Extract<Expr, { k: "call" }>) : printExpr(s.value)};`);
          else this.definition(t.name, s.value, "", t.ty);
          return;
        }
        const lhs = `${t.arr}[${printExpr(t.idx)}]`;
        const inc = elementIncrement(s);
        if (inc) {
          c.line(`${assignText(s)};`);
          const d = this.dot(inc.step);
          if (d && this.p.isActive(t.arr)) c.line(`${this.p.namer.dot(t.arr)}[${printExpr(t.idx)}] ${inc.sign}= ${d};`);
          return;
        }
        c.line(`${lhs} = ${printExpr(s.value)};`);
        if (this.p.isActive(t.arr)) c.line(`${this.p.namer.dot(t.arr)}[${printExpr(t.idx)}] = ${this.dot(s.value) ?? "0"};`);
        return;
      }
      case "if":
        return emitIf(c, s, (x) => this.block(x));
      case "loop":
        return this.loop(s);
      case "block":
        c.open(`${s.label}:`);
        this.block(s.body);
        c.close();
        return;
      case "break":
        c.line(s.label ? `break ${s.label};` : "break;");
        return;
      case "continue":
        c.line(s.label ? `continue ${s.label};` : "continue;");
        return;
      case "return": {
        if (s.value && isDiffTy(this.p.fn.ret)) {
          const d = this.dot(s.value);
          const lane = this.p.fn.ret.k === "num" ? "retF" : "retO";
          c.line(`${RT}.${lane}[0] = ${d ?? zeroOf(this.p.fn.ret, printExpr(s.value))};`);
        }
        c.line(s.value ? `return ${printExpr(s.value)};` : "return;");
        return;
      }
      case "expr": {
        const e = s.e;
        if (e.k === "call" && e.fn.k === "user" && e.args.some((a) => this.p.isActiveAtom(a))) {
          c.line(`${this.userCall(e)};`);
          return;
        }
        c.line(`${printExpr(e)};`);
        return;
      }
    }
  }

  /** `v = value` for an active v: the primal, then its tangent. */
  private definition(v: string, value: Expr, kw: string, ty: Ty): void {
    const c = this.code;
    const vd = this.p.namer.dot(v);
    if (!this.p.isVaried(value)) {
      c.line(`${kw}${v} = ${printExpr(value)};`);
      c.line(`${kw}${vd} = ${zeroOf(ty, v)};`);
      return;
    }
    const rule = ruleName(value);
    if (value.k === "var" || value.k === "num" || value.k === "free" || value.k === "stop") {
      c.line(`${kw}${v} = ${printExpr(value)};`);
      c.line(`${kw}${vd} = ${this.dot(value) ?? zeroOf(ty, v)};`);
      return;
    }
    if (rule) {
      const r = scalarRule(rule)!;
      c.line(`${kw}${v} = ${printExpr(value)};`);
      const args = ruleArgs(value);
      const ops = operands(args, v, () => {});
      const terms: Expr[] = [];
      args.forEach((a, i) => {
        const d = this.dot(a);
        if (!d) return;
        const part = r.partial(i, ops);
        if (part !== null) terms.push(scale(part, name(d)));
      });
      c.line(`${kw}${vd} = ${printExpr(sum(terms))};`);
      return;
    }
    switch (value.k) {
      case "index":
        c.line(`${kw}${v} = ${printExpr(value)};`);
        c.line(`${kw}${vd} = ${this.dot(value.arr)}[${printExpr(value.idx)}];`);
        return;
      case "call":
        if (value.fn.k === "user") {
          c.line(`${kw}${v} = ${this.userCall(value)};`);
          c.line(`${kw}${vd} = ${RT}.${ty.k === "num" ? "retF" : "retO"}[0]${ty.k === "num" ? "" : ` as ${printTy(ty)}`};`);
          return;
        }
        if (value.fn.k === "nd") {
          // The registry's tangent rules, summed over the active operands (null: inactive).
          const { args, dots } = ndOperands(value, (a) => this.dot(a) ?? "null");
          c.line(`${kw}${v} = ${printExpr(value)};`);
          c.line(`${kw}${vd} = ${RT}.ndJvp(${JSON.stringify(value.fn.op)}, ${args}, ${dots}, ${v}) as ${printTy(ty)};`);
          return;
        }
        break;
      case "field":
        c.line(`${kw}${v} = ${printExpr(value)};`);
        c.line(`${kw}${vd} = ${this.dot(value.obj)}${value.idx ? `[${printExpr(value.idx)}]` : `.${value.name}`};`);
        return;
      case "arrlit":
        c.line(`${kw}${v} = ${printExpr(value)};`);
        c.line(`${kw}${vd} = ${printExpr({ ...value, elems: value.elems.map((x) => ({ k: "free", text: this.dot(x) ?? "0", ty: x.k === "var" ? x.ty : { k: "num" }, pos: x.pos })) })};`);
        return;
      case "copy":
        c.line(`${kw}${v} = ${printExpr(value)};`);
        c.line(`${kw}${vd} = ${printExpr({ ...value, e: { k: "free", text: this.dot(value.e)!, ty, pos: value.pos } })};`);
        return;
    }
    throw new Error(`forward mode: no tangent for ${value.k}`);
  }

  /**
   * A user call whose result carries no tangent but which writes into an array that does: it
   * must still run as its tangent version, which updates the array's tangent.
   */
  private writesActiveArray(e: Expr): boolean {
    if (e.k !== "call" || e.fn.k !== "user") return false;
    const m = this.spec.mutations.get(fnKey(e.fn.fn));
    return e.args.some((a, j) => !!m?.has(j) && this.p.isActiveAtom(a));
  }

  /** A call of a user function's tangent version; its result's tangent is in the scratch lane after. */
  private userCall(e: Extract<Expr, { k: "call" }>): string {
    const fn = (e.fn as { fn: import("../ir/ir.js").FnId }).fn;
    const mask = callMask(this.p, e.args);
    const name = this.spec.jvpName(fn, mask);
    const args = e.args.flatMap((a, i) => (mask[i] ? [printExpr(a), this.dot(a)!] : [printExpr(a)]));
    return `${name}(${args.join(", ")})`;
  }

  private loop(s: Loop): void {
    const c = this.code;
    const activeInit = s.init.some((x) => x.k === "let" && this.p.isActive(x.name));
    const simpleUpdate = s.update.every((u) => u.k === "assign" && u.target.k === "var" && !this.p.isActive(u.target.name));
    if (s.doWhile) {
      c.open(s.label ? `${s.label}: do` : "do");
      this.block(s.body);
      c.close(`} while (${printExpr(s.cond!)});`);
      return;
    }
    const wrap = activeInit;
    if (wrap) {
      c.open("");
      this.block(s.init);
    }
    const head = printLoopHead(s, wrap ? [] : s.init, simpleUpdate ? s.update : []);
    c.open(s.label ? `${s.label}: ${head}` : head);
    if (simpleUpdate) this.block(s.body);
    else {
      // The update has derivative code: run it after the body, with `continue` turned into
      // leaving a labelled body block so it still runs.
      const bodyLabel = this.p.namer.fresh("_body");
      c.open(`${bodyLabel}:`);
      this.block(continueToBreak(s.body, s.label, bodyLabel));
      c.close();
      this.block(s.update);
    }
    c.close();
    if (wrap) c.close();
  }
}

/** Rewrites `continue` of the loop (unlabelled, or with its label) into `break bodyLabel`. */
function continueToBreak(stmts: readonly Stmt[], loopLabel: string | undefined, bodyLabel: string, depth = 0): Stmt[] {
  return stmts.map((s): Stmt => {
    switch (s.k) {
      case "continue":
        if ((!s.label && depth === 0) || (s.label && s.label === loopLabel)) return { k: "break", label: bodyLabel, pos: s.pos };
        return s;
      case "if":
        return { ...s, then: continueToBreak(s.then, loopLabel, bodyLabel, depth), else: continueToBreak(s.else, loopLabel, bodyLabel, depth) };
      case "block":
        return { ...s, body: continueToBreak(s.body, loopLabel, bodyLabel, depth) };
      case "loop":
        return { ...s, body: continueToBreak(s.body, loopLabel, bodyLabel, depth + 1) };
      default:
        return s;
    }
  });
}
