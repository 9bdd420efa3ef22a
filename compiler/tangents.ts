/**
 * The build's tangent functions (diff/tangent.ts): made on request for `grad(grad(f))` and the
 * other derivatives of derivatives, one per (function, active parameters, shape), with the
 * tangent functions of their callees, and registered as functions of the build so that every
 * later job differentiates them like a user's function.
 */
import type { ts } from "ts-morph";
import type { FunctionNode } from "./ir/lower/index.js";
import type { Capture } from "./record.js";
import type { FnId, IrFunction, Pos } from "./ir/ir.js";
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

  private idOf(f: FnInfo, mask: readonly boolean[], unit: boolean): FnId {
    const variant = `${f.id.variant ? `${f.id.variant}.` : ""}${unit ? "d" : "t"}${mask.map((b) => (b ? 1 : 0)).join("")}`;
    return { file: f.id.file, pos: f.id.pos, name: "", variant };
  }
}
