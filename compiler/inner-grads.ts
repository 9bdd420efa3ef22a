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
import { ts } from "ts-morph";
import type { Code } from "./diagnostics.js";
import { fnKey } from "./analysis/summaries.js";
import type { FnId } from "./ir/ir.js";
import type { FunctionNode } from "./ir/lower/index.js";
import { forEachExpr, forEachStmt, stmtExprs } from "./ir/walk.js";
import { adcExportName, functionOf, gradChain } from "./targets.js";
import type { FnInfo, Tangents } from "./tangents.js";
import { classifyType } from "./ir/types.js";

export interface InnerGradHost {
  readonly checker: ts.TypeChecker;
  readonly tangents: Tangents;
  fn(key: string): FnInfo | undefined;
  /** The name under which code in `file` calls the made function `key` itself. */
  primalName(file: string, key: string): string;
  refreshMutations(): void;
  /** The parameters the function `key` writes into. */
  mutations(key: string): ReadonlySet<number> | undefined;
  refuse(code: Code, file: string, n: ts.Node, message: string, hint?: string): void;
}

/** `const [y, dy] = valueAndGrad(g)(x)` or `= jvp(g, [x], [t])` inside differentiated code. */
export interface DerivativePair {
  /** g itself, its arguments; T(g), its arguments (for jvp, each followed by its tangent). */
  readonly value: { readonly fn: FnId; readonly text: string };
  readonly valueArgs: readonly ts.Expression[];
  readonly tangent: { readonly fn: FnId; readonly text: string };
  readonly tangentArgs: readonly ts.Expression[];
}

interface Pending {
  /** The function T(...) differentiates, along which parameters, and whether along a unit direction. */
  readonly of: string;
  readonly mask: readonly boolean[];
  readonly unit: boolean;
  readonly base: string;
  /** The first call that asked for it, for diagnostics. */
  readonly file: string;
  readonly site: ts.Node;
  /** grad along an array parameter: G = grad_w g (emit/inner-grad.ts), not a tangent function. */
  readonly array?: boolean;
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
    if (g.captures?.length) return `grad of '${shownName(chain.fn, g.id.name)}', which reads locals of its enclosing function, inside a differentiated function is not supported yet`;
    let key = fnKey(g.id);
    let name = g.id.name;
    const params = chain.fn.parameters;
    const arrays = chain.inner.filter((i) => params[i] && isArrayLike(classifyType(this.host.checker.getTypeAtLocation(params[i]), this.host.checker).k));
    if (arrays.length && chain.inner.length > 1) return `a derivative of grad of '${name}' along an array inside a differentiated function is not supported yet`;
    if (arrays.length) {
      // G = grad_w g, whose derivatives are Hessian-vector products (emit/inner-grad.ts).
      const G = this.arrayGrad(g, arrays[0], params[arrays[0]].name.getText(), file, callee, params.length);
      return { fn: G.id, text: this.host.primalName(file, fnKey(G.id)) };
    }
    for (const i of chain.inner) {
      if (i < 0 || i >= params.length) return `argnum ${i} is out of range for '${name}'`;
      const mask = params.map((_, k) => k === i);
      const base = `${name}_grad${params.length > 1 ? `_${params[i].name.getText()}` : ""}`;
      const t = this.host.tangents.defer(key, mask, true, base);
      const k = fnKey(t.id);
      if (!this.pending.has(k)) this.pending.set(k, { of: key, mask, unit: true, base, file, site: callee });
      key = k;
      name = t.id.name;
    }
    return { fn: this.host.fn(key)!.id, text: this.host.primalName(file, key) };
  }

  /**
   * `valueAndGrad(g, i?)(args)` and `jvp(g, [primals], [tangents])` destructured inside
   * differentiated code: g for the value, T(g) for the derivative (unit along parameter i, or
   * directed along every parameter). Undefined when `call` is neither; a message when it cannot be used.
   */
  pair(call: ts.CallExpression, file: string, reach: (node: FunctionNode) => FnInfo): DerivativePair | string | undefined {
    const checker = this.host.checker;
    const inner = call.expression;
    const isValueAndGrad = ts.isCallExpression(inner) && adcExportName(inner.expression, checker) === "valueAndGrad";
    const isJvp = adcExportName(inner, checker) === "jvp";
    if (!isValueAndGrad && !isJvp) return undefined;
    const [fnArg, second, third] = isValueAndGrad ? (inner as ts.CallExpression).arguments : call.arguments;
    const what = isValueAndGrad ? "valueAndGrad" : "jvp";
    const derivative = fnArg && gradOf(fnArg, checker);
    if (derivative) {
      const named = ts.isIdentifier(fnArg!) ? `'${fnArg!.text}', itself a derivative (${derivative}),` : derivative;
      return `${what} of ${named} inside a differentiated function is not supported yet; its derivative along parameter i is grad(${derivative}, i)(...) (a second derivative), and its value a call of it`;
    }
    if (!fnArg || !ts.isIdentifier(fnArg)) return "name the function differentiated here (a function declared at module level)";
    const node = functionOf(fnArg, checker);
    if (typeof node === "string") return node;
    const g = reach(node);
    if (g.captures?.length) return `'${fnArg.text}' reads locals of its enclosing function`;
    const params = node.parameters;
    let mask: boolean[];
    let valueArgs: ts.Expression[];
    let tangentArgs: ts.Expression[];
    if (isValueAndGrad) {
      const i = second ? Number(ts.isNumericLiteral(second) ? second.text : NaN) : 0;
      if (!Number.isInteger(i) || i < 0 || i >= params.length) return "valueAndGrad inside a differentiated function needs one literal argnum";
      mask = params.map((_, k) => k === i);
      // Arguments left out take g's default values (literals), as a call of g would.
      const given = [...call.arguments];
      for (let k = given.length; k < params.length && params[k].initializer; k++) given.push(params[k].initializer!);
      if (given.length < params.length) return `valueAndGrad(${fnArg.text}) inside a differentiated function needs an argument for '${params[given.length].name.getText()}'`;
      valueArgs = tangentArgs = given;
      if (isArrayLike(classifyType(checker.getTypeAtLocation(params[i]), checker).k)) {
        // Along an array: g's gradient G (emit/inner-grad.ts), not a tangent function.
        const G = this.arrayGrad(g, i, params[i].name.getText(), file, call, params.length);
        return { value: { fn: g.id, text: fnArg.text }, valueArgs, tangent: { fn: G.id, text: this.host.primalName(file, fnKey(G.id)) }, tangentArgs };
      }
    } else {
      if (!second || !third || !ts.isArrayLiteralExpression(second) || !ts.isArrayLiteralExpression(third) || second.elements.length !== params.length || third.elements.length !== params.length)
        return "jvp inside a differentiated function needs its primals and tangents as array literals, one entry per parameter";
      mask = params.map(() => true);
      valueArgs = [...second.elements];
      tangentArgs = second.elements.flatMap((p, k) => [p, third.elements[k]]);
    }
    const key = fnKey(g.id);
    const base = `${g.id.name}_${isValueAndGrad ? "grad" : "tangent"}`;
    const t = this.host.tangents.defer(key, mask, isValueAndGrad, base);
    const k = fnKey(t.id);
    if (!this.pending.has(k)) this.pending.set(k, { of: key, mask, unit: isValueAndGrad, base, file, site: call });
    return { value: { fn: g.id, text: fnArg.text }, valueArgs, tangent: { fn: t.id, text: this.host.primalName(file, k) }, tangentArgs };
  }

  /** G = grad of g along its array parameter i, registered to be made after lowering. */
  private arrayGrad(g: FnInfo, i: number, param: string, file: string, site: ts.Node, arity: number): FnInfo {
    const key = fnKey(g.id);
    const base = `${g.id.name}_grad${arity > 1 ? `_${param}` : ""}`;
    const t = this.host.tangents.deferGrad(key, i, base);
    const k = fnKey(t.id);
    if (!this.pending.has(k)) this.pending.set(k, { of: key, mask: Array.from({ length: arity }, (_, j) => j === i), unit: true, base, file, site, array: true });
    return t;
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
    if (p.array) return this.makeArrayGrad(key, p, g, t);
    // A unit tangent (grad along a number) is a number; a directed one (jvp) may carry arrays.
    const plain = (k: string): boolean => k === "num" || (!p.unit && k === "arr");
    const q = ir.params.find((_, k) => p.mask[k] && !plain(ir.params[k].ty.k));
    if (!plain(ir.ret.k) || q) {
      const kind = (k: string): string => (k === "nd" ? "an NDArray" : k === "obj" ? "an object" : k === "list" ? "a list of arrays" : "of a type adc does not differentiate here");
      const why = !plain(ir.ret.k) ? `'${g.id.name}' does not return a number${p.unit ? "" : " or an array"}` : `its parameter '${q!.name}' is ${kind(q!.ty.k)}`;
      this.host.refuse("ADC1026", p.file, p.site, `a derivative of ${g.id.name} inside a differentiated function is taken along numbers, number[] and Float64Array, but ${why}`, "differentiate the whole computation at module level");
      return this.fail(key, t);
    }
    this.host.refreshMutations();
    if (this.host.tangents.of(p.of, p.mask, p.unit, p.base) === null) return this.fail(key, t);
    this.state.set(key, "made");
    return true;
  }

  /**
   * G = grad_w g for an array w: a function with no body whose primal is g's gradient and whose
   * derivatives are Hessian-vector products of g (custom kind "grad", emit/inner-grad.ts).
   */
  private makeArrayGrad(key: string, p: Pending, g: FnInfo, t: FnInfo): boolean {
    const ir = g.ir!;
    const i = p.mask.indexOf(true);
    const why = ir.ret.k !== "num" ? `'${g.id.name}' does not return a number`
      : this.host.mutations(p.of)?.size ? `'${g.id.name}' writes into its array arguments`
      : undefined;
    if (why) {
      this.host.refuse("ADC1026", p.file, p.site, `grad of ${g.id.name} inside a differentiated function is not supported: ${why}`, "differentiate the whole computation at module level");
      return this.fail(key, t);
    }
    t.ir = { id: t.id, params: ir.params, ret: ir.params[i].ty, body: [], vars: new Map(ir.params.map((q) => [q.name, q.ty] as const)), reserved: new Set(ir.params.map((q) => q.name)), pos: ir.pos, source: ir.source, custom: { kind: "grad", name: g.id.name, of: g.id, wrt: i } };
    t.deferred = false;
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

/** Parameters whose inner gradient is an array of their shape (G, emit/inner-grad.ts): arrays and NDArrays. */
function isArrayLike(k: string): boolean {
  return k === "arr" || k === "nd";
}

/** The name a function is declared with in the user's code (generated names may add `_2`). */
function shownName(node: FunctionNode, fallback: string): string {
  const named = ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) ? node.name : ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined;
  return named && ts.isIdentifier(named) ? named.text : fallback;
}

/** `grad(q)` written here, or the name of a const bound to it: the text of that grad call. */
function gradOf(e: ts.Expression, checker: ts.TypeChecker): string | undefined {
  if (ts.isIdentifier(e)) {
    const sym = checker.getSymbolAtLocation(e);
    const decl = sym && (sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym).valueDeclaration;
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer) return undefined;
    e = decl.initializer;
  }
  return ts.isCallExpression(e) && adcExportName(e.expression, checker) === "grad" ? e.getText() : undefined;
}
