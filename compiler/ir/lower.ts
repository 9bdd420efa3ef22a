/**
 * Lowering: a TypeScript function (declaration, arrow or function expression) to adc's IR.
 *
 * Takes the function node, the checker and a sink; gives an IrFunction or throws a Refusal after
 * reporting why. This is where the language is fenced: every construct is either lowered here or
 * refused with a diagnostic at its position. Whether a construct touches a differentiated value
 * is decided later, by activity analysis (an unknown call with constant arguments is fine).
 *
 * Desugaring done here: compound assignment and ++/-- become plain assignments; `for...of`,
 * `map`, `reduce` and `forEach` with inline callbacks become counted loops; `switch` becomes a
 * labelled block of `if`s; shadowed names are renamed so names are unique per function.
 */
import { ts } from "ts-morph";
import type { Code, DiagnosticSink } from "../diagnostics.js";
import {
  BOOL, NUM, VOID, isDiffTy,
  type BinOp, type Callee, type Counter, type Ctor, type Expr, type FnId, type IrFunction,
  type Param, type Pos, type Stmt, type Target, type Ty, type UnOp,
} from "./ir.js";
import { classifyType } from "./types.js";
import { forEachExpr } from "./walk.js";
import { MATH_CONSTANTS, scalarRule } from "../rules/scalar.js";
import { isListOp } from "../rules/ndarray.js";

export type FunctionNode = ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression;

export interface LowerEnv {
  readonly checker: ts.TypeChecker;
  readonly sink: DiagnosticSink;
  readonly file: string;
  /** The user function a callee refers to, if adc can differentiate it. */
  resolveUser(callee: ts.Expression): FnId | undefined;
  /** Whether `callee` is the named export of the `adc` package. */
  isAdcApi(callee: ts.Expression, name: string): boolean;
  /** If `callee` is an NDArray operation (`np.add`, `x.add`), its registry name. */
  ndOp?(call: ts.CallExpression | ts.PropertyAccessExpression): { op: string; args: ts.Expression[] } | undefined;
  /**
   * For a record block: the outer variables it uses. Read ones become parameters (the block's
   * inputs); assigned ones are its outputs (assigned-only ones start as locals).
   */
  readonly captures?: readonly { readonly ident: ts.Identifier; readonly read: boolean; readonly written: boolean }[];
  /** The captures are a closure's reads of enclosing locals (extra parameters), not a record block's. */
  readonly closure?: boolean;
  /** The enclosing-function locals a called closure reads, passed after its own arguments. */
  calleeCaptures?(callee: FnId): readonly ts.Identifier[];
}

const OBSERVERS = new Set(["console.log", "console.info", "console.warn", "console.error", "console.debug"]);

const IN_PLACE_ARRAY_METHODS = new Set(["push", "pop", "shift", "unshift", "splice", "fill", "reverse", "sort", "copyWithin", "set", "subarray"]);

const ASSIGN_OPS: Partial<Record<ts.SyntaxKind, BinOp>> = {
  [ts.SyntaxKind.PlusEqualsToken]: "+",
  [ts.SyntaxKind.MinusEqualsToken]: "-",
  [ts.SyntaxKind.AsteriskEqualsToken]: "*",
  [ts.SyntaxKind.SlashEqualsToken]: "/",
  [ts.SyntaxKind.PercentEqualsToken]: "%",
  [ts.SyntaxKind.AsteriskAsteriskEqualsToken]: "**",
};

const BIN_OPS: Partial<Record<ts.SyntaxKind, BinOp>> = {
  [ts.SyntaxKind.PlusToken]: "+",
  [ts.SyntaxKind.MinusToken]: "-",
  [ts.SyntaxKind.AsteriskToken]: "*",
  [ts.SyntaxKind.SlashToken]: "/",
  [ts.SyntaxKind.PercentToken]: "%",
  [ts.SyntaxKind.AsteriskAsteriskToken]: "**",
  [ts.SyntaxKind.LessThanToken]: "<",
  [ts.SyntaxKind.LessThanEqualsToken]: "<=",
  [ts.SyntaxKind.GreaterThanToken]: ">",
  [ts.SyntaxKind.GreaterThanEqualsToken]: ">=",
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: "===",
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: "!==",
  [ts.SyntaxKind.EqualsEqualsToken]: "==",
  [ts.SyntaxKind.ExclamationEqualsToken]: "!=",
  [ts.SyntaxKind.AmpersandAmpersandToken]: "&&",
  [ts.SyntaxKind.BarBarToken]: "||",
  [ts.SyntaxKind.QuestionQuestionToken]: "??",
  [ts.SyntaxKind.AmpersandToken]: "&",
  [ts.SyntaxKind.BarToken]: "|",
  [ts.SyntaxKind.CaretToken]: "^",
  [ts.SyntaxKind.LessThanLessThanToken]: "<<",
  [ts.SyntaxKind.GreaterThanGreaterThanToken]: ">>",
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken]: ">>>",
};

const COMPARISONS = new Set<BinOp>(["<", "<=", ">", ">=", "===", "!==", "==", "!="]);
const INT_OPS = new Set<BinOp>(["&", "|", "^", "<<", ">>", ">>>"]);

export function lowerFunction(node: FunctionNode, id: FnId, env: LowerEnv): IrFunction {
  return new Lowerer(node, id, env).run();
}

class Lowerer {
  private readonly locals = new Map<ts.Symbol, string>();
  private readonly vars = new Map<string, Ty>();
  private readonly taken = new Set<string>();
  private readonly reserved = new Set<string>();
  private temps = 0;
  /** Statements an expression needs run before it (map/reduce loops); null where none may go. */
  private pre: Stmt[] | null = null;
  /** Labels of the jump targets we are inside, innermost last: loops, blocks, map callbacks. */
  private readonly targets: { label: string | undefined; kind: "loop" | "block" | "switch" }[] = [];
  /** Inside an inlined callback: `return e` assigns here and continues the generated loop. */
  private callbackReturn: { label: string; assign: (e: Expr, pos: Pos) => Stmt } | null = null;

  constructor(
    private readonly fn: FunctionNode,
    private readonly id: FnId,
    private readonly env: LowerEnv,
  ) {}

  run(): IrFunction {
    const fn = this.fn;
    this.collectReserved(fn);
    if (fn.asteriskToken) this.refuse("ADC1015", fn, "generator functions are not differentiable", "write the function as a plain loop");
    if (ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword))
      this.refuse("ADC1015", fn, "async functions are not differentiable", "differentiate a synchronous function and await outside it");
    const params: Param[] = fn.parameters.map((p) => {
      if (!ts.isIdentifier(p.name)) this.refuse("ADC1001", p, "destructured parameters are not supported", "take the value as one parameter and read its parts inside");
      if (p.dotDotDotToken) this.refuse("ADC1001", p, "rest parameters are not supported", "pass an array instead");
      const init = p.initializer ? this.constantDefault(p) : undefined;
      const ty = this.typeOf(p.name);
      const name = this.declare(p.name, ty);
      return init === undefined ? { name, ty, pos: this.pos(p) } : { name, ty, pos: this.pos(p), init };
    });
    const outputs: string[] = [];
    const prelude: Stmt[] = [];
    for (const c of this.env.captures ?? []) {
      const ty = this.typeOf(c.ident);
      const name = this.declare(c.ident, ty);
      if (c.read) params.push({ name, ty, pos: this.pos(c.ident) });
      else prelude.push({ k: "let", name, ty, isConst: false, pos: this.pos(c.ident) });
      if (c.written) outputs.push(name);
    }
    const sig = this.env.checker.getSignatureFromDeclaration(fn);
    const ret = sig ? classifyType(this.env.checker.getReturnTypeOfSignature(sig), this.env.checker) : VOID;
    let body: Stmt[];
    if (!fn.body) this.refuse("ADC1001", fn, "a function without a body cannot be differentiated");
    if (ts.isBlock(fn.body)) body = this.block(fn.body.statements);
    else if (this.isBlock()) {
      // `record(() => y = f(x))`: the body is a statement.
      body = [];
      this.exprStmt(fn.body as ts.Expression, body);
    } else {
      const out: Stmt[] = [];
      const value = this.withPre(out, () => this.expr(fn.body as ts.Expression));
      out.push({ k: "return", value, pos: this.pos(fn.body) });
      body = out;
    }
    if (this.isBlock()) return { id: this.id, params, body: [...prelude, ...body], ret: VOID, vars: this.vars, reserved: this.reserved, pos: this.pos(fn), source: fn.getSourceFile().text, outputs };
    return { id: this.id, params, body, ret, vars: this.vars, reserved: this.reserved, pos: this.pos(fn), source: fn.getSourceFile().text };
  }

  /** A record block's body (captures are its inputs and outputs), rather than a function. */
  private isBlock(): boolean {
    return !!this.env.captures && !this.env.closure;
  }

  // ---- names, types, positions ------------------------------------------------------------

  private collectReserved(node: ts.Node): void {
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n)) this.reserved.add(n.text);
      ts.forEachChild(n, visit);
    };
    visit(node);
  }

  private pos(n: ts.Node): Pos {
    return { start: n.getStart(), end: n.getEnd() };
  }

  private refuse(code: Code, n: ts.Node, message: string, hint?: string): never {
    return this.env.sink.refuse(code, this.env.file, n.getStart(), n.getEnd(), message, hint);
  }

  private typeOf(n: ts.Node): Ty {
    return classifyType(this.env.checker.getTypeAtLocation(n), this.env.checker);
  }

  /** Gives a declared identifier its unique IR name. */
  private declare(ident: ts.Identifier, ty: Ty): string {
    const sym = this.symbolOf(ident);
    const name = this.fresh(ident.text);
    if (sym) this.locals.set(sym, name);
    this.vars.set(name, ty);
    return name;
  }

  private fresh(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    this.reserved.add(name);
    return name;
  }

  /**
   * A parameter's default value, which must be a number or boolean literal (`lambda = 0.1`,
   * `sign = -1`): calls that leave the argument out get the literal in its place, and the
   * generated entry points keep it, so nothing depends on the caller's scope.
   */
  private constantDefault(p: ts.ParameterDeclaration): string {
    const init = p.initializer!;
    const literal = (e: ts.Expression): boolean =>
      ts.isNumericLiteral(e) || e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword ||
      (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken) && ts.isNumericLiteral(e.operand));
    if (!literal(init))
      this.refuse("ADC1001", init, "a default parameter value must be a number or boolean literal here", "pass the value explicitly, or give the parameter a literal default");
    return init.getText();
  }

  /**
   * `w[j++]`: the old (or, for `++j`, the new) value goes into a temporary and the update runs
   * just before the statement. That is JavaScript's order only when nothing else in the statement
   * reads the variable and the increment runs unconditionally, so both are required.
   */
  private incrementInExpr(e: ts.PrefixUnaryExpression | ts.PostfixUnaryExpression): Expr {
    const p = this.pos(e);
    const hint = "write `i++` as its own statement";
    if (!this.pre) this.refuse("ADC1001", e, "an increment inside a condition, a loop test or a branch of ?:, && or || is not supported", hint);
    if (!ts.isIdentifier(e.operand)) this.refuse("ADC1001", e, "only a local variable can be incremented inside an expression", hint);
    const target = this.target(e.operand);
    if (target.k !== "var" || target.ty.k !== "num") this.refuse("ADC1001", e, "only a number variable can be incremented inside an expression", hint);
    let root: ts.Node = e;
    while (ts.isExpression(root.parent) || ts.isSpreadElement(root.parent)) root = root.parent;
    const sym = this.env.checker.getSymbolAtLocation(e.operand);
    let refs = 0;
    const count = (n: ts.Node): void => {
      if (ts.isIdentifier(n) && this.symbolOf(n) === sym) refs++;
      ts.forEachChild(n, count);
    };
    count(root);
    if (refs !== 1) this.refuse("ADC1001", e, `'${e.operand.text}' is incremented and also used elsewhere in this expression`, hint);
    const read: Expr = { k: "var", name: target.name, ty: NUM, pos: p };
    const step: Expr = { k: "bin", op: e.operator === ts.SyntaxKind.PlusPlusToken ? "+" : "-", l: read, r: { k: "num", v: 1, text: "1", pos: p }, ty: NUM, pos: p };
    const update: Stmt = { k: "assign", target, value: step, pos: p };
    const name = this.temp("_inc", NUM);
    const save: Stmt = { k: "let", name, ty: NUM, init: read, isConst: true, pos: p };
    if (ts.isPostfixUnaryExpression(e)) this.pre.push(save, update);
    else this.pre.push(update, save);
    return { k: "var", name, ty: NUM, pos: p };
  }

  /**
   * `b[g(b)] *= x` and `b[g(b)]++` read and write one element: an index that calls something is
   * evaluated once, into a constant before the statement. So is an index that reads the array it
   * writes (`a[f(a[0])] = v`): after the write it may name another element, and the reverse sweep
   * restores the element at the index (a fuzzer find).
   */
  private indexOnce(target: Target, out: Stmt[]): Target {
    if (target.k !== "index" || !(impureIndex(target.idx) || readsElementOf(target.idx, target.arr))) return target;
    const name = this.temp("_ix", NUM);
    out.push({ k: "let", name, ty: NUM, init: target.idx, isConst: true, pos: target.idx.pos });
    return { ...target, idx: { k: "var", name, ty: NUM, pos: target.idx.pos } };
  }

  /** A compiler-made local (loop index of a for...of, a map result). */
  private temp(base: string, ty: Ty): string {
    let name: string;
    do name = `${base}${this.temps++}`;
    while (this.taken.has(name) || this.reserved.has(name));
    this.taken.add(name);
    this.reserved.add(name);
    this.vars.set(name, ty);
    return name;
  }

  private localName(ident: ts.Identifier): string | undefined {
    const sym = this.symbolOf(ident);
    return sym ? this.locals.get(sym) : undefined;
  }

  /** The variable an identifier names: in `{ x }` the name is the property, the value is x. */
  private symbolOf(ident: ts.Identifier): ts.Symbol | undefined {
    const p = ident.parent;
    if (p && ts.isShorthandPropertyAssignment(p) && p.name === ident) return this.env.checker.getShorthandAssignmentValueSymbol(p);
    return this.env.checker.getSymbolAtLocation(ident);
  }

  private withPre<T>(list: Stmt[] | null, f: () => T): T {
    const saved = this.pre;
    this.pre = list;
    try {
      return f();
    } finally {
      this.pre = saved;
    }
  }

  // ---- statements -------------------------------------------------------------------------

  private block(stmts: readonly ts.Statement[] | ts.NodeArray<ts.Statement>): Stmt[] {
    const out: Stmt[] = [];
    for (const s of stmts) this.stmt(s, out);
    return out;
  }

  private body(s: ts.Statement): Stmt[] {
    return ts.isBlock(s) ? this.block(s.statements) : this.block([s]);
  }

  private stmt(s: ts.Statement, out: Stmt[]): void {
    const p = this.pos(s);
    if (ts.isVariableStatement(s)) return this.varDecls(s.declarationList, out);
    if (ts.isExpressionStatement(s)) return this.exprStmt(s.expression, out);
    if (ts.isBlock(s)) {
      out.push(...this.block(s.statements));
      return;
    }
    if (ts.isEmptyStatement(s)) return;
    if (ts.isIfStatement(s)) {
      const cond = this.withPre(out, () => this.expr(s.expression));
      out.push({ k: "if", cond, then: this.body(s.thenStatement), else: s.elseStatement ? this.body(s.elseStatement) : [], pos: p });
      return;
    }
    if (ts.isReturnStatement(s)) {
      if (this.callbackReturn) {
        const cb = this.callbackReturn;
        if (!s.expression) this.refuse("ADC1001", s, "a callback must return a value");
        const v = this.withPre(out, () => this.expr(s.expression!));
        out.push(cb.assign(v, p), { k: "continue", label: cb.label, pos: p });
        return;
      }
      const value = s.expression ? this.withPre(out, () => this.expr(s.expression!)) : undefined;
      out.push({ k: "return", value, pos: p });
      return;
    }
    if (ts.isForStatement(s) || ts.isWhileStatement(s) || ts.isDoStatement(s) || ts.isForOfStatement(s))
      return this.loop(s, undefined, out);
    if (ts.isLabeledStatement(s)) {
      const label = s.label.text;
      const inner = s.statement;
      if (ts.isForStatement(inner) || ts.isWhileStatement(inner) || ts.isDoStatement(inner) || ts.isForOfStatement(inner))
        return this.loop(inner, label, out);
      this.targets.push({ label, kind: "block" });
      const body = this.body(inner);
      this.targets.pop();
      out.push({ k: "block", label, body, pos: p });
      return;
    }
    if (ts.isBreakStatement(s) || ts.isContinueStatement(s)) {
      const label = s.label?.text;
      const isBreak = ts.isBreakStatement(s);
      // An unlabelled break inside a lowered switch leaves the switch's block.
      if (isBreak && !label) {
        const inner = this.targets[this.targets.length - 1];
        if (inner?.kind === "switch") {
          out.push({ k: "break", label: inner.label, pos: p });
          return;
        }
      }
      if (!isBreak && label && this.targets.find((t) => t.label === label)?.kind !== "loop")
        this.refuse("ADC1001", s, "`continue` must name a loop");
      out.push(isBreak ? { k: "break", label, pos: p } : { k: "continue", label, pos: p });
      return;
    }
    if (ts.isSwitchStatement(s)) return this.switchStmt(s, out);
    if (ts.isTryStatement(s))
      this.refuse("ADC1015", s, `try/${s.catchClause ? "catch" : "finally"} is not supported in differentiated code`, `move the try/${s.catchClause ? "catch" : "finally"} outside the differentiated function`);
    if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s))
      this.refuse("ADC1016", s, "declaring functions or classes inside a differentiated function is not supported", "declare it at module level and call it");
    if (ts.isThrowStatement(s))
      this.refuse("ADC1001", s, "throw is not supported in differentiated code", "check arguments before calling the differentiated function");
    this.refuse("ADC1001", s, `${syntaxName(s)} is not supported in differentiated code`);
  }

  private varDecls(list: ts.VariableDeclarationList, out: Stmt[]): void {
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
    if ((list.flags & (ts.NodeFlags.Const | ts.NodeFlags.Let)) === 0)
      this.refuse("ADC1001", list, "'var' declarations are not supported in differentiated code (adc follows block scope)", "declare it with let, before the loop if it is read after it");
    for (const d of list.declarations) {
      if (!ts.isIdentifier(d.name)) {
        this.destructure(d, isConst, out);
        continue;
      }
      const ty = this.typeOf(d.name);
      const init = d.initializer;
      // `const b = a.map(...)` lowers straight into b, with no intermediate array.
      if (init && this.isCallbackCall(init)) {
        const name = this.declare(d.name, ty);
        out.push({ k: "let", name, ty, isConst: false, pos: this.pos(d) });
        this.withPre(out, () => this.callbackCall(init as ts.CallExpression, { k: "var", name, ty, pos: this.pos(d.name) }));
        continue;
      }
      const value = init ? this.withPre(out, () => this.expr(init)) : undefined;
      // `new Array(n).fill(0)` has type any[] to TypeScript; it is a number array here.
      const declTy: Ty = value && (value.k === "alloc" || value.k === "arrlit" || value.k === "copy") && ty.k !== "arr" ? { k: "arr", ctor: value.ctor } : ty;
      const name = this.declare(d.name, declTy);
      out.push({ k: "let", name, ty: declTy, init: value, isConst, pos: this.pos(d) });
    }
  }

  /**
   * `const [a, b] = e` and `const { w, b } = p` become one declaration per name, reading the
   * element or field. An array literal on the right binds its elements directly; anything else
   * is evaluated once, into a temporary unless it is already a variable.
   */
  private destructure(d: ts.VariableDeclaration, isConst: boolean, out: Stmt[]): void {
    const pattern = d.name as ts.BindingPattern;
    const init = d.initializer;
    if (!init) this.refuse("ADC1001", d, "a destructuring declaration needs a value");
    const names = this.patternNames(pattern);
    const p = this.pos(d);
    let lit = init;
    while (ts.isParenthesizedExpression(lit) || ts.isAsExpression(lit) || ts.isNonNullExpression(lit)) lit = lit.expression;
    if (ts.isArrayBindingPattern(pattern) && ts.isArrayLiteralExpression(lit) && lit.elements.length === names.length && !lit.elements.some(ts.isSpreadElement)) {
      lit.elements.forEach((x, k) => {
        const value = this.withPre(out, () => this.expr(x));
        const n = names[k];
        // A hole still evaluates its element.
        const ty = n ? this.typeOf(n.ident) : this.typeOf(x);
        const name = n ? this.declare(n.ident, ty) : this.temp("_d", ty);
        out.push({ k: "let", name, ty, init: value, isConst, pos: this.pos(n ? n.ident : x) });
      });
      return;
    }
    const base = this.wholeValue(init, out);
    const baseTy = base.k === "var" || base.k === "free" ? base.ty : this.typeOf(init);
    names.forEach((n, k) => {
      if (!n) return;
      const ty = this.typeOf(n.ident);
      let value: Expr;
      if (ts.isArrayBindingPattern(pattern)) {
        const at: Expr = { k: "num", v: k, text: String(k), pos: p };
        if (baseTy.k === "list") value = { k: "field", obj: base, name: "[]", idx: at, ty: baseTy.elem, pos: this.pos(n.ident) };
        else if (baseTy.k !== "arr") this.refuse("ADC1012", d, `array destructuring is supported for number arrays, Float64Array and arrays of arrays or NDArrays, not '${this.env.checker.typeToString(this.env.checker.getTypeAtLocation(init))}'`, "read each element by index");
        else value = { k: "index", arr: base, idx: at, pos: this.pos(n.ident) };
      } else {
        const f = baseTy.k === "obj" ? baseTy.fields.find(([fname]) => fname === n.key) : undefined;
        if (!f) this.refuse("ADC1012", d, `object destructuring is supported for objects of numbers and arrays (parameter objects), not '${this.env.checker.typeToString(this.env.checker.getTypeAtLocation(init))}'`, "read each property by name");
        value = { k: "field", obj: base, name: n.key, ty: f[1], pos: this.pos(n.ident) };
      }
      out.push({ k: "let", name: this.declare(n.ident, ty), ty, init: value, isConst, pos: this.pos(n.ident) });
    });
  }

  /** The names a binding pattern declares, in order (null for an array hole), with their keys. */
  private patternNames(pattern: ts.BindingPattern): ({ ident: ts.Identifier; key: string } | null)[] {
    return (pattern.elements as ts.NodeArray<ts.ArrayBindingElement>).map((el) => {
      if (ts.isOmittedExpression(el)) return null;
      if (el.dotDotDotToken) this.refuse("ADC1001", el, "rest elements in destructuring are not supported", "read the elements you need by index");
      if (el.initializer) this.refuse("ADC1001", el, "default values in destructuring are not supported", "declare the value on its own and test it");
      if (!ts.isIdentifier(el.name)) this.refuse("ADC1001", el, "nested destructuring is not supported", "destructure one level at a time");
      let key = el.name.text;
      if (el.propertyName) {
        if (!ts.isIdentifier(el.propertyName) && !ts.isStringLiteral(el.propertyName)) this.refuse("ADC1001", el, "computed keys in destructuring are not supported");
        key = el.propertyName.text;
      }
      return { ident: el.name, key };
    });
  }

  /** Evaluates e once: a variable as it is, anything else into a compiler-made constant. */
  private wholeValue(e: ts.Expression, out: Stmt[]): Expr {
    const value = this.withPre(out, () => this.expr(e));
    if (value.k === "var" || value.k === "free") return value;
    const ty = this.typeOf(e);
    const declTy: Ty = (value.k === "alloc" || value.k === "arrlit" || value.k === "copy") && ty.k !== "arr" ? { k: "arr", ctor: value.ctor } : ty;
    const name = this.temp("_d", declTy);
    out.push({ k: "let", name, ty: declTy, init: value, isConst: true, pos: this.pos(e) });
    return { k: "var", name, ty: declTy, pos: this.pos(e) };
  }

  /**
   * `[a, b] = [b, a]`: every value on the right is evaluated before any name on the left is
   * written, as JavaScript does.
   */
  private destructuringAssign(left: ts.ArrayLiteralExpression, right: ts.Expression, out: Stmt[]): void {
    const p = this.pos(left);
    const targets = left.elements.map((x) => {
      if (ts.isOmittedExpression(x)) return null;
      if (ts.isSpreadElement(x)) this.refuse("ADC1001", x, "rest elements in destructuring are not supported", "read the elements you need by index");
      if (ts.isBinaryExpression(x)) this.refuse("ADC1001", x, "default values in destructuring are not supported");
      return x;
    });
    let lit = right;
    while (ts.isParenthesizedExpression(lit) || ts.isAsExpression(lit) || ts.isNonNullExpression(lit)) lit = lit.expression;
    const values: Expr[] = [];
    if (ts.isArrayLiteralExpression(lit) && lit.elements.length === targets.length && !lit.elements.some(ts.isSpreadElement)) {
      lit.elements.forEach((x, k) => {
        const v = this.withPre(out, () => this.expr(x));
        if (!targets[k]) return;
        const ty = this.typeOf(x);
        const declTy: Ty = ty.k === "other" && (v.k === "arrlit" || v.k === "alloc" || v.k === "copy") ? { k: "arr", ctor: v.ctor } : ty;
        const name = this.temp("_d", declTy);
        out.push({ k: "let", name, ty: declTy, init: v, isConst: true, pos: this.pos(x) });
        values[k] = { k: "var", name, ty: declTy, pos: this.pos(x) };
      });
    } else {
      const base = this.wholeValue(right, out);
      const baseTy = base.k === "var" || base.k === "free" ? base.ty : this.typeOf(right);
      if (baseTy.k !== "arr") this.refuse("ADC1012", right, "array destructuring is supported for number arrays and Float64Array", "assign each element by index");
      targets.forEach((t, k) => {
        if (!t) return;
        const name = this.temp("_d", NUM);
        out.push({ k: "let", name, ty: NUM, init: { k: "index", arr: base, idx: { k: "num", v: k, text: String(k), pos: p }, pos: p }, isConst: true, pos: p });
        values[k] = { k: "var", name, ty: NUM, pos: p };
      });
    }
    targets.forEach((t, k) => {
      if (t) out.push({ k: "assign", target: this.target(t), value: values[k], pos: this.pos(t) });
    });
  }

  private exprStmt(e: ts.Expression, out: Stmt[]): void {
    const p = this.pos(e);
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.EqualsToken && ts.isArrayLiteralExpression(e.left)) return this.destructuringAssign(e.left, e.right, out);
      if (op === ts.SyntaxKind.EqualsToken && ts.isObjectLiteralExpression(e.left))
        this.refuse("ADC1001", e.left, "object destructuring assignment is not supported", "assign each property's value to its variable");
      if (op === ts.SyntaxKind.EqualsToken || ASSIGN_OPS[op]) {
        let target = this.withPre(out, () => this.target(e.left));
        target = this.indexOnce(target, out);
        if (op === ts.SyntaxKind.EqualsToken && target.k === "var" && this.isCallbackCall(e.right)) {
          this.withPre(out, () => this.callbackCall(e.right as ts.CallExpression, target));
          return;
        }
        let value = this.withPre(out, () => this.expr(e.right));
        const bop = ASSIGN_OPS[op];
        if (bop) value = this.binary(bop, this.targetRead(target, e.left), value, p);
        out.push({ k: "assign", target, value, pos: p });
        return;
      }
      if (op === ts.SyntaxKind.CommaToken) {
        this.exprStmt(e.left, out);
        this.exprStmt(e.right, out);
        return;
      }
    }
    if (ts.isPrefixUnaryExpression(e) || ts.isPostfixUnaryExpression(e)) {
      const op = e.operator;
      if (op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken) {
        const target = this.indexOnce(this.withPre(out, () => this.target(e.operand)), out);
        const one: Expr = { k: "num", v: 1, text: "1", pos: p };
        const value = this.binary(op === ts.SyntaxKind.PlusPlusToken ? "+" : "-", this.targetRead(target, e.operand), one, p);
        out.push({ k: "assign", target, value, pos: p });
        return;
      }
    }
    if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === "attachGrad" && this.typeOf(e.expression.expression).k === "nd") {
      // Inside a record block, `u.attachGrad()` makes u a leaf: u = attachGrad(u), whose adjoint
      // deposits into u.grad and stops there.
      if (!this.isBlock()) this.refuse("ADC1001", e, "attachGrad inside a differentiated function is not supported", "attach gradients before record(), or inside a record block");
      const target = this.target(e.expression.expression);
      const args = [this.targetRead(target, e.expression.expression), ...e.arguments.map((a) => this.expr(a))];
      out.push({ k: "assign", target, value: { k: "call", fn: { k: "nd", op: "attachGrad" }, args, ty: target.k === "var" ? target.ty : NUM, pos: p }, pos: p });
      return;
    }
    if (ts.isCallExpression(e)) {
      if (this.isCallbackCall(e)) {
        this.withPre(out, () => this.callbackCall(e, null));
        return;
      }
      const call = this.withPre(out, () => this.expr(e));
      if (call.k === "call" && call.fn.k === "user" && isDiffTy(call.ty)) {
        // A discarded result still has an adjoint (zero): binding it gives the callee's reverse
        // sweep a result adjoint to read, and lets dead-code elimination drop a pure call.
        out.push({ k: "let", name: this.temp("_unused", call.ty), ty: call.ty, init: call, isConst: true, pos: p });
        return;
      }
      out.push({ k: "expr", e: call, pos: p });
      return;
    }
    if (ts.isDeleteExpression(e)) this.refuse("ADC1001", e, "delete is not supported in differentiated code");
    if (ts.isBinaryExpression(e) && [ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken].includes(e.operatorToken.kind))
      this.refuse("ADC1001", e, `the logical assignment ${e.operatorToken.getText()} is not supported in differentiated code`, "write it as an if statement");
    this.refuse("ADC1001", e, `this expression statement (${syntaxName(e)}) is not supported in differentiated code`);
  }

  private target(e: ts.Expression): Target {
    while (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
    const p = this.pos(e);
    if (ts.isIdentifier(e)) {
      const name = this.localName(e);
      if (!name)
        this.refuse("ADC1005", e, `'${e.text}' is declared outside the differentiated function and cannot be written here`, "return the value instead, or declare the variable inside the function");
      return { k: "var", name, ty: this.vars.get(name)!, pos: p };
    }
    if (ts.isElementAccessExpression(e)) {
      const obj = e.expression;
      if (!ts.isIdentifier(obj))
        this.refuse("ADC1001", e, "only writes to a named array (`a[i] = ...`) are supported", "write through a local array variable");
      const arr = this.localName(obj);
      if (!arr)
        this.refuse("ADC1005", e, `'${obj.text}' is declared outside the differentiated function and cannot be written here`, "pass the array as a parameter");
      const arrTy = this.vars.get(arr)!;
      if (arrTy.k !== "arr") this.refuse("ADC1012", e, "only number arrays and Float64Array can be written by index");
      // Statements the index needs (`a[j++] = v`) go where the caller's expression puts its own.
      const idx = this.expr(e.argumentExpression);
      return { k: "index", arr, arrTy, idx, pos: p };
    }
    if (ts.isPropertyAccessExpression(e))
      this.refuse("ADC1001", e, "writing object properties is not supported in differentiated code", "build a new object, or use a local variable");
    this.refuse("ADC1001", e, "this assignment target is not supported");
  }

  private targetRead(t: Target, n: ts.Node): Expr {
    if (t.k === "var") return { k: "var", name: t.name, ty: t.ty, pos: t.pos };
    return { k: "index", arr: { k: "var", name: t.arr, ty: t.arrTy, pos: this.pos(n) }, idx: t.idx, pos: t.pos };
  }

  private loop(s: ts.ForStatement | ts.WhileStatement | ts.DoStatement | ts.ForOfStatement, label: string | undefined, out: Stmt[]): void {
    const p = this.pos(s);
    this.targets.push({ label, kind: "loop" });
    try {
      if (ts.isWhileStatement(s) || ts.isDoStatement(s)) {
        const cond = this.withPre(null, () => this.condExpr(s.expression));
        out.push({ k: "loop", label, init: [], cond, doWhile: ts.isDoStatement(s), body: this.body(s.statement), update: [], pos: p });
        return;
      }
      if (ts.isForStatement(s)) {
        const init: Stmt[] = [];
        if (s.initializer) {
          if (ts.isVariableDeclarationList(s.initializer)) this.varDecls(s.initializer, init);
          else this.exprStmt(s.initializer, init);
        }
        const cond = s.condition ? this.withPre(null, () => this.condExpr(s.condition!)) : null;
        const update: Stmt[] = [];
        if (s.incrementor) this.withPre(null, () => this.exprStmt(s.incrementor!, update));
        const body = this.body(s.statement);
        const counter = this.counterOf(init, update, body);
        out.push({ k: "loop", label, init, cond, doWhile: false, body, update, counter, pos: p });
        return;
      }
      // for (const x of arr): a counted loop over the array's indices.
      const arrExpr = this.withPre(out, () => this.expr(s.expression));
      const arrTy = arrExpr.k === "var" || arrExpr.k === "free" ? arrExpr.ty : this.typeOf(s.expression);
      // Over other arrays (the rows of a number[][]), the loop reads elements as written; activity
      // analysis refuses it if those carry derivatives.
      const tsTy = this.env.checker.getTypeAtLocation(s.expression);
      const otherArray = arrTy.k === "other" && (this.env.checker.isArrayType(tsTy) || this.env.checker.isTupleType(tsTy));
      if (arrTy.k !== "arr" && arrTy.k !== "list" && !otherArray) this.refuse("ADC1012", s.expression, `for...of is supported over arrays, not '${this.env.checker.typeToString(tsTy)}'`, "copy the values into an array first, or use an index loop");
      // for...of iterates the array the variable held when the loop started; the index loop it
      // becomes reads the variable each time, so a body that reassigns it is refused.
      if (arrExpr.k === "var" && this.assignsIn(s.statement, arrExpr.name))
        this.refuse("ADC1001", s.expression, `the loop body assigns a new array to '${s.expression.getText()}', which for...of is iterating`, "iterate over a copy (for (const e of w.slice())) or use an index loop");
      const decl = s.initializer;
      if (!ts.isVariableDeclarationList(decl) || decl.declarations.length !== 1 || !ts.isIdentifier(decl.declarations[0].name))
        this.refuse("ADC1001", s.initializer, "for...of must declare one variable");
      const idx = this.temp("_i", NUM);
      const ep = this.pos(s.expression);
      let arr = arrExpr;
      if (arrExpr.k !== "var" && arrExpr.k !== "free") {
        // Evaluated once, as for...of does (`for (const e of w.slice())`).
        const name = this.temp("_of", arrTy);
        out.push({ k: "let", name, ty: arrTy, init: arrExpr, isConst: true, pos: ep });
        arr = { k: "var", name, ty: arrTy, pos: ep };
      }
      const idxVar: Expr = { k: "var", name: idx, ty: NUM, pos: ep };
      const elemIdent = decl.declarations[0].name as ts.Identifier;
      const elemTy = arrTy.k === "list" ? arrTy.elem : otherArray ? this.typeOf(elemIdent) : NUM;
      const elemName = this.declare(elemIdent, elemTy);
      const elem: Expr =
        arrTy.k === "list" ? { k: "field", obj: arr, name: "[]", idx: idxVar, ty: elemTy, pos: ep }
        : otherArray ? { k: "call", fn: { k: "opaque", text: "[]" }, args: [arr, idxVar], ty: elemTy, pos: ep }
        : { k: "index", arr, idx: idxVar, pos: ep };
      const len: Expr = otherArray ? { k: "call", fn: { k: "opaque", text: ".length" }, args: [arr], ty: NUM, pos: ep } : { k: "len", arr, pos: ep };
      const body: Stmt[] = [
        { k: "let", name: elemName, ty: elemTy, init: elem, isConst: true, pos: this.pos(decl) },
        ...this.body(s.statement),
      ];
      out.push({ ...countedLoop(idx, 0, len, body, ep), label, pos: p });
    } finally {
      this.targets.pop();
    }
  }

  /** Whether `node` assigns the local `name` as a whole (`name = ...`, `name += ...`). */
  private assignsIn(node: ts.Node, name: string): boolean {
    let found = false;
    const visit = (n: ts.Node): void => {
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
        const targets = ts.isArrayLiteralExpression(n.left) ? n.left.elements : [n.left];
        if (targets.some((t) => ts.isIdentifier(t) && this.localName(t) === name)) found = true;
      }
      if (!found) ts.forEachChild(n, visit);
    };
    visit(node);
    return found;
  }

  /** A loop condition is evaluated every iteration, so it may not need statements run before it. */
  private condExpr(e: ts.Expression): Expr {
    return this.expr(e);
  }

  /** `for (let i = a; ...; i += c)` with i not assigned in the body: the reverse sweep can recount i. */
  private counterOf(init: Stmt[], update: Stmt[], body: Stmt[]): Counter | undefined {
    if (init.length !== 1 || init[0].k !== "let" || init[0].ty.k !== "num" || !init[0].init) return undefined;
    if (update.length !== 1 || update[0].k !== "assign") return undefined;
    const name = init[0].name;
    const u = update[0];
    if (u.target.k !== "var" || u.target.name !== name || u.value.k !== "bin") return undefined;
    const { op, l, r } = u.value;
    if (l.k !== "var" || l.name !== name || r.k !== "num" || (op !== "+" && op !== "-")) return undefined;
    if (!Number.isInteger(r.v) || r.v === 0) return undefined;
    if (assigns(body, name)) return undefined;
    return { name, init: init[0].init, step: op === "+" ? r.v : -r.v };
  }

  private switchStmt(s: ts.SwitchStatement, out: Stmt[]): void {
    const p = this.pos(s);
    const label = this.temp("_switch", VOID);
    this.vars.delete(label);
    let disc = this.withPre(out, () => this.expr(s.expression));
    if (disc.k !== "var" && disc.k !== "num" && disc.k !== "free") {
      const name = this.temp("_d", this.typeOf(s.expression));
      out.push({ k: "let", name, ty: this.vars.get(name)!, init: disc, isConst: true, pos: this.pos(s.expression) });
      disc = { k: "var", name, ty: this.vars.get(name)!, pos: this.pos(s.expression) };
    }
    this.targets.push({ label, kind: "switch" });
    // Group empty clauses with the next non-empty one; refuse fall-through into code.
    type Arm = { tests: Expr[]; isDefault: boolean; body: Stmt[] };
    const arms: Arm[] = [];
    let pending: Arm = { tests: [], isDefault: false, body: [] };
    const clauses = s.caseBlock.clauses;
    clauses.forEach((c, i) => {
      if (ts.isDefaultClause(c)) pending.isDefault = true;
      else pending.tests.push(this.withPre(null, () => this.expr(c.expression)));
      if (c.statements.length === 0 && i < clauses.length - 1) return;
      const stmts = [...c.statements];
      const last = stmts[stmts.length - 1];
      if (i < clauses.length - 1 && !(last && endsAbruptly(last)))
        this.refuse("ADC1013", c, "this switch case falls through into the next one", "end the case with break, return or continue");
      if (last && ts.isBreakStatement(last) && !last.label) stmts.pop();
      pending.body = this.block(stmts);
      arms.push(pending);
      pending = { tests: [], isDefault: false, body: [] };
    });
    this.targets.pop();
    // Build the if-chain from the last arm up; the default arm (if any) is the final else.
    const def = arms.find((a) => a.isDefault);
    let chain: Stmt[] = def ? def.body : [];
    for (let i = arms.length - 1; i >= 0; i--) {
      const a = arms[i];
      const tests = a.tests.map<Expr>((t) => ({ k: "bin", op: "===", l: disc, r: t, ty: BOOL, pos: t.pos }));
      if (tests.length === 0) continue;
      const cond = tests.reduce((x, y) => ({ k: "bin", op: "||", l: x, r: y, ty: BOOL, pos: p }));
      chain = [{ k: "if", cond, then: a.body, else: chain, pos: p }];
    }
    out.push({ k: "block", label, body: chain, pos: p });
  }

  // ---- expressions ------------------------------------------------------------------------

  expr(e: ts.Expression): Expr {
    const p = this.pos(e);
    if (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e))
      return this.expr(e.expression);
    if (ts.isNumericLiteral(e)) return { k: "num", v: Number(e.text), text: e.getText(), pos: p };
    if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword)
      return { k: "bool", v: e.kind === ts.SyntaxKind.TrueKeyword, pos: p };
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return { k: "str", text: e.getText(), pos: p };
    if (ts.isIdentifier(e)) return this.identifier(e);
    if (ts.isPrefixUnaryExpression(e)) {
      const ops: Partial<Record<ts.SyntaxKind, UnOp>> = {
        [ts.SyntaxKind.MinusToken]: "-", [ts.SyntaxKind.PlusToken]: "+",
        [ts.SyntaxKind.ExclamationToken]: "!", [ts.SyntaxKind.TildeToken]: "~",
      };
      const op = ops[e.operator];
      if (!op) return this.incrementInExpr(e);
      const inner = this.expr(e.operand);
      if (op === "-" && inner.k === "num") return { k: "num", v: -inner.v, text: inner.text.startsWith("-") ? inner.text.slice(1) : `-${inner.text}`, pos: p };
      if (op === "+") return inner;
      return { k: "un", op, e: inner, ty: op === "!" ? BOOL : NUM, pos: p };
    }
    if (ts.isPostfixUnaryExpression(e)) return this.incrementInExpr(e);
    if (ts.isBinaryExpression(e)) {
      const kind = e.operatorToken.kind;
      const op = BIN_OPS[kind];
      if (!op) {
        if (kind === ts.SyntaxKind.EqualsToken || ASSIGN_OPS[kind])
          this.refuse("ADC1001", e, "assignments inside expressions are not supported", "assign in a statement of its own");
        this.refuse("ADC1001", e, `the operator ${e.operatorToken.getText()} is not supported`);
      }
      const l = this.expr(e.left);
      const r = op === "&&" || op === "||" || op === "??" ? this.withPre(null, () => this.expr(e.right)) : this.expr(e.right);
      return this.binary(op, l, r, p, this.typeOf(e));
    }
    if (ts.isConditionalExpression(e)) {
      const c = this.expr(e.condition);
      const a = this.withPre(null, () => this.expr(e.whenTrue));
      const b = this.withPre(null, () => this.expr(e.whenFalse));
      return { k: "cond", c, a, b, ty: this.typeOf(e), pos: p };
    }
    if (ts.isCallExpression(e)) return this.call(e);
    if (ts.isElementAccessExpression(e)) {
      const arr = this.expr(e.expression);
      const t = arr.k === "var" || arr.k === "free" ? arr.ty : this.typeOf(e.expression);
      if (t.k === "list") return { k: "field", obj: arr, name: "[]", idx: this.withPre(this.pre, () => this.expr(e.argumentExpression)), ty: t.elem, pos: p };
      if (t.k !== "arr") {
        if (t.k === "obj" || t.k === "nd") this.refuse("ADC1012", e, "indexing this value is not supported", "index number arrays or Float64Array");
        return this.opaque(e);
      }
      return { k: "index", arr, idx: this.withPre(this.pre, () => this.expr(e.argumentExpression)), pos: p };
    }
    if (ts.isPropertyAccessExpression(e)) return this.property(e);
    if (ts.isArrayLiteralExpression(e)) {
      const t = this.typeOf(e);
      if (e.elements.some((x) => ts.isSpreadElement(x))) {
        if (e.elements.length === 1) return { k: "copy", ctor: "Array", e: this.expr((e.elements[0] as ts.SpreadElement).expression), pos: p };
        this.refuse("ADC1001", e, "spreading into an array literal is supported only as a copy `[...a]`");
      }
      if (t.k !== "arr") return this.opaque(e);
      return { k: "arrlit", ctor: "Array", elems: e.elements.map((x) => this.expr(x)), pos: p };
    }
    if (ts.isNewExpression(e)) return this.newExpr(e);
    if (ts.isArrowFunction(e) || ts.isFunctionExpression(e))
      this.refuse("ADC1016", e, "a function value inside a differentiated function is supported only as the callback of map, reduce or forEach", "declare the function at module level and call it");
    if (ts.isTemplateExpression(e)) return this.opaque(e);
    if (ts.isTypeOfExpression(e)) return this.opaque(e);
    if (ts.isObjectLiteralExpression(e)) {
      // Options and other constants (`{ tol: 1e-12, maxIter: 50 }`) are kept as written; one that
      // holds a differentiated value is refused by the fence.
      if (!e.properties.every((q) => ts.isPropertyAssignment(q) || ts.isShorthandPropertyAssignment(q)))
        this.refuse("ADC1012", e, "an object literal with methods, accessors or spreads is not supported in differentiated code", "build the object outside and pass it in");
      return this.opaque(e);
    }
    this.refuse("ADC1001", e, `${syntaxName(e)} is not supported in differentiated code`);
  }

  binary(op: BinOp, l: Expr, r: Expr, p: Pos, ty?: Ty): Expr {
    const t = ty ?? (COMPARISONS.has(op) ? BOOL : NUM);
    return { k: "bin", op, l, r, ty: COMPARISONS.has(op) ? BOOL : INT_OPS.has(op) ? NUM : t, pos: p };
  }

  private identifier(e: ts.Identifier): Expr {
    const p = this.pos(e);
    if (e.text === "arguments") this.refuse("ADC1001", e, "`arguments` is not supported", "name the parameters");
    const name = this.localName(e);
    if (name) return { k: "var", name, ty: this.vars.get(name)!, pos: p };
    if (e.text === "undefined" || e.text === "NaN" || e.text === "Infinity") return { k: "free", text: e.text, ty: e.text === "undefined" ? VOID : NUM, pos: p };
    return { k: "free", text: e.text, ty: this.typeOf(e), pos: p };
  }

  private property(e: ts.PropertyAccessExpression): Expr {
    const p = this.pos(e);
    const name = e.name.text;
    if (ts.isIdentifier(e.expression) && e.expression.text === "Math" && !this.localName(e.expression)) {
      if (MATH_CONSTANTS.has(name)) return { k: "free", text: `Math.${name}`, ty: NUM, pos: p };
      this.refuse("ADC1001", e, `Math.${name} used as a value is not supported`, "call it directly");
    }
    const obj = this.expr(e.expression);
    const objTy = obj.k === "var" || obj.k === "free" ? obj.ty : this.typeOf(e.expression);
    if (name === "length" && (objTy.k === "arr" || objTy.k === "list")) return { k: "len", arr: obj, pos: p };
    if (objTy.k === "obj") {
      const f = objTy.fields.find(([n]) => n === name);
      if (f) return { k: "field", obj, name, ty: f[1], pos: p };
    }
    if (this.env.ndOp) {
      const nd = this.env.ndOp(e);
      if (nd) return this.ndCall(nd.op, nd.args, this.typeOf(e), e);
    }
    // A getter written in the program runs code adc does not see, which may change state; the
    // generated code may evaluate it a different number of times than the source does.
    const sym = this.env.checker.getSymbolAtLocation(e.name);
    if (sym && sym.flags & ts.SymbolFlags.GetAccessor && sym.declarations?.some((d) => !d.getSourceFile().isDeclarationFile))
      this.refuse("ADC1002", e, `'${e.getText()}' is a getter, code adc does not see`, "read it into a variable outside the differentiated function and pass the value in");
    // Some other property (a field of a non-numeric object): read as it is.
    return { k: "call", fn: { k: "opaque", text: `.${name}` }, args: [obj], ty: this.typeOf(e), pos: p };
  }

  private newExpr(e: ts.NewExpression): Expr {
    const p = this.pos(e);
    const ctor = e.expression.getText();
    const args = e.arguments ?? [];
    if (ctor === "Float64Array") {
      if (args.length !== 1) this.refuse("ADC1001", e, "new Float64Array takes one argument here (a length, an array literal or an array)");
      const a = args[0];
      if (ts.isArrayLiteralExpression(a)) return { k: "arrlit", ctor: "Float64Array", elems: a.elements.map((x) => this.expr(x)), pos: p };
      const arg = this.expr(a);
      const t = this.typeOf(a);
      if (t.k === "arr") return { k: "copy", ctor: "Float64Array", e: arg, pos: p };
      return { k: "alloc", ctor: "Float64Array", size: arg, pos: p };
    }
    if (ctor === "Array") this.refuse("ADC1014", e, "new Array(n) must be filled before use", "write `new Array(n).fill(0)` or use new Float64Array(n)");
    if (ctor === "Function") this.refuse("ADC1001", e, "new Function() is not supported in differentiated code", "write the computation as code");
    return this.opaque(e);
  }

  /** An expression adc prints as written and never differentiates (fenced by activity analysis). */
  private opaque(e: ts.Expression): Expr {
    // Its free names must still be the function's own names: refuse if it reads a renamed local.
    const reads: Expr[] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n)) {
        const name = this.localName(n);
        if (name) {
          if (name !== n.text) this.refuse("ADC1001", n, `'${n.text}' is shadowed here; adc cannot keep this expression as written`, "rename the variable");
          reads.push({ k: "var", name, ty: this.vars.get(name)!, pos: this.pos(n) });
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(e);
    return { k: "call", fn: { k: "opaque", text: `@${e.getText()}` }, args: reads, ty: this.typeOf(e), pos: this.pos(e) };
  }

  private call(e: ts.CallExpression): Expr {
    const p = this.pos(e);
    const callee = e.expression;
    const ty = this.typeOf(e);
    if (e.questionDotToken) this.refuse("ADC1001", e, "optional calls are not supported");
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === "detach" && e.arguments.length === 0 && this.typeOf(callee.expression).k === "nd")
      return { k: "stop", e: this.expr(callee.expression), ty, pos: p };
    if (ts.isPropertyAccessExpression(callee) && (callee.name.text === "backward" || callee.name.text === "zeroGrad") && this.typeOf(callee.expression).k === "nd")
      this.refuse("ADC1001", e, `${callee.name.text}() inside recorded or differentiated code is not supported`, "call it after the record block");
    if (this.env.isAdcApi(callee, "pause") || this.env.isAdcApi(callee, "record"))
      this.refuse("ADC1001", e, "record() and pause() cannot be nested inside recorded or differentiated code", "end the record block first");
    if (this.env.isAdcApi(callee, "stopGradient")) {
      if (e.arguments.length !== 1) this.refuse("ADC1001", e, "stopGradient takes one argument");
      return { k: "stop", e: this.expr(e.arguments[0]), ty, pos: p };
    }
    for (const api of ["grad", "valueAndGrad", "vjp", "jvp"])
      if (this.env.isAdcApi(callee, api) || (ts.isCallExpression(callee) && this.env.isAdcApi(callee.expression, api)))
        this.refuse("ADC1001", e, `${api} inside a differentiated function (higher-order derivatives) is not supported yet`, "differentiate at module level");
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && (callee.expression.text === "Float64Array" || callee.expression.text === "Array") && callee.name.text === "from" && e.arguments.length === 1 && !this.localName(callee.expression) && this.typeOf(e.arguments[0]).k === "arr")
      return { k: "copy", ctor: callee.expression.text === "Float64Array" ? "Float64Array" : "Array", e: this.expr(e.arguments[0]), pos: p };
    if (ts.isIdentifier(callee) && (callee.text === "eval" || callee.text === "Function") && !this.localName(callee))
      this.refuse("ADC1001", e, `${callee.text}() is not supported in differentiated code`, "write the computation as code");
    const math = this.mathFunction(callee);
    if (math) {
      const name = `Math.${math}`;
      const spread = e.arguments.find(ts.isSpreadElement);
      if (spread)
        this.refuse("ADC1001", spread, `spreading an array into ${name} is not supported in differentiated code`, math === "max" || math === "min" ? `use a.reduce((m, v) => Math.${math}(m, v))` : "pass the elements one by one, or use a loop");
      const args = e.arguments.map((a) => this.expr(a));
      if (scalarRule(name)) return { k: "call", fn: { k: "prim", name }, args, ty: NUM, pos: p };
      return { k: "call", fn: { k: "opaque", text: name }, args, ty, pos: p };
    }
    if (this.env.ndOp) {
      const nd = this.env.ndOp(e);
      if (nd) return this.ndCall(nd.op, nd.args, ty, e);
    }
    const user = this.env.resolveUser(callee);
    if (user) {
      const args = e.arguments.map((a) => {
        if (ts.isSpreadElement(a)) this.refuse("ADC1001", a, "spread arguments are not supported");
        return this.expr(a);
      });
      // Arguments left out take the callee's default values, which are literals.
      const decl = this.env.checker.getResolvedSignature(e)?.declaration;
      if (decl && !ts.isJSDocSignature(decl))
        for (let k = args.length; k < decl.parameters.length; k++) {
          const q = decl.parameters[k];
          if (!q.initializer) break;
          this.constantDefault(q);
          args.push(this.expr(q.initializer));
        }
      for (const ident of this.env.calleeCaptures?.(user) ?? []) {
        if (!this.localName(ident))
          this.refuse("ADC1016", e, `'${user.name}' reads '${ident.text}' from its enclosing function, which is not passed to this code`, "pass the value to it as an argument");
        args.push(this.identifier(ident));
      }
      return { k: "call", fn: { k: "user", fn: user, text: ts.isIdentifier(callee) ? callee.text : undefined }, args, ty, pos: p };
    }
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === "fill" && ts.isNewExpression(callee.expression) && ["Array", "Float64Array"].includes(callee.expression.expression.getText())) {
      const ctor: Ctor = callee.expression.expression.getText() === "Array" ? "Array" : "Float64Array";
      const size = callee.expression.arguments?.[0];
      const fill = e.arguments[0];
      if (!size || !fill || e.arguments.length > 1 || (ctor === "Float64Array" && this.typeOf(size).k !== "num"))
        this.refuse("ADC1014", e, `new ${ctor}(n).fill(v) is supported with a length n and one value v`);
      const alloc: Expr = { k: "alloc", ctor, size: this.expr(size), pos: p };
      if (ts.isNumericLiteral(fill) && Number(fill.text) === 0) return alloc;
      // `new Float64Array(n).fill(v)`: a new array, then a loop writing v (evaluated once).
      if (!this.pre) this.refuse("ADC1014", e, `new ${ctor}(n).fill(v) cannot be used where statements cannot run before it (a loop condition, a short-circuit operand)`, "compute it in a variable first");
      const out = this.pre;
      const arrTy: Ty = { k: "arr", ctor };
      const value = this.expr(fill);
      const v = this.temp("_fv", NUM);
      out.push({ k: "let", name: v, ty: NUM, init: value, isConst: true, pos: p });
      const name = this.temp("_fill", arrTy);
      out.push({ k: "let", name, ty: arrTy, init: alloc, isConst: true, pos: p });
      const arr: Expr = { k: "var", name, ty: arrTy, pos: p };
      const idx = this.temp("_i", NUM);
      const idxVar: Expr = { k: "var", name: idx, ty: NUM, pos: p };
      const write: Stmt = { k: "assign", target: { k: "index", arr: name, arrTy, idx: idxVar, pos: p }, value: { k: "var", name: v, ty: NUM, pos: p }, pos: p };
      out.push(countedLoop(idx, 0, { k: "len", arr, pos: p }, [write], p));
      return { k: "copy", ctor, e: arr, pos: p };
    }
    if (ts.isPropertyAccessExpression(callee)) {
      const objTy = this.typeOf(callee.expression);
      const method = callee.name.text;
      if (objTy.k === "arr") {
        if (method === "slice" && e.arguments.length === 0) return { k: "copy", ctor: objTy.ctor, e: this.expr(callee.expression), pos: p };
        if (method !== "map" && method !== "reduce" && method !== "forEach" && e.arguments.some((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a)))
          this.refuse("ADC1014", e, `the array method ${method} is not supported in differentiated code (map, reduce and forEach with an inline callback are)`, "write it as a loop");
        if (this.isCallbackCall(e)) {
          if (!this.pre) this.refuse("ADC1014", e, `${method} cannot be used where statements cannot run before it (a loop condition, a short-circuit operand)`, "compute it in a variable first");
          const name = this.temp(method === "reduce" ? "_acc" : "_map", method === "reduce" ? NUM : ty);
          const target: Target = { k: "var", name, ty: this.vars.get(name)!, pos: p };
          this.pre.push({ k: "let", name, ty: target.ty, isConst: false, pos: p });
          this.callbackCall(e, target);
          return { k: "var", name, ty: target.ty, pos: p };
        }
        // Methods that change the array in place or view its memory: adc could not follow the
        // elements they move (the derivatives would stay where the values were).
        if (IN_PLACE_ARRAY_METHODS.has(method))
          this.refuse("ADC1014", e, `the array method ${method} is not supported in differentiated code (it ${method === "subarray" ? "makes a second view of the array" : "changes the array in place"})`, method === "subarray" ? "copy the part with slice(start, end), or index with an offset" : "write it as a loop over the elements");
        const args = [this.expr(callee.expression), ...e.arguments.map((a) => this.expr(a))];
        return { k: "call", fn: { k: "opaque", text: `.${method}()` }, args, ty, pos: p };
      }
      const text = callee.getText();
      if (OBSERVERS.has(text)) return { k: "call", fn: { k: "opaque", text }, args: e.arguments.map((a) => this.expr(a)), ty, pos: p };
      const recv = this.expr(callee.expression);
      return { k: "call", fn: { k: "opaque", text: `.${method}()` }, args: [recv, ...e.arguments.map((a) => this.expr(a))], ty, pos: p };
    }
    if (ts.isIdentifier(callee)) {
      if (this.localName(callee))
        this.refuse("ADC1002", callee, `'${callee.text}' is a function value adc cannot follow`, "call a function declared at module level");
      return { k: "call", fn: { k: "opaque", text: callee.text }, args: e.arguments.map((a) => this.expr(a)), ty, pos: p };
    }
    this.refuse("ADC1002", e, "adc cannot tell which function this call calls", "call a named function declared at module level");
  }

  /**
   * The Math function a callee names: `Math.sin`, or a module constant bound to one
   * (`const rand = Math.random`), followed so an alias gets the same rule or refusal.
   */
  private mathFunction(callee: ts.Expression, depth = 0): string | undefined {
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "Math" && !this.localName(callee.expression))
      return callee.name.text;
    if (!ts.isIdentifier(callee) || this.localName(callee) || depth > 8) return undefined;
    const decl = this.env.checker.getSymbolAtLocation(callee)?.valueDeclaration;
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !ts.isVariableDeclarationList(decl.parent)) return undefined;
    if ((decl.parent.flags & ts.NodeFlags.Const) === 0) return undefined;
    return this.mathFunction(decl.initializer, depth + 1);
  }

  /** An NDArray op; the list operand of concat/stack is spread into the arguments. */
  private ndCall(op: string, args: readonly ts.Expression[], ty: Ty, e: ts.Node): Expr {
    const p = this.pos(e);
    if (isListOp(op)) {
      const [list, ...rest] = args;
      if (!list || !ts.isArrayLiteralExpression(list) || list.elements.some((x) => ts.isSpreadElement(x)))
        this.refuse("ADC1001", list ?? e, `${op} needs its arrays written as a list literal here`, `write np.${op}([a, b, ...])`);
      const elems = list.elements.map((x) => this.expr(x));
      return { k: "call", fn: { k: "nd", op, list: elems.length }, args: [...elems, ...rest.map((a) => this.expr(a))], ty, pos: p };
    }
    return { k: "call", fn: { k: "nd", op }, args: args.map((a) => this.expr(a)), ty, pos: p };
  }

  // ---- inline callbacks: map, reduce, forEach ---------------------------------------------

  private isCallbackCall(e: ts.Expression): boolean {
    if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
    const m = e.expression.name.text;
    if (m !== "map" && m !== "reduce" && m !== "forEach") return false;
    return this.typeOf(e.expression.expression).k === "arr";
  }

  /**
   * Lowers `a.map(cb)`, `a.reduce(cb, init)` or `a.forEach(cb)` into a counted loop in `this.pre`.
   * The callback's body is inlined: its parameters become loop locals, and its `return v`
   * becomes "store v, continue the loop". `target` receives the result (null for forEach).
   */
  private callbackCall(e: ts.CallExpression, target: Target | null): void {
    const out = this.pre!;
    const p = this.pos(e);
    const access = e.expression as ts.PropertyAccessExpression;
    const method = access.name.text;
    const cb = e.arguments[0];
    if (!cb || !(ts.isArrowFunction(cb) || ts.isFunctionExpression(cb)))
      this.refuse("ADC1014", e, `${method} is supported with an inline callback`, "write the callback as an arrow function in the call");
    if (cb.parameters.some((q) => !ts.isIdentifier(q.name) || q.dotDotDotToken || q.initializer))
      this.refuse("ADC1001", cb, "callback parameters must be plain names");
    let arr = this.expr(access.expression);
    const arrTy = this.typeOf(access.expression);
    const ctor: Ctor = arrTy.k === "arr" ? arrTy.ctor : "Array";
    // The callback runs over the array the receiver evaluated to when the call started.
    if (arr.k === "var" && this.assignsIn(cb.body, arr.name))
      this.refuse("ADC1001", access.expression, `the callback assigns a new array to '${access.expression.getText()}', which ${method} is iterating`, `iterate over a copy (${access.expression.getText()}.slice().${method}(...)) or use an index loop`);
    if (arr.k !== "var" && arr.k !== "free") {
      const name = this.temp("_src", arrTy.k === "arr" ? arrTy : { k: "arr", ctor });
      out.push({ k: "let", name, ty: this.vars.get(name)!, init: arr, isConst: true, pos: this.pos(access.expression) });
      arr = { k: "var", name, ty: this.vars.get(name)!, pos: this.pos(access.expression) };
    }
    // `v = v.map(f)`: the results go into a new array, which v becomes (a copy, so that no two
    // names share one array) after the loop.
    const mapTarget = target;
    if (method === "map" && target?.k === "var" && arr.k === "var" && arr.name === target.name) {
      const name = this.temp("_map", target.ty.k === "arr" ? target.ty : { k: "arr", ctor });
      out.push({ k: "let", name, ty: this.vars.get(name)!, isConst: false, pos: p });
      target = { k: "var", name, ty: this.vars.get(name)!, pos: p };
    }
    const loopLabel = this.temp(`_${method}`, VOID);
    this.vars.delete(loopLabel);
    const idx = this.temp("_i", NUM);
    const idxVar: Expr = { k: "var", name: idx, ty: NUM, pos: p };
    const num = (v: number): Expr => ({ k: "num", v, text: String(v), pos: p });
    const elemAt = (i: Expr): Expr => ({ k: "index", arr, idx: i, pos: p });
    let start = 0;
    const [q0, q1, q2] = cb.parameters;
    const body: Stmt[] = [];
    let assign: (v: Expr, pos: Pos) => Stmt;
    if (method === "reduce") {
      if (!target || target.k !== "var") this.refuse("ADC1014", e, "reduce must produce a value");
      if (!q0 || !q1) this.refuse("ADC1014", cb, "a reduce callback takes (accumulator, element)");
      const init = e.arguments[1];
      out.push({ k: "assign", target, value: init ? this.expr(init) : elemAt(num(0)), pos: p });
      if (!init) start = 1;
      const acc = this.declare(q0.name as ts.Identifier, NUM);
      body.push({ k: "let", name: acc, ty: NUM, init: { k: "var", name: target.name, ty: NUM, pos: p }, isConst: false, pos: p });
      body.push({ k: "let", name: this.declare(q1.name as ts.Identifier, NUM), ty: NUM, init: elemAt(idxVar), isConst: true, pos: p });
      if (q2) body.push({ k: "let", name: this.declare(q2.name as ts.Identifier, NUM), ty: NUM, init: idxVar, isConst: true, pos: p });
      assign = (v, vp) => ({ k: "assign", target, value: v, pos: vp });
    } else {
      if (method === "map") {
        if (!target) this.refuse("ADC1014", e, "the result of map must be used");
        out.push({ k: "assign", target, value: { k: "alloc", ctor, size: { k: "len", arr, pos: p }, pos: p }, pos: p });
      }
      if (q0) body.push({ k: "let", name: this.declare(q0.name as ts.Identifier, NUM), ty: NUM, init: elemAt(idxVar), isConst: true, pos: p });
      if (q1) body.push({ k: "let", name: this.declare(q1.name as ts.Identifier, NUM), ty: NUM, init: idxVar, isConst: true, pos: p });
      assign =
        method === "map" && target
          ? (v, vp) => ({ k: "assign", target: { k: "index", arr: (target as Extract<Target, { k: "var" }>).name, arrTy: (target as { ty: Ty }).ty, idx: idxVar, pos: vp }, value: v, pos: vp })
          : (_v, vp) => ({ k: "expr", e: _v, pos: vp });
    }
    const savedCb = this.callbackReturn;
    this.callbackReturn = { label: loopLabel, assign };
    this.targets.push({ label: loopLabel, kind: "loop" });
    try {
      if (ts.isBlock(cb.body)) body.push(...this.block(cb.body.statements));
      else {
        const v = this.withPre(body, () => this.expr(cb.body as ts.Expression));
        if (method !== "forEach") body.push(assign(v, this.pos(cb.body)));
      }
    } finally {
      this.targets.pop();
      this.callbackReturn = savedCb;
    }
    out.push({ ...countedLoop(idx, start, { k: "len", arr, pos: p }, body, p), label: loopLabel });
    if (mapTarget && target && mapTarget !== target && target.k === "var")
      out.push({ k: "assign", target: mapTarget, value: { k: "copy", ctor, e: { k: "var", name: target.name, ty: target.ty, pos: p }, pos: p }, pos: p });
  }
}

/** Whether `name` is assigned anywhere in `stmts`. */
export function assigns(stmts: readonly Stmt[], name: string): boolean {
  for (const s of stmts) {
    switch (s.k) {
      case "assign":
        if (s.target.k === "var" && s.target.name === name) return true;
        break;
      case "let":
        if (s.name === name) return true;
        break;
      case "if":
        if (assigns(s.then, name) || assigns(s.else, name)) return true;
        break;
      case "loop":
        if (assigns(s.init, name) || assigns(s.body, name) || assigns(s.update, name)) return true;
        break;
      case "block":
        if (assigns(s.body, name)) return true;
        break;
    }
  }
  return false;
}

function endsAbruptly(s: ts.Statement): boolean {
  if (ts.isBreakStatement(s) || ts.isReturnStatement(s) || ts.isContinueStatement(s) || ts.isThrowStatement(s)) return true;
  if (ts.isBlock(s)) {
    const last = s.statements[s.statements.length - 1];
    return !!last && endsAbruptly(last);
  }
  if (ts.isIfStatement(s)) return !!s.elseStatement && endsAbruptly(s.thenStatement) && endsAbruptly(s.elseStatement);
  return false;
}

/** A construct's name for a diagnostic, as a user would say it. */
function syntaxName(n: ts.Node): string {
  switch (n.kind) {
    case ts.SyntaxKind.ThisKeyword: return "'this'";
    case ts.SyntaxKind.WithStatement: return "a with statement";
    case ts.SyntaxKind.RegularExpressionLiteral: return "a regular expression";
    case ts.SyntaxKind.ForInStatement: return "for...in";
    case ts.SyntaxKind.SpreadElement: return "spread (...)";
    case ts.SyntaxKind.ObjectLiteralExpression: return "an object literal";
    case ts.SyntaxKind.DeleteExpression: return "delete";
    case ts.SyntaxKind.AwaitExpression: return "await";
    case ts.SyntaxKind.YieldExpression: return "yield";
    case ts.SyntaxKind.TaggedTemplateExpression: return "a tagged template";
    case ts.SyntaxKind.ClassExpression: return "a class expression";
    case ts.SyntaxKind.ElementAccessExpression: return "this element access";
    case ts.SyntaxKind.DebuggerStatement: return "debugger";
    case ts.SyntaxKind.EmptyStatement: return "an empty statement";
    case ts.SyntaxKind.ImportKeyword: return "import()";
    case ts.SyntaxKind.MetaProperty: return "new.target / import.meta";
    case ts.SyntaxKind.VoidExpression: return "void";
    default: {
      // CamelCase kind name to words: "ConditionalExpression" -> "conditional expression".
      const words = ts.SyntaxKind[n.kind].replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
      return `this ${words}`;
    }
  }
}

/** Whether e reads an element of the array variable `arr`. */
function readsElementOf(e: Expr, arr: string): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "index" && x.arr.k === "var" && x.arr.name === arr) found = true;
  });
  return found;
}

/** An index expression whose evaluation calls something other than a Math function. */
function impureIndex(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if ((x.k === "call" && x.fn.k !== "prim") || x.k === "alloc" || x.k === "arrlit" || x.k === "copy") found = true;
  });
  return found;
}

/** `for (let idx = start; idx < end; idx++) body`, with the counter the reverse sweep recounts. */
function countedLoop(idx: string, start: number, end: Expr, body: Stmt[], pos: Pos): Extract<Stmt, { k: "loop" }> {
  const idxVar: Expr = { k: "var", name: idx, ty: NUM, pos };
  const init: Expr = { k: "num", v: start, text: String(start), pos };
  const one: Expr = { k: "num", v: 1, text: "1", pos };
  return {
    k: "loop", label: undefined, doWhile: false, body, pos,
    init: [{ k: "let", name: idx, ty: NUM, init, isConst: false, pos }],
    cond: { k: "bin", op: "<", l: idxVar, r: end, ty: BOOL, pos },
    update: [{ k: "assign", target: { k: "var", name: idx, ty: NUM, pos }, value: { k: "bin", op: "+", l: idxVar, r: one, ty: NUM, pos }, pos }],
    counter: { name: idx, init, step: 1 },
  };
}
