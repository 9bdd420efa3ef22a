/**
 * Forward mode: the tangent version of a function, as an IR-to-IR transform.
 *
 * Takes a prepared function (ANF body, activity) and gives `f_jvp` as IR in adc's own language
 * (plus runtime calls and generated callees), which the one printer turns into text. `f_jvp` runs
 * the primal code unchanged and, after each active statement, the statement's tangent (`x_dot`).
 * Control flow, jumps included, stays as the user wrote it: a tangent only ever needs current
 * values, so forward mode needs no tape.
 *
 * Calling convention: parameters are `(x, x_dot, y, ...)`, with a `_dot` after each active
 * parameter. The function returns the primal result and leaves the result's tangent in
 * `_rt.retF[0]` (a number) or `_rt.retO[0]` (an array), to be read by the caller right after.
 */
import { generated, type Generated } from "../emit/code.js";
import { ruleArgs, ruleName, operands } from "../emit/terms.js";
import { free, name, num, scale, sum } from "../ir/make.js";
import { isDiffTy, NUM, type Expr, type FnId, type GenFunction, type Loop, type Pos, type Stmt, type Ty } from "../ir/ir.js";
import { elementIncrement, printFunction } from "../ir/print-stmt.js";
import { scalarRule } from "../rules/scalar.js";
import { callMask, type Prepared, type Specializer } from "./prepare.js";
import { fnKey } from "../analysis/summaries.js";
import { RT } from "../emit/names.js";
import { dump } from "../pipeline.js";
import { ndOperands, receiverCast } from "./build-ir.js";
import { ndTangent, zerosLike } from "../rules/nd-tangents.js";

export function emitJvp(prepared: Prepared, spec: Specializer, name: string): Generated {
  const g = forwardFunction(prepared, spec, name);
  dump("forward", name, g.body);
  return generated(printFunction(g));
}

/** `f_jvp` as IR. */
export function forwardFunction(prepared: Prepared, spec: Specializer, fnName: string): GenFunction {
  const p: Prepared = { ...prepared, namer: prepared.namer.clone() };
  const fn = p.fn;
  const inMask = new Set(p.activeParams.map((q) => q.name));
  // One tangent per parameter of the active set (the calling convention), used or not.
  const params = fn.params.flatMap((q) => (inMask.has(q.name) ? [{ name: q.name, ty: q.ty }, { name: p.namer.dot(q.name), ty: q.ty }] : [{ name: q.name, ty: q.ty }]));
  const body: Stmt[] = [];
  // A parameter outside the active set that the body assigns an active value starts with a zero tangent.
  for (const q of fn.params)
    if (!inMask.has(q.name) && p.isActive(q.name)) body.push({ k: "let", name: p.namer.dot(q.name), ty: q.ty, init: zeroOf(q.ty, name(q.name, q.ty)), isConst: false, pos: q.pos });
  body.push(...new Forward(p, spec).block(p.body));
  return { name: fnName, params, ret: fn.ret, body, pos: fn.pos };
}

/** How a definition is written: a declaration (`const`/`let`) or an assignment. */
type Kind = "const" | "let" | "assign";

/**
 * Forward mode writing a tangent function (diff/tangent.ts) rather than `f_jvp`: the result's
 * tangent is returned, and a callee's tangent comes from a call of the callee's own tangent
 * function, so the output is a plain function of the IR that adc differentiates again.
 */
export interface TangentCalls {
  /**
   * The tangent function of `fn` for the active-argument mask (parameters interleaved with
   * tangents), and the name a call of it is printed with.
   */
  callee(fn: FnId, mask: readonly boolean[]): { readonly fn: FnId; readonly text: string };
  /** Tangents that are constants (a unit direction: the parameter's tangent is 1). */
  readonly fixed?: ReadonlyMap<string, Expr>;
}

export class Forward {
  constructor(
    private readonly p: Prepared,
    private readonly spec: Specializer,
    private readonly tangent?: TangentCalls,
  ) {}

  private dot(e: Expr): Expr | null {
    if (!this.p.isActiveAtom(e)) return null;
    const v = e as Extract<Expr, { k: "var" }>;
    const fixed = this.tangent?.fixed?.get(v.name);
    if (fixed) return fixed;
    return name(this.p.namer.dot(v.name), v.ty);
  }

  block(stmts: readonly Stmt[]): Stmt[] {
    return stmts.flatMap((s) => this.stmt(s));
  }

  private stmt(s: Stmt): Stmt[] {
    switch (s.k) {
      case "let": {
        const active = this.p.isActive(s.name);
        if (!s.init) return active ? [s, { ...s, name: this.p.namer.dot(s.name) }] : [s];
        if (!active) return [this.writesActiveArray(s.init) ? { ...s, init: this.jvpCall(s.init as Extract<Expr, { k: "call" }>) } : s];
        if (!s.isConst && s.ty.k === "arr") {
          // Declared with the wide type: later assignments may bring any buffer.
          const decl = (n: string): Stmt => ({ k: "let", name: n, ty: s.ty, isConst: false, pos: s.pos, origin: s.origin, annot: s.ty });
          return [decl(s.name), decl(this.p.namer.dot(s.name)), ...this.definition(s, s.name, s.init, "assign", s.ty)];
        }
        return this.definition(s, s.name, s.init, s.isConst ? "const" : "let", s.ty);
      }
      case "assign": {
        const t = s.target;
        if (t.k === "var") {
          if (!this.p.isActive(t.name)) return [this.writesActiveArray(s.value) ? { ...s, value: this.jvpCall(s.value as Extract<Expr, { k: "call" }>) } : s];
          return this.definition(s, t.name, s.value, "assign", t.ty);
        }
        if (!this.p.isActive(t.arr)) return [s];
        const target = { ...t, arr: this.p.namer.dot(t.arr) };
        const inc = elementIncrement(s);
        if (inc) {
          // a[i] += t: the tangent element moves by t's tangent, in the same shape.
          const d = this.dot(inc.step);
          const old: Expr = { k: "index", arr: name(target.arr, t.arrTy), idx: t.idx, pos: s.pos };
          return d ? [s, { ...s, target, value: { k: "bin", op: inc.sign, l: old, r: d, ty: NUM, pos: s.pos } }] : [s];
        }
        return [s, { ...s, target, value: this.dot(s.value) ?? num(0) }];
      }
      case "if":
        return [{ ...s, then: this.block(s.then), else: this.block(s.else) }];
      case "loop":
        return this.loop(s);
      case "block":
        return [{ ...s, body: this.block(s.body) }];
      case "return": {
        if (this.tangent) return [{ ...s, value: s.value && (this.dot(s.value) ?? this.zeroOf(this.p.fn.ret, s.value)) }];
        if (!s.value || !isDiffTy(this.p.fn.ret)) return [s];
        const lane = this.p.fn.ret.k === "num" ? "retF" : "retO";
        const d = this.dot(s.value) ?? zeroOf(this.p.fn.ret, s.value);
        return [{ k: "assign", target: { k: "index", arr: `${RT}.${lane}`, arrTy: NUM, idx: num(0), pos: s.pos }, value: d, pos: s.pos }, s];
      }
      case "expr": {
        const e = s.e;
        if (e.k === "call" && e.fn.k === "user" && e.args.some((a) => this.p.isActiveAtom(a))) return [{ ...s, e: this.jvpCall(e) }];
        return [s];
      }
      case "break":
      case "continue":
      case "comment":
        return [s];
    }
  }

  /** `v = value` for an active v: the primal, then its tangent, both written as `kind`. */
  private definition(at: Stmt, v: string, value: Expr, kind: Kind, ty: Ty): Stmt[] {
    const vd = this.p.namer.dot(v);
    const pos: Pos = at.pos;
    const origin = "origin" in at ? at.origin : undefined;
    const write = (n: string, e: Expr): Stmt =>
      kind === "assign" ? { k: "assign", target: { k: "var", name: n, ty, pos }, value: e, pos, origin } : { k: "let", name: n, ty, init: e, isConst: kind === "const", pos, origin };
    const pair = (primal: Expr, tangent: Expr): Stmt[] => [write(v, primal), write(vd, tangent)];
    if (!this.p.isVaried(value)) return pair(value, this.zeroOf(ty, name(v, ty)));
    if (value.k === "var" || value.k === "num" || value.k === "free" || value.k === "stop") return pair(value, this.dot(value) ?? this.zeroOf(ty, name(v, ty)));
    const rule = ruleName(value);
    if (rule) {
      const r = scalarRule(rule)!;
      const args = ruleArgs(value);
      const ops = operands(args, v, () => {});
      const terms: Expr[] = [];
      args.forEach((a, i) => {
        const d = this.dot(a);
        if (!d) return;
        const part = r.partial(i, ops);
        if (part !== null) terms.push(scale(part, d));
      });
      return pair(value, sum(terms));
    }
    switch (value.k) {
      case "index":
        return pair(value, { ...value, arr: this.dot(value.arr)! });
      case "call":
        if (value.fn.k === "user" && this.tangent) {
          // The primal call for the value, the callee's tangent function for the tangent.
          const mask = callMask(this.p, value.args);
          // (A method chosen by the receiver's class takes the receiver as that class.)
          const callee = this.spec.callee(value.fn.fn);
          const own = (a: Expr): Ty => (a.k === "var" ? this.p.fn.vars.get(a.name) ?? { k: "void" } : { k: "void" });
          const args = value.args.flatMap((a, i) => {
            const arg = i === 0 ? receiverCast(a, own(a), callee, false) : a;
            return mask[i] ? [arg, this.dot(a)!] : [arg];
          });
          return pair(value, { k: "call", fn: { k: "user", ...this.tangent.callee(value.fn.fn, mask) }, args, ty, pos });
        }
        if (value.fn.k === "user") {
          const lane: Expr = { k: "index", arr: free(`${RT}.${ty.k === "num" ? "retF" : "retO"}`), idx: num(0), pos };
          return pair(this.jvpCall(value), ty.k === "num" ? lane : { k: "as", e: lane, ty, pos });
        }
        if (value.fn.k === "nd" && this.tangent) {
          // In a tangent function the rule is spelled with ops, so it can be differentiated again.
          const dots = value.args.map((a) => this.dot(a));
          return pair(value, ndTangent({ op: value.fn.op, list: value.fn.list, args: value.args, dots, out: name(v, ty), ty, pos }));
        }
        if (value.fn.k === "nd") {
          // The registry's tangent rules, summed over the active operands (null: inactive).
          const { args, dots } = ndOperands(value, (a) => this.dot(a) ?? free("null"));
          const jvp: Expr = { k: "call", fn: { k: "rt", name: "ndJvp" }, args: [{ k: "str", text: JSON.stringify(value.fn.op), pos }, args, dots, name(v, ty)], ty, pos };
          return pair(value, { k: "as", e: jvp, ty, pos });
        }
        break;
      case "field":
        return pair(value, { ...value, obj: this.dot(value.obj)! });
      case "arrlit":
        return pair(value, { ...value, elems: value.elems.map((x) => this.dot(x) ?? num(0)) });
      case "copy":
        return pair(value, { ...value, e: this.dot(value.e)! });
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
  private jvpCall(e: Extract<Expr, { k: "call" }>): Expr {
    const fn = (e.fn as Extract<Expr, { k: "call" }>["fn"] & { k: "user" }).fn;
    const mask = callMask(this.p, e.args);
    const callee = this.spec.callee(fn);
    const own = (a: Expr): Ty => (a.k === "var" ? this.p.fn.vars.get(a.name) ?? { k: "void" } : { k: "void" });
    const args = e.args.flatMap((a, i) => {
      const arg = i === 0 ? receiverCast(a, own(a), callee, false) : a;
      if (!mask[i]) return [arg];
      const dot = this.dot(a)!;
      return [arg, i === 0 && dot.k === "var" ? receiverCast(dot, own(a), callee, false) : dot];
    });
    return { ...e, fn: { k: "derived", name: this.spec.jvpName(fn, mask), of: fn, kind: "jvp" }, args };
  }

  /**
   * A zero tangent. A tangent function allocates a fresh array (an operation with a derivative
   * rule, zero) instead of calling the runtime's `zerosLike`.
   */
  private zeroOf(ty: Ty, like: Expr): Expr {
    if (this.tangent && ty.k === "arr") return { k: "alloc", ctor: ty.ctor, size: { k: "len", arr: like, pos: like.pos }, pos: like.pos };
    if (this.tangent && ty.k === "nd") return zerosLike(like, like.pos);
    return zeroOf(ty, like);
  }

  private loop(s: Loop): Stmt[] {
    if (s.doWhile) return [{ ...s, body: this.block(s.body) }];
    const activeInit = s.init.some((x) => x.k === "let" && this.p.isActive(x.name));
    const simpleUpdate = s.update.every((u) => u.k === "assign" && u.target.k === "var" && !this.p.isActive(u.target.name));
    let loop: Loop;
    if (simpleUpdate) loop = { ...s, init: activeInit ? [] : s.init, body: this.block(s.body) };
    else {
      // The update has derivative code: run it after the body, with `continue` turned into
      // leaving a labelled body block so it still runs.
      const bodyLabel = this.p.namer.fresh("_body");
      const body: Stmt = { k: "block", label: bodyLabel, body: this.block(continueToBreak(s.body, s.label, bodyLabel)), pos: s.pos };
      loop = { ...s, init: activeInit ? [] : s.init, body: [body, ...this.block(s.update)], update: [] };
    }
    // An init with derivative code runs before the loop, in a block of its own (its scope).
    return activeInit ? [{ k: "block", label: "", body: [...this.block(s.init), loop], pos: s.pos }] : [loop];
  }
}

/** The zero of a type, shaped like the value `like` for arrays. */
function zeroOf(ty: Ty, like: Expr): Expr {
  const rt = (fn: string): Expr => ({ k: "call", fn: { k: "rt", name: fn }, args: [like], ty, pos: like.pos });
  switch (ty.k) {
    case "arr":
      return rt("zerosLike");
    case "nd":
      return rt("ndZerosLike");
    default:
      return num(0);
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
