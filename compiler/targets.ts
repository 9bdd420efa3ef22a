/**
 * Finding what must be differentiated: calls of adc's API (`grad`, `valueAndGrad`, `vjp`,
 * `jvp`, imported from "adc" under any local name or through a namespace import) and the
 * functions they name, resolved through the checker (declarations, `const` arrows and function
 * expressions, inline arrows, imports from other modules of the build).
 */
import { forEachNode } from "./ast-walk.js";
import { ts } from "ts-morph";
import type { DiagnosticSink } from "./diagnostics.js";
import type { FunctionNode } from "./ir/lower/index.js";
import { runtimeFile } from "./program.js";

export type ApiKind = "grad" | "valueAndGrad" | "vjp" | "jvp" | "hessian" | JacobianKind | "checkGrads";
/** The Jacobian transforms; the `Into` ones write into a buffer the caller passes. */
export type JacobianKind = "jacfwd" | "jacrev" | "jacobian" | "jacrevInto" | "jacfwdInto";
export const JACOBIAN_KINDS: ReadonlySet<string> = new Set<JacobianKind>(["jacfwd", "jacrev", "jacobian", "jacrevInto", "jacfwdInto"]);
/** Every API call adc compiles (`record` blocks are found apart). */
export const API_KINDS: ReadonlySet<string> = new Set<string>(["grad", "valueAndGrad", "vjp", "jvp", "hessian", ...JACOBIAN_KINDS, "checkGrads"]);
/** The API calls that take `(f, argnums?)` and return a function of f's arguments, but are no gradient. */
const ONE_ARGNUM = new Set<string>(["hessian", ...JACOBIAN_KINDS]);

export interface CallSite {
  readonly kind: ApiKind;
  readonly call: ts.CallExpression;
  readonly fnNode: FunctionNode;
  /** The parameters differentiated, in the order gradients are returned (grad/valueAndGrad). */
  readonly argnums: readonly number[] | null;
  /** argnums was written as a list (`grad(f, [1])`): gradients come back as a tuple, even of one. */
  readonly tuple: boolean;
  /**
   * The function differentiated is itself a derivative: `grad(grad(f, 1))`, or `grad(df)` after
   * `const df = grad(f)`. The argnum of each inner `grad`, innermost first; empty for `grad(f)`.
   */
  readonly inner: readonly number[];
  /** `grad(f, { hasAux: true })`: f returns `[value, aux]`; value is differentiated, aux handed back. */
  readonly hasAux?: boolean;
  /** f is a customVjp/customJvp function; fnNode is then its `customVjp(...)` call. */
  readonly custom?: CustomFn;
}

function importedFrom(decl: ts.Node): string | undefined {
  let n: ts.Node | undefined = decl;
  while (n && !ts.isImportDeclaration(n)) n = n.parent;
  return n && ts.isStringLiteral(n.moduleSpecifier) ? n.moduleSpecifier.text : undefined;
}

/** The files that declare adc's API (`import ... from "adc"` resolves to one of them). */
const API_FILES = new Set<string>();
function isApiFile(file: string): boolean {
  if (!API_FILES.size) API_FILES.add(runtimeFile("api").split("\\").join("/"));
  return API_FILES.has(file.split("\\").join("/"));
}

/**
 * If `callee` names an export of the "adc" package, its exported name: imported from "adc" under
 * any local name, through a namespace import, or through a module of the program that
 * re-exports it (`export { grad } from "adc"`).
 */
export function adcExportName(callee: ts.Expression, checker: ts.TypeChecker): string | undefined {
  while (ts.isParenthesizedExpression(callee)) callee = callee.expression;
  const named = ts.isIdentifier(callee) ? callee : ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) ? callee.expression : undefined;
  if (named && importedNames(named)?.has(named.text) === false) return undefined;
  if (ts.isIdentifier(callee)) {
    const sym = checker.getSymbolAtLocation(callee);
    const decl = sym?.declarations?.[0];
    if (decl && ts.isImportSpecifier(decl) && importedFrom(decl) === "adc") return (decl.propertyName ?? decl.name).text;
    if (sym && sym.flags & ts.SymbolFlags.Alias) {
      const target = checker.getAliasedSymbol(sym);
      const d = target.valueDeclaration ?? target.declarations?.[0];
      if (d && isApiFile(d.getSourceFile().fileName)) return target.getName();
    }
    return undefined;
  }
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
    const decl = checker.getSymbolAtLocation(callee.expression)?.declarations?.[0];
    if (decl && ts.isNamespaceImport(decl) && importedFrom(decl) === "adc") return callee.name.text;
  }
  return undefined;
}

/**
 * The local names a file binds by importing (import declarations and `import x =`, at top level
 * or in namespaces): only these can name adc's API, so other identifiers skip the checker's name
 * resolution, which costs as many scopes as enclose them (in a deeply nested function every
 * `Math.sin` paid the depth). Null where that is not known: a JavaScript file, where `require`
 * binds too, or a node outside any file.
 */
function importedNames(n: ts.Node): ReadonlySet<string> | null {
  let root = n;
  while (root.parent) root = root.parent;
  if (!ts.isSourceFile(root) || /\.[cm]?jsx?$/i.test(root.fileName)) return null;
  let names = importNames.get(root);
  if (!names) importNames.set(root, (names = new Set()));
  else return names;
  const visit = (statements: readonly ts.Statement[]): void => {
    for (const st of statements) {
      if (ts.isImportDeclaration(st) && st.importClause) {
        const c = st.importClause;
        if (c.name) names!.add(c.name.text);
        if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) names!.add(c.namedBindings.name.text);
        if (c.namedBindings && ts.isNamedImports(c.namedBindings)) for (const e of c.namedBindings.elements) names!.add(e.name.text);
      } else if (ts.isImportEqualsDeclaration(st)) names!.add(st.name.text);
      else if (ts.isModuleDeclaration(st)) {
        let body = st.body;
        while (body && ts.isModuleDeclaration(body)) body = body.body;
        if (body && ts.isModuleBlock(body)) visit(body.statements);
      }
    }
  };
  visit(root.statements);
  return names;
}
const importNames = new WeakMap<ts.SourceFile, Set<string>>();

/**
 * The function an expression denotes, if adc can see its body: a function declaration, a `const`
 * bound to an arrow or function expression, or an inline arrow. Imports are followed.
 */
export function functionOf(e: ts.Expression, checker: ts.TypeChecker, depth = 0): FunctionNode | string {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e;
  if (ts.isPropertyAccessExpression(e)) {
    const decl = checker.getSymbolAtLocation(e.name)?.valueDeclaration;
    if (decl && ts.isMethodDeclaration(decl) && ts.isClassLike(decl.parent)) {
      const cls = decl.parent.name?.text ?? "C";
      const params = decl.parameters.map((q) => q.name.getText()).join(", ");
      if (ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Static) return `'${e.getText()}' is a static method; differentiate an arrow that calls it, e.g. (${params}) => ${e.getText()}(${params})`;
      return `'${e.getText()}' is a method, which JavaScript passes without its object; differentiate an arrow that calls it on the object, e.g. (m: ${cls}${params ? `, ${params}` : ""}) => m.${e.name.text}(${params})`;
    }
  }
  const member = namespaceMember(e, checker);
  if (!ts.isIdentifier(e) && !member) return "adc differentiates a named function or an inline arrow";
  const text = e.getText();
  // (The name of a shorthand property, `{ cube }`, stands for the value it names.)
  let sym = member ?? (ts.isShorthandPropertyAssignment(e.parent) && e.parent.name === e ? checker.getShorthandAssignmentValueSymbol(e.parent) : checker.getSymbolAtLocation(e));
  if (!sym) return `cannot resolve '${text}'`;
  if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym.valueDeclaration ?? sym.declarations?.[0];
  if (!decl) return `cannot find the declaration of '${text}'`;
  if (decl.getSourceFile().isDeclarationFile) return `'${text}' is declared in a .d.ts file; adc needs its source`;
  // `export default (w, x) => ...` (or `export default model`), imported under any name.
  if (ts.isExportAssignment(decl) && !decl.isExportEquals) {
    let value: ts.Expression = decl.expression;
    while (ts.isParenthesizedExpression(value) || ts.isAsExpression(value) || ts.isSatisfiesExpression(value)) value = value.expression;
    if (ts.isArrowFunction(value) || ts.isFunctionExpression(value)) return value;
    if (ts.isIdentifier(value) && depth < 8) return functionOf(value, checker, depth + 1);
    return `the default export of '${decl.getSourceFile().fileName}' is not a function adc can read`;
  }
  if (ts.isFunctionDeclaration(decl)) {
    if (!decl.body) return `'${text}' has no body`;
    return namespaceLocal(decl, e, checker) ?? decl;
  }
  if (ts.isVariableDeclaration(decl) && decl.initializer) {
    const init = decl.initializer;
    if (!(decl.parent.flags & ts.NodeFlags.Const)) return `'${text}' is not a const, so it may be reassigned`;
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
    // `const loss = squaredLoss`: the function it names (the book's `net = linreg`).
    let alias: ts.Expression = init;
    while (ts.isParenthesizedExpression(alias) || ts.isAsExpression(alias)) alias = alias.expression;
    if (ts.isIdentifier(alias) && depth < 8) {
      const target = functionOf(alias, checker, depth + 1);
      if (typeof target !== "string") return target;
    }
    return `'${text}' is not bound to a function adc can read`;
  }
  return `'${text}' is not a function adc can read`;
}

/**
 * A function of a TypeScript namespace, named from outside it, that reads another member of a
 * namespace by its bare name (`k`, `helper(x)`): derivative code lives at module level, where
 * that name is not in scope or names something else. The reason, or undefined when it reads none.
 */
function namespaceLocal(fn: ts.FunctionDeclaration, site: ts.Node, checker: ts.TypeChecker): string | undefined {
  const ns = ts.findAncestor(fn.parent, ts.isModuleDeclaration);
  // (Named inside the namespace, its members are the locals a closure captures, passed along.)
  if (!ns || isInside(site, ns)) return undefined;
  let found: string | undefined;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isIdentifier(n) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) && !(ts.isPropertyAssignment(n.parent) && n.parent.name === n)) {
      const d = checker.getSymbolAtLocation(n)?.valueDeclaration;
      if (d && !d.getSourceFile().isDeclarationFile && !isInside(d, fn) && ts.findAncestor(d.parent, ts.isModuleDeclaration))
        found = `'${fn.name?.text}' reads '${n.text}', declared in namespace '${ns.name.getText()}', which derivative code (generated outside the namespace) cannot name; declare the namespace's functions and values at module level (or in a module of their own, imported with import * as)`;
    }
    ts.forEachChild(n, visit);
  };
  visit(fn.body!);
  return found;
}

function isInside(n: ts.Node, outer: ts.Node): boolean {
  return n.pos >= outer.pos && n.end <= outer.end && n.getSourceFile() === outer.getSourceFile();
}

/**
 * `ns.f` where ns is a namespace import (`import * as ns from "./ops.js"`): f's symbol, else
 * undefined.
 */
export function namespaceMember(e: ts.Expression, checker: ts.TypeChecker): ts.Symbol | undefined {
  if (!ts.isPropertyAccessExpression(e) || !(ts.isIdentifier(e.expression) || ts.isPropertyAccessExpression(e.expression))) return undefined;
  // (`import * as ops`, or `export * as ops from` re-exported and imported by name; or a
  // TypeScript `namespace Util { export function act ... }`, nested ones too: `Util.Inner.sq`.)
  const ns = checker.getSymbolAtLocation(e.expression);
  const target = ns && ns.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(ns) : ns;
  const isModule = (s: ts.Symbol | undefined): boolean => !!s?.declarations?.some((d) => ts.isNamespaceImport(d) || ts.isNamespaceExport(d) || ts.isSourceFile(d) || ts.isModuleDeclaration(d));
  if (!isModule(ns) && !isModule(target)) return undefined;
  return checker.getSymbolAtLocation(e.name);
}

/**
 * What a call's callee names for resolving it to a function of the build: a name, a namespace's
 * member, or the function a frozen const object literal's property gives (`acts.tanh` of
 * `const acts = { tanh: myTanh } as const`); undefined for anything else.
 */
export function userCallee(callee: ts.Expression, checker: ts.TypeChecker): ts.Expression | undefined {
  if (ts.isIdentifier(callee) || namespaceMember(callee, checker)) return callee;
  const member = objectMember(callee, checker);
  return member && (ts.isIdentifier(member) || ts.isArrowFunction(member) || ts.isFunctionExpression(member)) ? member : undefined;
}

/** `acts.tanh` where acts is a const bound to a frozen object literal: the expression the property is given, else undefined. */
function objectMember(e: ts.Expression, checker: ts.TypeChecker): ts.Expression | undefined {
  // (adc's own objects, np, are its runtime: their calls are operations or creations.)
  if (!ts.isPropertyAccessExpression(e) || !ts.isIdentifier(e.expression) || adcExportName(e.expression, checker)) return undefined;
  let sym = checker.getSymbolAtLocation(e.expression);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !(decl.parent.flags & ts.NodeFlags.Const)) return undefined;
  // Only a frozen object (`as const`, Object.freeze): another one's property may be given another function.
  let init = decl.initializer;
  let frozen = false;
  for (;;) {
    if (ts.isAsExpression(init) && init.type.getText() === "const") frozen = true;
    if (ts.isCallExpression(init) && init.expression.getText() === "Object.freeze" && init.arguments.length === 1) {
      frozen = true;
      init = init.arguments[0];
    } else if (ts.isParenthesizedExpression(init) || ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
    else break;
  }
  if (!frozen || !ts.isObjectLiteralExpression(init)) return undefined;
  for (const p of init.properties) {
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === e.name.text) return p.initializer;
    if (ts.isShorthandPropertyAssignment(p) && p.name.text === e.name.text) return p.name;
  }
  return undefined;
}

/** A function with a custom derivative rule: a `const` bound to `customVjp(f, fwd, bwd)`, `customJvp(f, rule)` or `checkpoint(f)`. */
export interface CustomFn {
  /** customVjp, customJvp, or checkpoint (whose rule is its function's own derivative, recomputed). */
  readonly kind: "vjp" | "jvp" | "checkpoint";
  readonly call: ts.CallExpression;
  readonly decl: ts.VariableDeclaration & { readonly name: ts.Identifier };
}

/** If `e` names a customVjp/customJvp function (through imports), its definition. */
export function customOf(e: ts.Expression, checker: ts.TypeChecker, depth = 0): CustomFn | undefined {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  // (Through a namespace import too: `C.softplus(x)` of `import * as C`.)
  const member = ts.isIdentifier(e) ? undefined : namespaceMember(e, checker);
  if (!ts.isIdentifier(e) && !member) return undefined;
  let sym = member ?? checker.getSymbolAtLocation(e);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  if (!decl || !ts.isVariableDeclaration(decl) || !ts.isIdentifier(decl.name) || !decl.initializer || !(decl.parent.flags & ts.NodeFlags.Const)) return undefined;
  let init: ts.Expression = decl.initializer;
  while (ts.isParenthesizedExpression(init) || ts.isAsExpression(init)) init = init.expression;
  // `const c2 = c`: the custom function c names.
  if (ts.isIdentifier(init) && depth < 8) return customOf(init, checker, depth + 1);
  if (!ts.isCallExpression(init)) return undefined;
  const name = adcExportName(init.expression, checker);
  if (name !== "customVjp" && name !== "customJvp" && name !== "checkpoint") return undefined;
  return { kind: name === "customVjp" ? "vjp" : name === "customJvp" ? "jvp" : "checkpoint", call: init, decl: decl as CustomFn["decl"] };
}

/**
 * `grad(fn)` (or valueAndGrad, vjp, jvp) of a function value adc cannot name at build time: a
 * parameter, a factory's result, a const holding one. The call becomes a run-time lookup of the
 * derivatives a `@differentiable` function carries (runtime/dynamic.ts).
 */
export interface DynamicSite {
  readonly kind: "grad" | "valueAndGrad" | "vjp" | "jvp" | "jacrev" | "jacfwd" | "jacrevInto" | "jacfwdInto";
  readonly call: ts.CallExpression;
  readonly fn: ts.Expression;
  readonly argnums: number | readonly number[];
}

/** Whether e is a function value only known when the program runs (not a builtin or a reassignable name). */
function dynamicValue(e: ts.Expression, checker: ts.TypeChecker): boolean {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  // (`map.get(k)!` is typed with the undefined the assertion removed.)
  if (checker.getNonNullableType(checker.getTypeAtLocation(e)).getCallSignatures().length === 0) return false;
  if (ts.isCallExpression(e)) return true;
  // `table[i]`, `c ? a : b`, `acts.tanh`: a value picked when the program runs.
  if (pickedValue(e, checker)) return true;
  if (!ts.isIdentifier(e)) return false;
  let sym = checker.getSymbolAtLocation(e);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  if (!decl || decl.getSourceFile().isDeclarationFile) return false;
  if (ts.isParameter(decl) || ts.isBindingElement(decl)) return true;
  // `const loss = makeLoss(0.1)`: a factory's result.
  if (ts.isVariableDeclaration(decl) && decl.parent.flags & ts.NodeFlags.Const && decl.initializer) {
    let init = decl.initializer;
    while (ts.isParenthesizedExpression(init) || ts.isAsExpression(init)) init = init.expression;
    return (ts.isCallExpression(init) && !adcExportName(init.expression, checker)) || pickedValue(init, checker);
  }
  return false;
}

/** An element of a table, a choice between functions, or a field of an object of the program's. */
function pickedValue(e: ts.Expression, checker: ts.TypeChecker): boolean {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  if (ts.isElementAccessExpression(e) || ts.isConditionalExpression(e)) return true;
  if (!ts.isPropertyAccessExpression(e) || namespaceMember(e, checker)) return false;
  // (Not a builtin's member, Math.sin: that carries no derivatives, and the refusal says so now.)
  const decl = checker.getSymbolAtLocation(e.name)?.valueDeclaration;
  return !!decl && !decl.getSourceFile().isDeclarationFile && (ts.isPropertyAssignment(decl) || ts.isShorthandPropertyAssignment(decl) || ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl));
}

/** Every adc API call in a file, in source order. Bad arguments are reported to the sink. */
export function findCallSites(sf: ts.SourceFile, checker: ts.TypeChecker, sink: DiagnosticSink, file: string, dynamic?: (d: DynamicSite) => void): CallSite[] {
  const out: CallSite[] = [];
  // `grad(f)` written inside `grad(grad(f))` is part of the outer site, not a site of its own.
  const consumed = new Set<ts.Node>();
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && !consumed.has(n)) {
      const name = adcExportName(n.expression, checker);
      if (name && API_KINDS.has(name)) {
        const site = callSite(n, name as ApiKind, checker, sink, file, consumed, dynamic);
        if (site) out.push(site);
      }
    }
    // `const G = grad`, `apply(grad, f)`: adc replaces calls, so a value would fail when it runs.
    if (ts.isIdentifier(n) && valuePosition(n)) {
      const named = ts.isPropertyAccessExpression(n.parent) && n.parent.name === n ? n.parent : n;
      const name = adcExportName(named, checker);
      if (name && (API_KINDS.has(name) || name === "record") && !isCallee(named))
        sink.report("ADC1008", file, named.getStart(), named.getEnd(), `${name} is used as a value here; adc compiles calls of ${name}, so this one would fail when it runs`, `call it directly: ${name}(${name === "record" ? "() => { ... }" : "f"})`);
    }
    // `record(step)`: a block is compiled from an inline function only.
    if (ts.isCallExpression(n) && adcExportName(n.expression, checker) === "record" && !(n.arguments[0] && (ts.isArrowFunction(n.arguments[0]) || ts.isFunctionExpression(n.arguments[0]))))
      sink.report("ADC1008", file, n.getStart(), n.getEnd(), "record needs the recorded code as an inline function", "write record(() => { ... }) around the code, or call the function inside it: record(() => { step(); })");
  };
  forEachNode(sf, visit);
  return out;
}

function callSite(call: ts.CallExpression, kind: ApiKind, checker: ts.TypeChecker, sink: DiagnosticSink, file: string, consumed: Set<ts.Node>, dynamic?: (d: DynamicSite) => void): CallSite | undefined {
  const report = (code: Parameters<DiagnosticSink["report"]>[0], n: ts.Node, msg: string, hint?: string): undefined => {
    sink.report(code, file, n.getStart(), n.getEnd(), msg, hint);
    return undefined;
  };
  const [outerArg] = call.arguments;
  let second: ts.Expression | undefined = call.arguments[1];
  if (!outerArg) return report("ADC1008", call, `${kind} needs a function`);
  // Options, JAX's keyword arguments: `grad(f, { argnums: 1, hasAux: true })`, or after argnums.
  let hasAux = false;
  const bare = (a: ts.Expression | undefined): ts.Expression | undefined => {
    while (a && (ts.isParenthesizedExpression(a) || ts.isAsExpression(a) || ts.isSatisfiesExpression(a))) a = a.expression;
    return a;
  };
  const optionsAt = kind === "grad" || kind === "valueAndGrad" ? [1, 2].find((k) => { const a = bare(call.arguments[k]); return !!a && ts.isObjectLiteralExpression(a); }) : undefined;
  const optionsArg = optionsAt === undefined ? undefined : (bare(call.arguments[optionsAt]) as ts.ObjectLiteralExpression);
  // (Only grad and valueAndGrad take options; JAX's jacrev/jacfwd has_aux is not made.)
  const takesArgnums = kind === "hessian" || JACOBIAN_KINDS.has(kind);
  const stray = takesArgnums ? call.arguments.slice(1).find((a) => { const b = bare(a); return !!b && ts.isObjectLiteralExpression(b); }) : undefined;
  if (stray) return report("ADC1006", stray, `${kind} takes no options object: argnums is its second argument, and hasAux is for grad and valueAndGrad only`, `write ${kind}(f, 1), or differentiate the value alone`);
  if (optionsArg) {
    if (optionsAt === 1 && call.arguments[2]) return report("ADC1006", call.arguments[2], "argnums goes in the options object or before it, not after");
    if (optionsAt === 1) second = undefined;
    for (const prop of optionsArg.properties) {
      const key = prop.name && (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name)) ? prop.name.text : undefined;
      if (!ts.isPropertyAssignment(prop) || (key !== "hasAux" && key !== "argnums"))
        return report("ADC1006", prop, `${kind}'s options are { argnums, hasAux }, each written as a literal`);
      if (key === "argnums") {
        if (second) return report("ADC1006", prop, "argnums is given twice");
        second = prop.initializer;
      } else if (prop.initializer.kind === ts.SyntaxKind.TrueKeyword) hasAux = true;
      else if (prop.initializer.kind !== ts.SyntaxKind.FalseKeyword) return report("ADC1006", prop.initializer, "hasAux must be the literal true or false");
    }
  }
  // Peel derivatives: grad(grad(f, 1)), or a const bound to grad(f).
  const inner: number[] = [];
  let fnArg = outerArg;
  for (;;) {
    const d = derivativeOf(fnArg, checker);
    if (!d) break;
    if (d.kind !== "grad") return report("ADC1008", fnArg, `${d.kind}(...) does not return a function of the same arguments, so ${kind} cannot differentiate it`, "differentiate grad(f) instead");
    const [f, a] = d.call.arguments;
    if (!f) return report("ADC1008", d.call, "grad needs a function");
    let k = 0;
    if (a) {
      const lit = literalArgnum(a);
      if (lit === undefined) return report("ADC1006", a, `${kind} of grad(f, ${a.getText()}) is not supported: the grad that is differentiated again must name one parameter with a literal number, so its result is one value`, "differentiate grad(f, i) for one parameter i at a time, e.g. grad(f, 1)");
      k = lit;
    }
    inner.unshift(k);
    if (!d.named) consumed.add(d.call);
    fnArg = f;
  }
  // A function with a custom rule is differentiated through its rule (build.ts makes a function
  // that calls it to stand for it).
  const custom = customOf(fnArg, checker);
  const fnNode = custom ? (custom.call as unknown as FunctionNode) : functionOf(fnArg, checker);
  if (typeof fnNode === "string" && dynamic && !inner.length && dynamicValue(fnArg, checker)) {
    // A function value: its derivatives are looked up when the program runs.
    if (kind !== "grad" && kind !== "valueAndGrad" && kind !== "vjp" && kind !== "jvp" && !JACOBIAN_KINDS.has(kind))
      return report("ADC1008", fnArg, `${kind} of a function value adc cannot see at build time is not supported (grad, valueAndGrad, vjp, jvp and the Jacobians are, for functions marked @differentiable)`, "pass the function itself, declared with `function` or a `const` arrow");
    if (hasAux) return report("ADC1008", fnArg, `${kind} with hasAux of a function value is not supported`, "pass the function itself");
    let argnums: number | number[] = 0;
    if ((kind === "grad" || kind === "valueAndGrad" || JACOBIAN_KINDS.has(kind)) && second) {
      let arg = second;
      while (ts.isAsExpression(arg) || ts.isParenthesizedExpression(arg)) arg = arg.expression;
      const nums = ts.isArrayLiteralExpression(arg) ? arg.elements.map((x) => literalArgnum(x)) : [literalArgnum(arg)];
      if (nums.some((x) => x === undefined || x < 0)) return report("ADC1006", second, "argnums must be a literal number or an array of literal numbers", "write the positions, e.g. grad(f, 1)");
      argnums = ts.isArrayLiteralExpression(arg) ? (nums as number[]) : nums[0]!;
    }
    dynamic({ kind: kind === "jacobian" ? "jacrev" : (kind as DynamicSite["kind"]), call, fn: fnArg, argnums });
    return undefined;
  }
  if (typeof fnNode === "string")
    return report("ADC1008", fnArg, `${kind}: ${fnNode}`, fnNode.includes("declared in namespace") ? undefined : "pass a function declared with `function` or a `const` arrow, or an inline arrow");
  const paramCount = custom ? (checker.getTypeAtLocation(custom.decl.name).getCallSignatures()[0]?.getParameters().length ?? 0) : fnNode.parameters.length;
  if (paramCount === 0) return report("ADC1010", fnArg, `${kind} needs a function with at least one parameter to differentiate with respect to`);
  let argnums: number[] | null = null;
  let tuple = false;
  // The Jacobian of grad(f, i) w.r.t. that same parameter is f's Hessian there (JAX's
  // jacfwd(grad(f))); other mixed forms are not made yet.
  const outerK = second ? literalArgnum(second) : 0;
  if ((kind === "jacrev" || kind === "jacfwd" || kind === "jacobian") && inner.length === 1 && outerK === inner[0] && !hasAux && !custom)
    return { kind: "hessian", call, fnNode, argnums: [inner[0]], tuple: false, inner: [] };
  if (ONE_ARGNUM.has(kind) && inner.length) return report("ADC1008", outerArg, `${kind} of a derivative is not supported yet`, "hessian(f) gives the second derivatives of f");
  if (kind === "grad" || kind === "valueAndGrad" || ONE_ARGNUM.has(kind)) {
    if (!second) argnums = [0];
    else {
      const lit = (x: ts.Expression): number | undefined => {
        while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x)) x = x.expression;
        if (ts.isPrefixUnaryExpression(x) && x.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(x.operand)) return -Number(x.operand.text);
        return ts.isNumericLiteral(x) && Number.isInteger(Number(x.text)) ? Number(x.text) : undefined;
      };
      let arg = second;
      while (ts.isAsExpression(arg) || ts.isParenthesizedExpression(arg)) arg = arg.expression;
      if (ts.isArrayLiteralExpression(arg)) {
        const nums = arg.elements.map(lit);
        if (nums.some((x) => x === undefined) || nums.length === 0)
          return report("ADC1006", second, "argnums must be a literal number or an array of literal numbers", "write the positions, e.g. grad(f, [0, 1])");
        argnums = nums as number[];
        tuple = true;
      } else {
        const k = lit(arg);
        if (k === undefined) return report("ADC1006", second, "argnums must be a literal number or an array of literal numbers", "write the positions, e.g. grad(f, 1)");
        argnums = [k];
      }
      const count = paramCount;
      const innerBad = inner.find((k) => k < 0 || k >= count);
      if (innerBad !== undefined) return report("ADC1010", outerArg, `argnums ${innerBad} is outside the function's ${count} parameter(s)`);
      const bad = argnums.find((k) => k < 0 || k >= count);
      if (bad !== undefined) return report("ADC1010", second, `argnums ${bad} is outside the function's ${count} parameter(s)`);
      if (new Set(argnums).size !== argnums.length) return report("ADC1006", second, "argnums lists a parameter twice");
      if (kind === "hessian" && tuple) return report("ADC1006", second, "hessian with a list of argnums is not supported yet", "name one parameter: hessian(f, 1)");
    }
  }
  if (hasAux && inner.length) return report("ADC1008", outerArg, `${kind} with hasAux of a derivative is not supported`, "differentiate the function that returns [value, aux] itself");
  // (A derivative of a derivative of a customJvp function differentiates its rule; a checkpoint's
  // is its function's; a customVjp rule has no forward mode, which second derivatives use.)
  if (custom && (hasAux || (inner.length && custom.kind === "vjp"))) return report("ADC1008", outerArg, `${kind} of a ${custom.kind === "vjp" ? "customVjp" : custom.kind === "jvp" ? "customJvp" : "checkpoint"} function ${hasAux ? "with hasAux" : "of a derivative"} is not supported`);
  return { kind, call, fnNode, argnums, tuple, inner, ...(hasAux ? { hasAux } : {}), ...(custom ? { custom } : {}) };
}

/** `grad(f, ...)` (or another API call), written here or bound to a `const` this names. */
function derivativeOf(e: ts.Expression, checker: ts.TypeChecker): { kind: string; call: ts.CallExpression; named: boolean } | undefined {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  const named = ts.isIdentifier(e);
  if (ts.isIdentifier(e)) {
    let sym = checker.getSymbolAtLocation(e);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const decl = sym?.valueDeclaration;
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !(decl.parent.flags & ts.NodeFlags.Const)) return undefined;
    e = decl.initializer;
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e)) e = e.expression;
  }
  if (!ts.isCallExpression(e)) return undefined;
  const kind = adcExportName(e.expression, checker);
  return kind && API_KINDS.has(kind) ? { kind, call: e, named } : undefined;
}

/**
 * A derivative called as a function inside differentiated code: `grad(g, i)(x)`, `grad(grad(g))`,
 * or a const bound to one (`const dg = grad(g)` then `dg(x)`). Gives g and the argnums of the
 * grads, innermost first; undefined when `callee` is not a grad; a message when it cannot be used.
 */
export function gradChain(callee: ts.Expression, checker: ts.TypeChecker): { fn: FunctionNode; inner: number[] } | string | undefined {
  const inner: number[] = [];
  let e = callee;
  for (;;) {
    const d = derivativeOf(e, checker);
    if (!d) break;
    if (d.kind !== "grad") return inner.length ? `${d.kind} of a derivative` : undefined;
    const [f, a] = d.call.arguments;
    if (!f) return "grad needs a function";
    const k = a ? literalArgnum(a) : 0;
    if (k === undefined) return "grad called inside a differentiated function needs one literal argnum, so that it returns one number";
    inner.unshift(k);
    e = f;
  }
  if (!inner.length) return undefined;
  const fn = functionOf(e, checker);
  return typeof fn === "string" ? fn : { fn, inner };
}

/** A literal argnum (`1`), or undefined. */
function literalArgnum(x: ts.Expression): number | undefined {
  while (ts.isParenthesizedExpression(x) || ts.isAsExpression(x)) x = x.expression;
  return ts.isNumericLiteral(x) && Number.isInteger(Number(x.text)) ? Number(x.text) : undefined;
}

/** Whether `n` is what a call calls (`grad` in `grad(f)`, or `adc.grad` in `adc.grad(f)`). */
function isCallee(n: ts.Node): boolean {
  return ts.isCallExpression(n.parent) && n.parent.expression === n;
}

/** An identifier read as a value (not a declaration, an import or export name, or a property name of an object type). */
function valuePosition(n: ts.Identifier): boolean {
  const p = n.parent;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return false;
  if ((ts.isPropertyAccessExpression(p) && p.expression === n) || ts.isQualifiedName(p) || ts.isTypeReferenceNode(p) || ts.isTypeQueryNode(p)) return false;
  if ((ts.isVariableDeclaration(p) || ts.isFunctionDeclaration(p) || ts.isParameter(p) || ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p)) && p.name === n) return false;
  return true;
}
