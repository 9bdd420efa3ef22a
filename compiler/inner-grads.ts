/**
 * `grad(g)(x)` inside a function that is itself differentiated (JAX's `grad` inside `grad`).
 * The call becomes a call of T(g), g's derivative along its number parameter as a function of
 * IR (tangents.ts), which every mode then differentiates like a user function. A grad of a
 * grad inside is T(T(g)), and so on.
 *
 * Lowering meets the call before g can be prepared (that needs every function lowered and the
 * build's write summaries), so T(g) is registered first (`call`, a deferred tangent function)
 * and made after lowering (`resolve`), callees' derivatives before callers'.
 */
import type { ts } from "ts-morph";
import type { Code } from "./diagnostics.js";
import { fnKey } from "./analysis/summaries.js";
import type { FnId } from "./ir/ir.js";
import type { FunctionNode } from "./ir/lower/index.js";
import { forEachExpr, forEachStmt, stmtExprs } from "./ir/walk.js";
import { gradChain } from "./targets.js";
import type { FnInfo, Tangents } from "./tangents.js";

export interface InnerGradHost {
  readonly checker: ts.TypeChecker;
  readonly tangents: Tangents;
  fn(key: string): FnInfo | undefined;
  /** The name under which code in `file` calls the made function `key` itself. */
  primalName(file: string, key: string): string;
  refreshMutations(): void;
  refuse(code: Code, file: string, n: ts.Node, message: string, hint?: string): void;
}

interface Pending {
  /** The function T(...) differentiates, and along which parameter. */
  readonly of: string;
  readonly mask: readonly boolean[];
  readonly base: string;
  /** The first call that asked for it, for diagnostics. */
  readonly file: string;
  readonly site: ts.Node;
}

export class InnerGrads {
  private readonly pending = new Map<string, Pending>();
  private readonly state = new Map<string, "making" | "made" | "failed">();

  constructor(private readonly host: InnerGradHost) {}

  /** For lowering (LowerEnv.derivativeCall): the function a call of `callee` calls, if it is a grad. */
  call(callee: ts.Expression, file: string, reach: (node: FunctionNode) => FnInfo): { fn: FnId; text: string } | string | undefined {
    const chain = gradChain(callee, this.host.checker);
    if (chain === undefined || typeof chain === "string") return chain;
    const g = reach(chain.fn);
    if (g.captures?.length) return `grad of '${g.id.name}', which reads locals of its enclosing function, inside a differentiated function is not supported yet`;
    let key = fnKey(g.id);
    let name = g.id.name;
    const params = chain.fn.parameters;
    for (const i of chain.inner) {
      if (i < 0 || i >= params.length) return `argnum ${i} is out of range for '${name}'`;
      const mask = params.map((_, k) => k === i);
      const base = `${name}_grad${params.length > 1 ? `_${params[i].name.getText()}` : ""}`;
      const t = this.host.tangents.defer(key, mask, true, base);
      const k = fnKey(t.id);
      if (!this.pending.has(k)) this.pending.set(k, { of: key, mask, base, file, site: callee });
      key = k;
      name = t.id.name;
    }
    return { fn: this.host.fn(key)!.id, text: this.host.primalName(file, key) };
  }

  /** Makes every deferred tangent function (after lowering); the ones that fail have no IR. */
  resolve(): void {
    if (!this.pending.size) return;
    this.host.refreshMutations();
    for (const k of this.pending.keys()) this.make(k);
    this.host.refreshMutations();
  }

  private make(key: string): boolean {
    const st = this.state.get(key);
    if (st === "made") return true;
    if (st === "failed") return false;
    const p = this.pending.get(key)!;
    const t = this.host.fn(key)!;
    if (st === "making") {
      this.host.refuse("ADC1026", p.file, p.site, `the derivative of '${this.host.fn(p.of)!.id.name}' calls itself through grad, which is not supported`);
      return this.fail(key, t);
    }
    this.state.set(key, "making");
    // What T(g) is made from must be whole first: g itself (a tangent function too, in a
    // chain) and every deferred function g reaches.
    for (const k of [...(this.pending.has(p.of) ? [p.of] : []), ...this.reached(p.of)]) if (!this.make(k)) return this.fail(key, t);
    const g = this.host.fn(p.of)!;
    const ir = g.ir;
    if (!ir) return this.fail(key, t);
    const q = ir.params[p.mask.indexOf(true)];
    if (ir.ret.k !== "num" || q.ty.k !== "num") {
      const why = ir.ret.k !== "num" ? `'${g.id.name}' does not return a number` : `its parameter '${q.name}' is not a number`;
      this.host.refuse("ADC1026", p.file, p.site, `grad(${g.id.name}) inside a differentiated function must return a number, but ${why}`, "call grad of a function of numbers here, or differentiate the whole computation at module level");
      return this.fail(key, t);
    }
    this.host.refreshMutations();
    if (this.host.tangents.of(p.of, p.mask, true, p.base) === null) return this.fail(key, t);
    this.state.set(key, "made");
    return true;
  }

  private fail(key: string, t: FnInfo): false {
    this.state.set(key, "failed");
    t.ir = null;
    t.deferred = false;
    return false;
  }

  /** The deferred functions called from `key` or anything it calls (not through deferred ones). */
  private reached(key: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>([key]);
    const work = [key];
    while (work.length) {
      const ir = this.host.fn(work.pop()!)?.ir;
      if (!ir) continue;
      forEachStmt(ir.body, (s) => {
        for (const e of stmtExprs(s))
          forEachExpr(e, (x) => {
            if (x.k !== "call" || x.fn.k !== "user") return;
            const k = fnKey(x.fn.fn);
            if (seen.has(k)) return;
            seen.add(k);
            if (this.pending.has(k)) out.push(k);
            else work.push(k);
          });
      });
    }
    return out;
  }
}
