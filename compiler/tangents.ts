/**
 * The build's tangent functions (diff/tangent.ts): made on request for `grad(grad(f))` and the
 * other derivatives of derivatives, one per (function, active parameters, shape), with the
 * tangent functions of their callees, and registered as functions of the build so that every
 * later job differentiates them like a user's function.
 */
import type { ts } from "ts-morph";
import type { FunctionNode } from "./ir/lower/index.js";
import type { Capture } from "./record.js";
import { NUM, NUMARR, type Expr, type FnId, type IrFunction, type Param, type Pos, type Stmt, type Ty } from "./ir/ir.js";
import { num } from "./ir/make.js";
import { fnKey } from "./analysis/summaries.js";
import type { Prepared, Specializer } from "./diff/prepare.js";
import { tangentFunction, tangentRefusals } from "./diff/tangent.js";

export interface FnInfo {
  readonly id: FnId;
  readonly node: FunctionNode;
  readonly sf: ts.SourceFile;
  ir?: IrFunction | null;
  /** A closure's reads of its enclosing function's locals: trailing parameters of its IR. */
  captures?: readonly Capture[];
  /** For a method: the class `this` is (the receiver's; for a base class's method, maybe a subclass). */
  readonly thisType?: ts.Type;
  /** Lowered for `hasAux`: its `[value, aux]` returns split into the value and an aux variable. */
  readonly aux?: boolean;
  /** A tangent function registered (called from lowered code) but not made yet. */
  deferred?: boolean;
}

export interface TangentHost {
  info(key: string): FnInfo;
  /** Registers a made function under a name unique in its file (derived from `base`). */
  add(key: string, file: string, base: string, make: (name: string) => FnInfo): FnInfo;
  prepare(key: string, mask: readonly boolean[]): Prepared;
  specializer(f: FnInfo): Specializer;
  report(f: FnInfo, pos: Pos, message: string): void;
  /**
   * The name under which the function `caller` calls the made function `callee` itself (its
   * derivatives call the callee's derivatives, but a call whose arguments are constants calls
   * the callee): the callee is printed as a function of its module.
   */
  primalName(caller: string, callee: string): string;
  /**
   * The rule of a customJvp function, lowered (for T of it), and the text that calls it; a
   * string saying why it cannot be used.
   */
  ruleOf(f: FnInfo): { rule: FnInfo; text?: string } | string;
}

export class Tangents {
  /** Tangent functions that could not be made (a refusal was reported). */
  private readonly failed = new Set<string>();

  constructor(private readonly host: TangentHost) {}

  /**
   * The key of T(f) for the active parameters `mask`: `unit` (f's parameters, the one active
   * number with tangent 1) or directed (each active parameter followed by its tangent). Null if
   * it cannot be made; the reason is reported.
   */
  of(key: string, mask: readonly boolean[], unit: boolean, base: string): string | null {
    const f = this.host.info(key);
    if (f.ir?.custom?.kind === "jvp") return this.ofRule(f, mask, base);
    const id0 = this.idOf(f, mask, unit);
    const k = fnKey(id0);
    if (this.failed.has(k)) return null;
    let made = false;
    const t = this.host.add(k, f.sf.fileName, base, (name) => ((made = true), { id: { ...id0, name }, node: f.node, sf: f.sf, captures: f.captures }));
    // (Not made and not deferred: made already, or being made by a recursive call.)
    if (!made && !t.deferred) return k;
    t.deferred = false;
    const p = this.host.prepare(key, mask);
    const spec = this.host.specializer(f);
    const refusals = tangentRefusals(p, spec);
    for (const r of refusals) this.host.report(f, r.pos, r.message);
    let broken = refusals.length > 0;
    if (!broken) {
      t.ir = tangentFunction(p, spec, t.id, unit, {
        callee: (g0, m) => {
          // A checkpoint changes where values are kept, not the function: T(checkpoint(h)) is T(h).
          const g = this.host.info(fnKey(g0)).ir?.custom?.target ?? g0;
          const gk = this.of(fnKey(g), m, false, `${g.name}_tangent`);
          if (gk === null) {
            broken = true;
            return { fn: g, text: g.name };
          }
          return { fn: this.host.info(gk).id, text: this.host.primalName(k, gk) };
        },
      });
    }
    if (broken) {
      t.ir = null;
      this.failed.add(k);
      return null;
    }
    return k;
  }

  /**
   * Registers T(f) without making it: a call `grad(g)(x)` inside a function is lowered before g
   * can be prepared. `of` with the same arguments makes it later.
   */
  defer(key: string, mask: readonly boolean[], unit: boolean, base: string): FnInfo {
    const f = this.host.info(key);
    const id0 = this.idOf(f, mask, unit);
    return this.host.add(fnKey(id0), f.sf.fileName, base, (name) => ({ id: { ...id0, name }, node: f.node, sf: f.sf, captures: f.captures, deferred: true }));
  }

  /** Registers G = grad of f along its array parameter i, made by inner-grads.ts (no tangent function). */
  deferGrad(key: string, i: number, base: string): FnInfo {
    const f = this.host.info(key);
    const id0: FnId = { file: f.id.file, pos: f.id.pos, name: "", variant: `${f.id.variant ? `${f.id.variant}.` : ""}g${i}` };
    return this.host.add(fnKey(id0), f.sf.fileName, base, (name) => ({ id: { ...id0, name }, node: f.node, sf: f.sf, deferred: true }));
  }

  /**
   * T of a customJvp function h, directed along `mask`: its rule's tangent output,
   * `rule([x, y], [x_dot, 0])[1]`, so that a second derivative through h differentiates the
   * rule (JAX's semantics: a custom_jvp rule is itself differentiated). Functions of numbers.
   */
  private ofRule(f: FnInfo, mask: readonly boolean[], base: string): string | null {
    const ir = f.ir!;
    const id0 = this.idOf(f, mask, false);
    const k = fnKey(id0);
    if (this.failed.has(k)) return null;
    let made = false;
    const t = this.host.add(k, f.sf.fileName, base, (name) => ((made = true), { id: { ...id0, name }, node: f.node, sf: f.sf }));
    if (!made && !t.deferred) return k;
    t.deferred = false;
    const fail = (message: string): null => {
      this.host.report(f, ir.pos, message);
      this.failed.add(k);
      t.ir = null;
      return null;
    };
    const name = ir.custom!.name;
    if (ir.ret.k !== "num" || ir.params.some((q) => q.ty.k !== "num")) return fail(`a higher derivative through '${name}' is made from its customJvp rule for functions of numbers only`);
    const rule = this.host.ruleOf(f);
    if (typeof rule === "string") return fail(`a higher derivative through '${name}' differentiates its customJvp rule, but ${rule}`);
    const pos = ir.pos;
    const names = new Set(ir.params.map((q) => q.name));
    const fresh = (b: string): string => {
      let n = b;
      for (let i = 0; names.has(n); i++) n = `${b}${i}`;
      names.add(n);
      return n;
    };
    const dots = ir.params.map((q, i) => (mask[i] ? fresh(`${q.name}_dot`) : null));
    const params: Param[] = ir.params.flatMap((q, i) => (dots[i] ? [q, { name: dots[i]!, ty: NUM, pos: q.pos }] : [q]));
    const v = (n: string): Expr => ({ k: "var", name: n, ty: NUM, pos });
    const list = (elems: Expr[]): Expr => ({ k: "arrlit", ctor: "Array", elems, pos });
    const r = fresh("_rule");
    const call: Expr = { k: "call", fn: { k: "user", fn: rule.rule.id, text: rule.text ?? this.host.primalName(k, fnKey(rule.rule.id)) }, args: [list(ir.params.map((q) => v(q.name))), list(dots.map((d) => (d ? v(d) : num(0))))], ty: NUMARR, pos };
    const body: Stmt[] = [
      { k: "let", name: r, ty: NUMARR, init: call, isConst: true, pos },
      { k: "return", value: { k: "index", arr: v(r) as Extract<Expr, { k: "var" }>, idx: num(1), pos }, pos },
    ];
    const vars = new Map<string, Ty>([...params.map((q) => [q.name, q.ty] as const), [r, NUMARR]]);
    t.ir = { id: t.id, params, body, ret: NUM, vars, reserved: new Set(names), pos, source: ir.source };
    return k;
  }

  private idOf(f: FnInfo, mask: readonly boolean[], unit: boolean): FnId {
    const variant = `${f.id.variant ? `${f.id.variant}.` : ""}${unit ? "d" : "t"}${mask.map((b) => (b ? 1 : 0)).join("")}`;
    return { file: f.id.file, pos: f.id.pos, name: "", variant };
  }
}
