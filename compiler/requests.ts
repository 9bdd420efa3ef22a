/**
 * Requests: each adc API call site and record block of the build becomes the jobs that make its
 * derivatives (jobs.ts) and the edit that calls them. Derivatives of derivatives go through the
 * tangent functions (tangents.ts): `grad(grad(f))` asks for the gradient of T(f), `hessian` and
 * `jvp`/`vjp` of `grad(f)` for gradients of the directed T(f).
 */
import { ts } from "ts-morph";
import type { Code } from "./diagnostics.js";
import { sharedOutputs } from "./analysis/shares.js";
import { fnKey } from "./analysis/summaries.js";
import { isDiffTy, isTree } from "./ir/ir.js";
import { forEachExpr, forEachStmt, stmtExprs } from "./ir/walk.js";
import type { FunctionNode } from "./ir/lower/index.js";
import type { Capture, RecordSite } from "./record.js";
import { captureText } from "./record.js";
import { JACOBIAN_KINDS, type CallSite } from "./targets.js";
import { RT } from "./emit/names.js";
import { jobBases, type Job } from "./jobs.js";
import type { FnInfo } from "./tangents.js";

/** What requests need from the build. */
export interface RequestHost {
  fn(key: string): FnInfo;
  register(node: FunctionNode, anonymous?: string, aux?: boolean): FnInfo;
  isBroken(key: string): boolean;
  /** The job's generated names, queued the first time. */
  enqueue(job: Job): string[];
  importName(file: string, f: FnInfo, name: string): string;
  edit(file: string, start: number, end: number, text: string): void;
  refuse(code: Code, file: string, n: ts.Node, message: string, hint?: string): void;
  refreshMutations(): void;
  tangent(key: string, mask: readonly boolean[], unit: boolean, base: string): string | null;
  typeText(n: ts.Node): string;
  /** Whether `name` at `at` is the module-level variable of that name declared in `file`. */
  sameModuleVariable(at: ts.Node, file: string, name: string): boolean;
}

export class Requests {
  constructor(private readonly host: RequestHost) {}

  site(site: CallSite): void {
    let f = this.host.register(site.fnNode, undefined, site.hasAux);
    if (this.host.isBroken(fnKey(f.id))) return;
    if (site.kind === "hessian") return this.requestHessian(site, f);
    if (JACOBIAN_KINDS.has(site.kind)) return this.requestJacobian(site, f);
    if (site.kind === "checkGrads") return this.requestCheck(site, f);
    if (site.inner.length && (site.kind === "jvp" || site.kind === "vjp")) return this.requestOfGrad(site, f);
    if (site.inner.length) {
      const t = this.derivativeOf(f, site.inner, site);
      if (!t) return;
      f = t;
    }
    const ir = f.ir!;
    const file = site.call.getSourceFile().fileName;
    const diffParams = this.diffParams(f);
    const call = site.call;
    const key = fnKey(f.id);
    if (site.kind === "grad" || site.kind === "valueAndGrad") {
      // (An NDArray result must hold one element, which only the running program can check.)
      if (ir.ret.k !== "num" && ir.ret.k !== "nd") {
        this.host.refuse("ADC1007", file, call, `${site.kind} needs a function that returns a number or a one-element NDArray; '${f.id.name}' returns ${ir.ret.k === "arr" ? "an array" : "something else"}`, "reduce the result to a number (for example with a loop), or use vjp for a non-scalar result");
        return;
      }
      for (const k of site.argnums!)
        if (!diffParams[k]) {
          this.host.refuse("ADC1012", file, call, `parameter '${ir.params[k].name}' of '${f.id.name}' has a type adc cannot differentiate`, "differentiate with respect to numbers, number arrays, Float64Array or NDArray");
          return;
        }
      const mask = ir.params.map((_, i) => site.argnums!.includes(i));
      const [name] = this.host.enqueue({ kind: site.kind, key, mask, wrt: site.argnums!, tuple: site.tuple && site.argnums!.length === 1 });
      this.replaceWithFunction(site, f, name);
      return;
    }
    if (!diffParams.some(Boolean)) {
      this.host.refuse("ADC1012", file, call, `'${f.id.name}' has no parameter adc can differentiate`);
      return;
    }
    if (!isDiffTy(ir.ret)) {
      this.host.refuse("ADC1007", file, call, `${site.kind} needs a function that returns a number, an array or an NDArray`);
      return;
    }
    // An optional number (`s?: number`) may be undefined, so adc does not differentiate it; given a
    // value here, its derivative would silently be missing (vjp) or zero (jvp).
    const given = site.kind === "vjp" ? call.arguments.length - 1 : ts.isArrayLiteralExpression(call.arguments[1]) ? call.arguments[1].elements.length : ir.params.length;
    const optional = ir.params.find((q, i) => i < given && q.optional && q.ty.k === "other" && /\bnumber\b/.test(q.ty.text));
    if (optional) {
      this.host.refuse("ADC1012", file, call, `${site.kind} differentiates every argument it is given, and '${optional.name}' of '${f.id.name}' is optional (${optional.ty.k === "other" ? optional.ty.text : ""}), which adc cannot differentiate`, `give it a default value (${optional.name} = 0) or a number type, or leave it out here`);
      return;
    }
    const kind = site.kind === "vjp" ? "vjp" : "jvpPair";
    // vjp(f, x, y) of f(x, y, s = 2): the defaulted s is not an argument here, so it gets no
    // cotangent (the pullback returns one per argument given, as JAX's).
    const mask = site.kind === "vjp" ? diffParams.map((d, i) => d && i < given) : diffParams;
    const [name] = this.host.enqueue({ kind, key, mask });
    this.replaceCallee(site, f, name);
  }

  /** Which parameters carry derivatives: a closure's captured locals (trailing) never do. */
  private diffParams(f: FnInfo): boolean[] {
    const nUser = f.ir!.params.length - (f.captures?.length ?? 0);
    return f.ir!.params.map((p, i) => i < nUser && isDiffTy(p.ty));
  }

  /** `grad(f)` becomes the generated function's name (a closure's captured locals bound by an arrow). */
  private replaceWithFunction(site: CallSite, f: FnInfo, name: string, into = false): void {
    const file = site.call.getSourceFile().fileName;
    this.host.edit(file, site.call.getStart(), site.call.getEnd(), this.functionText(site, f, name, into));
  }

  /** A generated function of f's arguments as an expression: its name, or an arrow passing a closure's captured locals. */
  private functionText(site: CallSite, f: FnInfo, name: string, into = false): string {
    const file = site.call.getSourceFile().fileName;
    const captured = (f.captures ?? []).map(captureText);
    const fnName = this.host.importName(file, f, name);
    if (!captured.length) return fnName;
    // `grad(loss)` inside fit(xs): `((w: number[]) => loss_grad(w, xs))`, reading xs when called.
    const params = (f.node as ts.SignatureDeclarationBase).parameters;
    const paramText = params.map((q) => (q.type || q.initializer ? q.getText() : `${q.name.getText()}: ${this.host.typeText(q)}`));
    const args = [...params.map((q) => q.name.getText()), ...captured];
    if (into) {
      // The buffer and offset lead (names unlike the parameters' and the captured locals').
      const taken = new Set([...args, ...params.map((q) => q.getText())].join(" ").split(/[^\w$]+/));
      const [J, at] = ["J", "offset"].map((b) => { let n = `_${b}`; while (taken.has(n)) n += "_"; return n; });
      paramText.unshift(`${J}: Float64Array`, `${at}: number`);
      args.unshift(J, at);
    }
    return `((${paramText.join(", ")}) => ${fnName}(${args.join(", ")}))`;
  }

  /**
   * `checkGrads(f, args, options)`: the runtime checker (runtime/check.ts) given f's jvp and vjp;
   * `checkGrads(grad(f, i), args)` checks the gradient with the Hessian-vector products of
   * `jvp(grad(f, i))` and `vjp(grad(f, i))`.
   */
  private requestCheck(site: CallSite, f: FnInfo): void {
    const file = site.call.getSourceFile().fileName;
    const call = site.call;
    const [fnArg, argsArg] = call.arguments;
    if (!argsArg || !ts.isArrayLiteralExpression(argsArg)) return this.host.refuse("ADC1020", file, argsArg ?? call, "checkGrads needs f's arguments written as a list", "checkGrads(f, [x, y])");
    if (site.inner.length > 1) return this.host.refuse("ADC1008", file, fnArg, "checkGrads of a derivative of a derivative is not supported yet", "check grad(f, i), whose derivatives are the second derivatives of f");
    const ir = f.ir!;
    const key = fnKey(f.id);
    const diff = this.diffParams(f);
    const captured = (f.captures ?? []).map(captureText);
    const tail = captured.map((c) => `, ${c}`).join("");
    let fText: string;
    let jvpName: string | null;
    let vjpName: string | null;
    // Modes the options leave out, written as a literal, are not made (a customVjp rule has no
    // forward mode, and checkGrads(f, args, { modes: ["rev"] }) is how it is checked).
    const modes = literalModes(call.arguments[2]);
    const want = (mode: "fwd" | "rev"): boolean => !modes || modes.has(mode);
    if (site.inner.length) {
      const i = site.inner[0];
      if (ir.ret.k !== "num") return this.host.refuse("ADC1007", file, call, `grad needs a function that returns a number; '${f.id.name}' does not`);
      if (!diff[i] || (ir.params[i].ty.k !== "num" && ir.params[i].ty.k !== "arr" && ir.params[i].ty.k !== "nd")) return this.host.refuse("ADC1012", file, call, `checkGrads of grad needs parameter '${ir.params[i].name}' to be a number, number[], Float64Array or NDArray`);
      const unit = ir.params.map((_, k) => k === i);
      const forward = this.host.tangent(key, diff, false, `${f.id.name}_tangent`);
      const backward = this.host.tangent(key, unit, false, `${f.id.name}_tangent`);
      if (forward === null || backward === null) return;
      this.host.refreshMutations();
      jvpName = want("fwd") ? this.host.enqueue({ kind: "gradJvpPair", key, mask: diff, wrt: [i], tangent: forward })[0] : null;
      vjpName = want("rev") ? this.host.enqueue({ kind: "gradVjp", key, mask: diff, wrt: [i], tangent: backward })[0] : null;
      const [gradName] = this.host.enqueue({ kind: "grad", key, mask: unit, wrt: [i], tuple: false });
      fText = this.functionText(site, f, gradName);
    } else {
      if (!diff.some(Boolean)) return this.host.refuse("ADC1012", file, call, `'${f.id.name}' has no parameter adc can differentiate`);
      if (!isDiffTy(ir.ret)) return this.host.refuse("ADC1007", file, call, "checkGrads needs a function that returns a number, an array or an NDArray");
      // With literal argnums only those arguments carry tangents: a fixed one's zero tangent
      // could still meet an infinite partial (0 * log of a negative base is NaN).
      const argnums = literalArgnumsOption(call.arguments[2]);
      const checked = argnums && diff.some((d, k) => d && argnums.includes(k)) ? diff.map((d, k) => d && argnums.includes(k)) : diff;
      jvpName = want("fwd") ? this.host.enqueue({ kind: "jvpPair", key, mask: checked })[0] : null;
      vjpName = want("rev") ? this.host.enqueue({ kind: "vjp", key, mask: checked })[0] : null;
      fText = fnArg.getText();
    }
    const jvp = jvpName && this.host.importName(file, f, jvpName);
    const vjp = vjpName && this.host.importName(file, f, vjpName);
    const jvpText = !jvp ? "null" : captured.length ? `((p: any, t: any) => ${jvp}(p, t${tail}))` : jvp;
    // (Spread into the vjp's own parameters through a variadic view of it, which TypeScript allows.)
    const vjpText = !vjp ? "null" : captured.length ? `((...p: any[]) => (${vjp} as (...a: any[]) => any)(...p${tail}))` : vjp;
    // Only f's own parameters are checked; a closure's captured locals come after them.
    const mask = JSON.stringify(diff.slice(0, ir.params.length - captured.length));
    this.host.edit(file, call.getStart(), argsArg.getStart(), `${RT}.checkGrads(${fText}, ${jvpText}, ${vjpText}, ${mask}, `);
  }

  /** `vjp(f, x)` becomes `f_vjp(x)`, `jvp(f, p, t)` becomes `f_jvpPair(p, t)` (captured locals appended). */
  private replaceCallee(site: CallSite, f: FnInfo, name: string): void {
    const file = site.call.getSourceFile().fileName;
    const call = site.call;
    const captured = (f.captures ?? []).map(captureText);
    const rest = call.arguments[1];
    const text = `${this.host.importName(file, f, name)}(`;
    if (rest) {
      this.host.edit(file, call.getStart(), rest.getStart(), text);
      if (captured.length) this.host.edit(file, call.getEnd() - 1, call.getEnd(), `${call.arguments.hasTrailingComma ? " " : ", "}${captured.join(", ")})`);
    } else this.host.edit(file, call.getStart(), call.getEnd(), `${text}${captured.join(", ")})`);
  }

  /**
   * `hessian(f, i)`: for a number parameter, grad(grad(f, i), i); for an array, rows of
   * Hessian-vector products, each the gradient of T(f) directed along a unit vector.
   */
  private requestHessian(site: CallSite, f: FnInfo): void {
    const file = site.call.getSourceFile().fileName;
    const ir = f.ir!;
    const i = site.argnums![0];
    const q = ir.params[i];
    if (ir.ret.k !== "num" && ir.ret.k !== "nd") return this.host.refuse("ADC1007", file, site.call, `hessian needs a function that returns a number or a one-element NDArray; '${f.id.name}' does not`);
    if (q.ty.k === "num" && this.diffParams(f)[i]) return this.site({ ...site, kind: "grad", inner: [i], argnums: [i], tuple: false });
    if ((q.ty.k !== "arr" && q.ty.k !== "nd") || !this.diffParams(f)[i])
      return this.host.refuse("ADC1012", file, site.call, `hessian needs parameter '${q.name}' of '${f.id.name}' to be a number, number[], Float64Array or NDArray`, isTree(q.ty) ? `for a parameter object, take Hessian-vector products: jvp(grad(${f.id.name}), [${q.name}], [v]) with v shaped like ${q.name}` : undefined);
    const mask = ir.params.map((_, k) => k === i);
    const tangent = this.host.tangent(fnKey(f.id), mask, false, `${f.id.name}_tangent`);
    if (tangent === null) return;
    this.host.refreshMutations();
    const [name] = this.host.enqueue({ kind: "hessian", key: fnKey(f.id), mask, wrt: [i], tangent });
    this.replaceWithFunction(site, f, name);
  }

  /** `jacrev(f, i)` (`jacobian`) from f's vjp, `jacfwd(f, i)` from its jvp. */
  private requestJacobian(site: CallSite, f: FnInfo): void {
    const file = site.call.getSourceFile().fileName;
    const ir = f.ir!;
    const wrt = site.argnums!;
    const plain = (k: string): boolean => k === "num" || k === "arr" || k === "nd";
    if (!plain(ir.ret.k)) return this.host.refuse("ADC1007", file, site.call, `${site.kind} needs a function that returns a number, number[], Float64Array or NDArray; '${f.id.name}' does not`);
    for (const i of wrt) {
      const q = ir.params[i];
      if (!plain(q.ty.k) || !this.diffParams(f)[i]) return this.host.refuse("ADC1012", file, site.call, `${site.kind} needs parameter '${q.name}' of '${f.id.name}' to be a number, number[], Float64Array or NDArray`);
    }
    const mask = ir.params.map((_, k) => wrt.includes(k));
    const kind = site.kind === "jacfwd" || site.kind === "jacfwdInto" ? "jacfwd" : "jacrev";
    // Into a buffer, the layout is the same whether argnums is a list or not.
    const into = site.kind === "jacrevInto" || site.kind === "jacfwdInto";
    const [name] = this.host.enqueue({ kind, key: fnKey(f.id), mask, wrt, tuple: site.tuple && !into, ...(into ? { into } : {}) });
    this.replaceWithFunction(site, f, name, into);
  }

  /** `jvp(grad(f, i), p, t)` and `vjp(grad(f, i), ...p)`: Hessian-vector products, as T(f)'s gradients. */
  private requestOfGrad(site: CallSite, f0: FnInfo): void {
    const file = site.call.getSourceFile().fileName;
    const i = site.inner[site.inner.length - 1];
    const f = site.inner.length > 1 ? this.derivativeOf(f0, site.inner.slice(0, -1), site) : f0;
    if (!f) return;
    const ir = f.ir!;
    const diff = this.diffParams(f);
    if (ir.ret.k !== "num") return this.host.refuse("ADC1007", file, site.call, `grad needs a function that returns a number; '${f0.id.name}' does not`);
    if (!diff[i] || (ir.params[i].ty.k !== "num" && ir.params[i].ty.k !== "arr" && ir.params[i].ty.k !== "nd" && !isTree(ir.params[i].ty))) return this.host.refuse("ADC1012", file, site.call, `${site.kind} of grad needs parameter '${ir.params[i].name}' to be a number, number[], Float64Array or NDArray`);
    const key = fnKey(f.id);
    const directed = site.kind === "jvp" ? diff : ir.params.map((_, k) => k === i);
    const tangent = this.host.tangent(key, directed, false, `${f.id.name}_tangent`);
    if (tangent === null) return;
    this.host.refreshMutations();
    const [name] = this.host.enqueue({ kind: site.kind === "jvp" ? "gradJvpPair" : "gradVjp", key, mask: diff, wrt: [i], tangent });
    this.replaceCallee(site, f, name);
  }

  /**
   * `grad(grad(f, i))`: the function differentiated is T(f), f's derivative along parameter i as a
   * function of IR (tangents.ts), and so on for each inner grad. Null if refused.
   */
  private derivativeOf(f: FnInfo, inner: readonly number[], site: CallSite): FnInfo | null {
    const file = site.call.getSourceFile().fileName;
    let key = fnKey(f.id);
    for (const i of inner) {
      const g = this.host.fn(key)!;
      const ir = g.ir!;
      const q = ir.params[i];
      if (ir.ret.k !== "num" || q.ty.k !== "num") {
        const why = ir.ret.k !== "num" ? `'${f.id.name}' does not return a number` : `its parameter '${q.name}' is ${q.ty.k === "arr" ? "an array" : "not a number"}, so grad returns ${q.ty.k === "arr" ? "an array" : "something other than a number"}`;
        this.host.refuse("ADC1007", file, site.call, `${site.kind} of grad(${f.id.name}) needs grad(${f.id.name}) to return a number, but ${why}`, "for the second derivatives of a function of an array, use hessian(f), or jvp(grad(f), [x], [v]) for a Hessian-vector product");
        return null;
      }
      const mask = ir.params.map((_, k) => k === i);
      const [base] = jobBases({ kind: "grad", key, mask, wrt: [i] }, g.id.name, ir, g.captures?.length ?? 0);
      const next = this.host.tangent(key, mask, true, base);
      if (next === null) return null;
      key = next;
    }
    this.host.refreshMutations();
    return this.host.fn(key)!;
  }

  /** A record block: its vjp is generated, and the call becomes a runtime `record` over it. */
  record(site: RecordSite, captures: readonly Capture[]): void {
    const f = this.host.register(site.cb, "_record");
    const ir = f.ir;
    if (!ir || this.host.isBroken(fnKey(f.id))) return;
    const file = site.call.getSourceFile().fileName;
    // NDArrays, and objects and lists that may hold them (`model.w`, `params[0]`).
    const mask = ir.params.map((p) => p.ty.k === "nd" || isTree(p.ty));
    const [name] = this.host.enqueue({ kind: "block", key: fnKey(f.id), mask });
    const inputs = captures.filter((c) => c.read).map(captureText);
    const written = captures.filter((c) => c.written);
    const assign = `(_outputs: unknown[]) => {${written.map((c, k) => ` ${captureText(c)} = _outputs[${k}] as ${c.typeText};`).join("")} }`;
    const options = site.options?.getText() ?? "{}";
    // Outputs whose graphs overlap another's: a backward through one frees the others too.
    const shares = sharedOutputs(ir);
    const overlap = shares.some((js, k) => js.some((j) => j !== k));
    const tape = site.tape ? `, ${site.tape.getText()}` : overlap ? ", null" : "";
    const sharing = overlap ? `, ${JSON.stringify(shares)}` : "";
    // Arrays the block's callees read from outside (`net(X)` reading a global `W`) are no inputs
    // of the block: their derivatives are not recorded. If one has a gradient attached (or was
    // made in a record block) when the block runs, that is an error, not a zero gradient.
    const outside = this.outsideArrays(f).filter((o) => this.host.sameModuleVariable(site.call, o.file, o.name));
    const guard = outside.length ? `${RT}.checkUntracked([${outside.map((o) => o.name).join(", ")}], ${JSON.stringify(outside.map((o) => `'${o.name}', read by ${o.callee}`))}${site.tape && (ts.isIdentifier(site.tape) || ts.isPropertyAccessExpression(site.tape)) ? `, ${site.tape.getText()}` : ""}), ` : "";
    const call = `${RT}.record([${inputs.join(", ")}], ${name}, ${assign}, ${options}${tape}${sharing})`;
    this.host.edit(file, site.call.getStart(), site.call.getEnd(), guard ? `(${guard}${call})` : call);
  }

  /** Module-level NDArrays (and objects or lists that may hold them) that functions a block calls read by name. */
  private outsideArrays(block: FnInfo): { name: string; file: string; callee: string }[] {
    const seen = new Set<string>();
    const found = new Map<string, { name: string; file: string; callee: string }>();
    const visit = (g: FnInfo, inBlock: boolean): void => {
      const key = fnKey(g.id);
      if (seen.has(key) || !g.ir) return;
      seen.add(key);
      forEachStmt(g.ir.body, (s) => {
        for (const e of stmtExprs(s))
          forEachExpr(e, (x) => {
            if (!inBlock && x.k === "free" && (x.ty.k === "nd" || isTree(x.ty)) && !found.has(x.text)) found.set(x.text, { name: x.text, file: g.sf.fileName, callee: g.id.name });
            if (x.k === "call" && x.fn.k === "user") {
              const callee = this.host.fn(fnKey(x.fn.fn));
              if (callee) visit(callee, false);
            }
          });
      });
    };
    visit(block, true);
    return [...found.values()];
  }
}

/** The list a checkGrads options literal gives for `key`, when written as a literal list of such elements. */
function literalOption<T extends ts.Expression>(options: ts.Expression | undefined, key: string, isElem: (e: ts.Expression) => e is T): readonly T[] | undefined {
  while (options && (ts.isParenthesizedExpression(options) || ts.isAsExpression(options) || ts.isSatisfiesExpression(options))) options = options.expression;
  if (!options || !ts.isObjectLiteralExpression(options)) return undefined;
  const prop = options.properties.find((q) => ts.isPropertyAssignment(q) && q.name.getText() === key);
  let list = prop && ts.isPropertyAssignment(prop) ? prop.initializer : undefined;
  while (list && (ts.isAsExpression(list) || ts.isParenthesizedExpression(list))) list = list.expression;
  if (!list || !ts.isArrayLiteralExpression(list) || !list.elements.every(isElem)) return undefined;
  return list.elements as unknown as readonly T[];
}

/** The argnums a checkGrads options literal names (`{ argnums: [0] }`). */
function literalArgnumsOption(options: ts.Expression | undefined): readonly number[] | undefined {
  return literalOption(options, "argnums", ts.isNumericLiteral)?.map((e) => Number(e.text));
}

/** The modes a checkGrads options literal names (`{ modes: ["rev"] }`). */
function literalModes(options: ts.Expression | undefined): ReadonlySet<string> | undefined {
  const list = literalOption(options, "modes", ts.isStringLiteral);
  return list && new Set(list.map((e) => e.text));
}
