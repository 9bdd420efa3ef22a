/**
 * Functions whose derivatives are not made from their bodies, for build.ts:
 * - customVjp/customJvp/checkpoint consts (targets.ts `customOf`): a `rule` function with no body
 *   whose derivatives call the user's rule (emit/custom.ts), which differentiated code calls like
 *   any user function, and a `caller` that calls it, which `grad(f)` of it differentiates;
 * - `@differentiable` functions (annotated.ts): their vjp and jvp, made and attached to them.
 */
import { ts } from "ts-morph";
import type { Code } from "./diagnostics.js";
import { fnKey } from "./analysis/summaries.js";
import { Code as TextCode, generated, type Generated } from "./emit/code.js";
import { emitCheckpointJvp, emitCheckpointSplit, emitCustomJvp, emitCustomSplit } from "./emit/custom.js";
import { emitInnerGradJvp, emitInnerGradPrimal, emitInnerGradSplit } from "./emit/inner-grad.js";
import { RT } from "./emit/names.js";
import { isDiffTy, VOID, type FnId, type Stmt } from "./ir/ir.js";
import type { FunctionNode } from "./ir/lower/index.js";
import { classifyType } from "./ir/types.js";
import type { Job } from "./jobs.js";
import { captureText } from "./record.js";
import type { Capture } from "./record.js";
import { isModuleScoped } from "./scopes.js";
import { forEachExpr, forEachStmt, stmtExprs } from "./ir/walk.js";
import { drawsRandom } from "./analysis/fence.js";
import { functionOf, type CustomFn } from "./targets.js";
import type { FnInfo } from "./tangents.js";

/** What these functions need from the build. */
export interface CustomHost {
  readonly checker: ts.TypeChecker;
  readonly fns: Map<string, FnInfo>;
  uniqueName(file: string, base: string, key: string): string;
  register(node: FunctionNode): FnInfo;
  capturesFor(f: FnInfo): readonly Capture[] | undefined;
  info(id: FnId): FnInfo;
  refuse(code: Code, file: string, n: ts.Node, message: string, hint?: string): void;
  enqueue(job: Job): string[];
  importName(file: string, f: FnInfo, name: string): string;
  mutations(key: string): ReadonlySet<number> | undefined;
  resultActive(key: string, mask: readonly boolean[]): boolean;
  insert(f: FnInfo, text: Generated): void;
  /** Replaces source text (here: inserts after a closure's declaration). */
  edit(file: string, start: number, end: number, text: string): void;
  isBroken(key: string): boolean;
  /** The key of T(g) (tangents.ts), or null when it cannot be made (reported). */
  tangent(key: string, mask: readonly boolean[], unit: boolean, base: string): string | null;
  refreshMutations(): void;
  /** Lowers a function and what it calls (and refreshes what depends on that). */
  lower(f: FnInfo): void;
}

export class CustomFunctions {
  constructor(private readonly host: CustomHost) {}

  /**
   * A customVjp/customJvp function: `rule`, with no body, whose derivatives call the user's rule
   * (emit/custom.ts; differentiated code calls it like any user function), and `caller`, a function
   * calling it, which `grad(f)` of it differentiates. Both have f's signature.
   */
  functions(c: CustomFn): { rule: FnInfo; caller: FnInfo; target?: FnInfo } {
    const sf = c.call.getSourceFile();
    const ruleKey = fnKey({ file: sf.fileName, pos: c.call.getStart(), name: "", variant: "custom" });
    const callerKey = fnKey({ file: sf.fileName, pos: c.call.getStart(), name: "", variant: "caller" });
    const known = this.host.fns.get(ruleKey);
    const targetOf = (rule: FnInfo): FnInfo | undefined => (rule.ir?.custom?.target ? this.host.info(rule.ir.custom.target) : undefined);
    if (known) return { rule: known, caller: this.host.fns.get(callerKey)!, target: targetOf(known) };
    // checkpoint(h): h's own derivatives, recomputed in the reverse sweep; h must be readable.
    let target: FnInfo | undefined;
    if (c.kind === "checkpoint") {
      const h = c.call.arguments[0] ? functionOf(c.call.arguments[0], this.host.checker) : "checkpoint needs a function";
      if (typeof h === "string") this.host.refuse("ADC1008", sf.fileName, c.call, `checkpoint: ${h}`, "pass a function declared with `function` or a `const` arrow, or an inline arrow");
      else {
        target = this.host.register(h);
        this.host.capturesFor(target);
      }
    }
    const node = c.call as unknown as FunctionNode;
    const constName = c.decl.name.text;
    const sig = this.host.checker.getTypeAtLocation(c.decl.name).getCallSignatures()[0];
    const pos = { start: c.call.getStart(), end: c.call.getEnd() };
    const params = (sig?.getParameters() ?? []).map((sym) => ({ name: sym.getName(), ty: classifyType(this.host.checker.getTypeOfSymbolAtLocation(sym, c.decl), this.host.checker), pos }));
    const ret = sig ? classifyType(sig.getReturnType(), this.host.checker) : VOID;
    const vars = new Map(params.map((q) => [q.name, q.ty] as const));
    const reserved = new Set([...params.map((q) => q.name), constName]);
    const ruleId: FnId = { file: sf.fileName, pos: c.call.getStart(), name: this.host.uniqueName(sf.fileName, `${constName}_rule`, ruleKey), variant: "custom" };
    const rule: FnInfo = { id: ruleId, node, sf, ir: { id: ruleId, params, body: [], ret, vars, reserved, pos, source: sf.text, custom: { kind: c.kind, name: constName, ...(target ? { target: target.id } : {}) } } };
    const callerId: FnId = { file: sf.fileName, pos: c.call.getStart(), name: this.host.uniqueName(sf.fileName, constName, callerKey), variant: "caller" };
    const body: Stmt[] = [{ k: "return", value: { k: "call", fn: { k: "user", fn: ruleId, text: constName }, args: params.map((q) => ({ k: "var", name: q.name, ty: q.ty, pos })), ty: ret, pos }, pos }];
    const caller: FnInfo = { id: callerId, node, sf, ir: { id: callerId, params, body, ret, vars, reserved, pos, source: sf.text } };
    this.host.fns.set(ruleKey, rule);
    this.host.fns.set(callerKey, caller);
    const name = c.kind === "vjp" ? "customVjp" : c.kind === "jvp" ? "customJvp" : "checkpoint";
    if (!isModuleScoped(c.decl)) this.host.refuse("ADC1016", sf.fileName, c.decl, `a ${name} function must be a module-level const (its derivatives live at module level and call it by name)`, "declare it at the top of the module");
    else if (!sig || !isDiffTy(ret)) this.host.refuse("ADC1007", sf.fileName, c.decl, `a ${name} function must return a number, an array or an NDArray`);
    else {
      const bad = params.find((q) => !isDiffTy(q.ty) && q.ty.k !== "bool" && q.ty.k !== "other");
      if (bad) this.host.refuse("ADC1012", sf.fileName, c.decl, `parameter '${bad.name}' of '${constName}' has a type adc cannot pass to a custom rule`);
      if (target?.captures?.length) this.host.refuse("ADC1016", sf.fileName, c.call, `checkpoint of a function that reads locals of an enclosing function is not supported`, "declare the function at module level");
    }
    return { rule, caller, target };
  }

  /** A derivative of a customVjp/customJvp function: its rule, called (emit/custom.ts). */
  job(job: Job, f: FnInfo): Generated {
    const ir = f.ir!;
    const rule = ir.custom!;
    if (rule.kind === "grad") return this.innerGradJob(job, f);
    const names = this.host.enqueue(job);
    const refuse = (message: string, hint?: string): Generated => {
      const decl = (f.node as unknown as ts.Node).parent;
      this.host.refuse("ADC1026", f.sf.fileName, decl, message, hint);
      return generated(new TextCode());
    };
    if (rule.target) {
      // checkpoint(h): the target's own split pair (or jvp), called from the checkpoint's.
      const target = this.host.info(rule.target);
      if (this.host.mutations(fnKey(rule.target))?.size) return refuse(`checkpoint of '${target.id.name}', which writes into its array arguments, is not supported (recomputing it would write them again)`);
      if (target.ir && drawsRandom(target.ir.body)) return refuse(`the checkpoint '${rule.name}' draws from np.random, which is not supported (recomputing it would draw other numbers than the value used)`, "draw the numbers outside and pass them in as an argument");
      const file = f.sf.fileName;
      if (job.kind === "split") {
        const [fwd, rev] = this.host.enqueue({ kind: "split", key: fnKey(rule.target), mask: job.mask }).map((n) => this.host.importName(file, target, n));
        return emitCheckpointSplit(ir, rule, job.mask, { fwd: names[0], rev: names[1] }, { fwd, rev }, this.host.resultActive(fnKey(rule.target), job.mask));
      }
      if (job.kind === "jvp") return emitCheckpointJvp(ir, job.mask, names[0], this.host.importName(file, target, this.host.enqueue({ kind: "jvp", key: fnKey(rule.target), mask: job.mask })[0]));
    }
    if (job.kind === "split") return emitCustomSplit(ir, rule, job.mask, { fwd: names[0], rev: names[1] });
    if (job.kind === "jvp") {
      if (rule.kind === "vjp") return refuse(`'${rule.name}' has a customVjp rule, which gives no forward-mode derivative (jvp, jacfwd, second derivatives), as in JAX`, "define it with customJvp, which serves both modes");
      return emitCustomJvp(ir, rule, job.mask, names[0]);
    }
    return refuse(`this derivative of '${rule.name}' through its custom rule is not supported`);
  }

  /**
   * The rule of a customJvp function, lowered, for a second derivative through it (tangents.ts);
   * the text calling it where it is named, or a string saying why it cannot be used.
   */
  ruleOf(f: FnInfo): { rule: FnInfo; text?: string } | string {
    const arg = (f.node as unknown as ts.CallExpression).arguments[1];
    const node = arg ? functionOf(arg, this.host.checker) : "it has no rule";
    if (typeof node === "string") return `adc cannot read the rule: ${node}`;
    const rule = this.host.register(node);
    if (this.host.capturesFor(rule)?.length) return "the rule reads locals of an enclosing function";
    this.host.lower(rule);
    if (!rule.ir || this.host.isBroken(fnKey(rule.id))) return "the rule cannot be differentiated (see its own diagnostics)";
    return { rule, ...(ts.isIdentifier(arg) ? { text: arg.text } : {}) };
  }

  /**
   * `grad(g)(w)` of an array w inside differentiated code (emit/inner-grad.ts): g's gradient, and
   * its derivatives as gradients of g's tangent function directed along what the job needs.
   */
  private innerGradJob(job: Job, f: FnInfo): Generated {
    const ir = f.ir!;
    const { of, wrt: i } = ir.custom!;
    const g = this.host.info(of!);
    const gKey = fnKey(of!);
    const names = this.host.enqueue(job);
    const grad = this.host.enqueue({ kind: "grad", key: gKey, mask: ir.params.map((_, k) => k === i), wrt: [i!] })[0];
    if (job.kind === "primal") return emitInnerGradPrimal(ir, names[0], grad);
    if (job.kind !== "split" && job.kind !== "jvp") {
      this.host.refuse("ADC1026", f.sf.fileName, (f.node as unknown as ts.Node), `this derivative of grad(${g.id.name}) inside a differentiated function is not supported`);
      return generated(new TextCode());
    }
    // Reverse: T(g) directed along i by the cotangent, differentiated w.r.t. the active
    // parameters; forward: directed along the active parameters, differentiated w.r.t. i.
    const directed = job.kind === "split" ? ir.params.map((_, k) => k === i) : job.mask;
    const t = this.host.tangent(gKey, directed, false, `${g.id.name}_tangent`);
    if (t === null) return generated(new TextCode());
    this.host.refreshMutations();
    const at = (k: number): number => k + directed.slice(0, k).filter(Boolean).length;
    const wrt = (job.kind === "split" ? ir.params.flatMap((_, k) => (job.mask[k] ? [k] : [])) : [i!]).map(at);
    const tParams = this.host.fns.get(t)!.ir!.params;
    const [hvp] = this.host.enqueue({ kind: "grad", key: t, mask: tParams.map((_, k) => wrt.includes(k)), wrt, tuple: wrt.length > 1 });
    if (job.kind === "split") return emitInnerGradSplit(ir, i!, job.mask, { fwd: names[0], rev: names[1] }, grad, hvp);
    return emitInnerGradJvp(ir, job.mask, names[0], grad, hvp);
  }

  /**
   * A `@differentiable` function's vjp and jvp, attached to it after its declaration; with
   * `wrt`, taken with respect to those parameters only (the others are constants, as argnums
   * leaves them), and the run-time lookups refuse the others.
   */
  attach(f: FnInfo, name: string, wrt?: readonly string[], local?: ts.VariableStatement): void {
    if (this.host.isBroken(fnKey(f.id)) || !f.ir) return;
    const ir = f.ir;
    const bad = wrt && ir.params.find((q) => wrt.includes(q.name) && !isDiffTy(q.ty));
    if (bad) return this.host.refuse("ADC1012", f.sf.fileName, f.node, `@differentiable(wrt: ...) names '${bad.name}', whose type adc cannot differentiate`);
    // (A closure's captured locals, its trailing parameters, are constants to differentiation.)
    const nUser = ir.params.length - (local ? (this.host.capturesFor(f)?.length ?? 0) : 0);
    const mask = ir.params.map((q, i) => i < nUser && isDiffTy(q.ty) && (!wrt || wrt.includes(q.name)));
    if (!mask.some(Boolean)) return this.host.refuse("ADC1012", f.sf.fileName, f.node, `'${name}' has no parameter adc can differentiate`);
    if (!isDiffTy(ir.ret)) return this.host.refuse("ADC1007", f.sf.fileName, f.node, `a @differentiable function must return a number, an array or an NDArray; '${name}' does not`);
    const key = fnKey(f.id);
    const [vjp] = this.host.enqueue({ kind: "vjp", key, mask });
    // A customVjp rule on the way gives no forward mode (as in JAX): the function carries its
    // reverse-mode derivatives, and jvp of it says why it has no others when it runs.
    const reverseOnly = this.customVjpReached(f);
    const [pair] = reverseOnly ? [`${JSON.stringify(`'${name}' calls '${reverseOnly}', whose customVjp rule gives no forward-mode derivative; define it with customJvp for jvp and jacfwd`)}`] : this.host.enqueue({ kind: "jvpPair", key, mask });
    const wrtText = wrt ? `, [${mask.flatMap((b, i) => (b ? [i] : [])).join(", ")}]` : reverseOnly ? ", undefined" : "";
    if (local) {
      // A closure: its derivatives take the locals it captures after its own arguments, read when
      // they are called (as the closure reads them).
      const file = f.sf.fileName;
      const caps = (this.host.capturesFor(f) ?? []).map(captureText);
      const tail = caps.map((x) => `, ${x}`).join("");
      const [v, p] = [this.host.importName(file, f, vjp), reverseOnly ? pair : this.host.importName(file, f, pair)];
      const text = caps.length
        ? `${RT}.attachDerivatives(${name}, (...args: any[]) => ${v}(...(args as Parameters<typeof ${name}>)${tail}), ${reverseOnly ? p : `(primals: any, tangents: any) => ${p}(primals, tangents${tail})`}${wrtText});`
        : `${RT}.attachDerivatives(${name}, ${v}, ${p}${wrtText});`;
      this.host.edit(file, local.getEnd(), local.getEnd(), ` ${text}`);
      return;
    }
    const c = new TextCode().at(f.node.getStart());
    c.line(`${RT}.attachDerivatives(${name}, ${vjp}, ${pair}${wrtText});`);
    this.host.insert(f, generated(c));
  }

  /** The name of a customVjp function f's body reaches through its calls, if any. */
  private customVjpReached(f: FnInfo): string | undefined {
    const seen = new Set<string>();
    const visit = (g: FnInfo): string | undefined => {
      const key = fnKey(g.id);
      if (seen.has(key) || !g.ir) return undefined;
      seen.add(key);
      if (g.ir.custom?.kind === "vjp") return g.ir.custom.name;
      let found: string | undefined;
      forEachStmt(g.ir.body, (st) => {
        for (const e of stmtExprs(st)) forEachExpr(e, (x) => { if (!found && x.k === "call" && x.fn.k === "user") found = visit(this.host.info(x.fn.fn)); });
      });
      return found;
    };
    return visit(f);
  }
}
