/**
 * Statements, and the whole function (`run`): parameters, captures of closures and record
 * blocks, declarations, assignments (compound ones desugared), expression statements.
 */
import { ts } from "ts-morph";
import { NUM, VOID, isDiffTy, type Expr, type IrFunction, type Param, type Stmt, type Target, type Ty } from "../ir.js";
import { classifyType } from "../types.js";
import { ASSIGN_OPS } from "./tables.js";
import { syntaxName, callsFunction } from "./helpers.js";
import { Loops } from "./loops.js";
import type { LocalFunction } from "./local-functions.js";
import { isAny, isNumeric } from "./expressions.js";

export class Lowerer extends Loops {

  run(): IrFunction {
    const fn = this.fn;
    this.collectReserved(fn);
    if (fn.asteriskToken) this.refuse("ADC1015", fn, "generator functions are not differentiable", "write the function as a plain loop");
    if (ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword))
      this.refuse("ADC1015", fn, "async functions are not differentiable", "differentiate a synchronous function and await outside it");
    // A destructured parameter (`{ w, b }: Params`, `[x, y]: [number, number]`) is one parameter
    // of the generated functions, unpacked at the top of the body as a declaration would be.
    const unpacked: Stmt[] = [];
    const params: Param[] = fn.parameters.map((p, i) => {
      if (p.dotDotDotToken) this.refuse("ADC1025", p, "rest parameters are not supported", "pass an array instead");
      if (!ts.isIdentifier(p.name)) {
        if (p.initializer) this.refuse("ADC1019", p, "a destructured parameter with a default value is not supported", "give the default to the caller, or destructure inside the body");
        const ty = this.typeOf(p);
        const name = this.fresh(`arg${i}`);
        this.vars.set(name, ty);
        this.unpack(p.name, { k: "var", name, ty, pos: this.pos(p) }, ty, true, p, unpacked);
        return { name, ty, pos: this.pos(p) };
      }
      const init = p.initializer ? this.constantDefault(p) : undefined;
      const ty = this.typeOf(p.name);
      const name = this.declare(p.name, ty);
      if (p.questionToken) return { name, ty, pos: this.pos(p), optional: true };
      return init === undefined ? { name, ty, pos: this.pos(p) } : { name, ty, pos: this.pos(p), init };
    });
    // `this` is a method's leading parameter (the receiver, passed by every call); a static
    // method is a plain function of its class's namespace.
    if (ts.isMethodDeclaration(fn) && !(ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Static)) {
      const cls = this.env.thisType ?? this.env.checker.getTypeAtLocation(fn.parent);
      const ty = classifyType(cls, this.env.checker);
      this.thisName = this.fresh("self");
      this.vars.set(this.thisName, ty);
      params.unshift({ name: this.thisName, ty, pos: this.pos(fn.name) });
    }
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
    let ret = sig ? classifyType(this.env.checker.getReturnTypeOfSignature(sig), this.env.checker) : VOID;
    if (this.env.aux) {
      // `hasAux`: f returns `[value, aux]`; the value is the result, aux a variable handed back.
      const rt = sig && this.env.checker.getReturnTypeOfSignature(sig);
      const parts = rt && this.env.checker.isTupleType(rt) ? this.env.checker.getTypeArguments(rt as ts.TypeReference) : [];
      if (parts.length !== 2) this.refuse("ADC1007", fn, "with hasAux, the function must return a pair [value, aux]", "return [loss, aux] (the aux value may be anything: numbers, arrays, an object of metrics)");
      ret = classifyType(parts[0], this.env.checker);
      this.auxName = this.fresh("_aux");
      const auxTy: Ty = { k: "other", text: this.env.checker.typeToString(parts[1], undefined, ts.TypeFormatFlags.NoTruncation) };
      this.vars.set(this.auxName, auxTy);
      prelude.push({ k: "let", name: this.auxName, ty: auxTy, isConst: false, pos: this.pos(fn) });
    }
    let body: Stmt[];
    if (!fn.body) this.refuse("ADC1025", fn, "a function without a body cannot be differentiated");
    if (ts.isBlock(fn.body)) body = this.block(fn.body.statements);
    else if (this.isBlock()) {
      // `record(() => y = f(x))`: the body is a statement.
      body = [];
      this.exprStmt(fn.body as ts.Expression, body);
    } else {
      const out: Stmt[] = [];
      this.returnStmt(fn.body as ts.Expression, fn.body, out);
      body = out;
    }
    body = [...unpacked, ...body];
    if (this.auxName) return { id: this.id, params, body: [...prelude, ...body], ret, vars: this.vars, reserved: this.reserved, pos: this.pos(fn), source: fn.getSourceFile().text, aux: this.auxName };
    if (this.isBlock()) return { id: this.id, params, body: [...prelude, ...body], ret: VOID, vars: this.vars, reserved: this.reserved, pos: this.pos(fn), source: fn.getSourceFile().text, outputs };
    return { id: this.id, params, body, ret, vars: this.vars, reserved: this.reserved, pos: this.pos(fn), source: fn.getSourceFile().text, ...(this.thisName && ts.isMethodDeclaration(fn) ? { method: true } : {}) };
  }

  // ---- statements -------------------------------------------------------------------------

  /** `return e`; with hasAux, `return [value, aux]` is `_aux = aux; return value`. */
  private returnStmt(e: ts.Expression | undefined, at: ts.Node, out: Stmt[]): void {
    const p = this.pos(at);
    if (!this.auxName) {
      const value = e ? this.withPre(out, () => this.expr(e)) : undefined;
      out.push({ k: "return", value, pos: p });
      return;
    }
    let pair = e;
    while (pair && (ts.isParenthesizedExpression(pair) || ts.isAsExpression(pair) || ts.isSatisfiesExpression(pair))) pair = pair.expression;
    if (!pair || !ts.isArrayLiteralExpression(pair) || pair.elements.length !== 2 || pair.elements.some(ts.isSpreadElement))
      this.refuse("ADC1007", at, "with hasAux, every return must be a pair written out: return [value, aux]", "return [loss, { accuracy }]");
    const [value, aux] = pair.elements;
    const v = this.withPre(out, () => this.expr(value));
    // The aux value is handed back as computed: no derivative flows through it (JAX's has_aux).
    const auxTy = this.vars.get(this.auxName)!;
    const a = this.withPre(out, () => this.expr(aux));
    out.push({ k: "assign", target: { k: "var", name: this.auxName, ty: auxTy, pos: this.pos(aux) }, value: { k: "stop", e: a, ty: auxTy, pos: this.pos(aux) }, pos: this.pos(aux) });
    out.push({ k: "return", value: v, pos: p });
  }

  protected block(stmts: readonly ts.Statement[] | ts.NodeArray<ts.Statement>): Stmt[] {
    const out: Stmt[] = [];
    for (const s of stmts) this.stmt(s, out);
    return out;
  }

  protected body(s: ts.Statement): Stmt[] {
    return ts.isBlock(s) ? this.block(s.statements) : this.block([s]);
  }

  protected stmt(s: ts.Statement, out: Stmt[]): void {
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
        // (A local function's return leaves its inlined block; a callback's continues its loop.)
        if (!s.expression && cb.leave) return void out.push({ k: "break", label: cb.label, pos: p });
        if (!s.expression) this.refuse("ADC1024", s, "a callback must return a value");
        const v = this.withPre(out, () => this.expr(s.expression!));
        out.push(cb.assign(v, p), cb.leave ? { k: "break", label: cb.label, pos: p } : { k: "continue", label: cb.label, pos: p });
        return;
      }
      this.returnStmt(s.expression, s, out);
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
    // A nested function is inlined where it is called (local-functions.ts).
    if (ts.isFunctionDeclaration(s) && s.name && this.localFunction(s.name)) return;
    if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s))
      this.refuse("ADC1016", s, "declaring functions or classes inside a differentiated function is not supported", "declare it at module level and call it");
    if (ts.isThrowStatement(s))
      this.refuse("ADC1015", s, "throw is not supported in differentiated code", "check arguments before calling the differentiated function");
    this.refuse("ADC1001", s, `${syntaxName(s)} is not supported in differentiated code`);
  }

  protected varDecls(list: ts.VariableDeclarationList, out: Stmt[]): void {
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
    if ((list.flags & (ts.NodeFlags.Const | ts.NodeFlags.Let)) === 0)
      this.refuse("ADC1022", list, "'var' declarations are not supported in differentiated code (adc follows block scope)", "declare it with let, before the loop if it is read after it");
    for (const d of list.declarations) {
      if (!ts.isIdentifier(d.name)) {
        this.destructure(d, isConst, out);
        continue;
      }
      if (this.isLocalFunctionDecl(d)) continue;
      const local = d.initializer && ts.isCallExpression(d.initializer) ? this.localFunction(d.initializer.expression) : undefined;
      if (local) {
        // `const p = pair(a, b)`: the inlined body's result goes straight into p.
        const call = d.initializer as ts.CallExpression;
        const ty = this.typeOf(d.name);
        const name = this.declare(d.name, ty);
        out.push({ k: "let", name, ty, isConst: false, pos: this.pos(d) });
        this.withPre(out, () => this.inlineLocal(call, local as LocalFunction, name));
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
      // `new Array(n).fill(0)` has type any[] to TypeScript; it is a number array here, and its
      // elements numbers.
      const declTy: Ty = value && (value.k === "alloc" || value.k === "arrlit" || value.k === "copy") && ty.k !== "arr" ? { k: "arr", ctor: value.ctor } : value && isAny(ty) && isNumeric(value) ? NUM : ty;
      const name = this.declare(d.name, declTy);
      out.push({ k: "let", name, ty: declTy, init: value, isConst, pos: this.pos(d) });
    }
  }

  protected exprStmt(e: ts.Expression, out: Stmt[]): void {
    const p = this.pos(e);
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.EqualsToken && ts.isArrayLiteralExpression(e.left)) return this.destructuringAssign(e.left, e.right, out);
      if (op === ts.SyntaxKind.EqualsToken && ts.isObjectLiteralExpression(e.left))
        this.refuse("ADC1019", e.left, "object destructuring assignment is not supported", "assign each property's value to its variable");
      if (op === ts.SyntaxKind.EqualsToken || ASSIGN_OPS[op]) {
        let target = this.withPre(out, () => this.target(e.left));
        target = this.indexOnce(target, out, callsFunction(e.right));
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
      if (!this.isBlock()) this.refuse("ADC1023", e, "attachGrad inside a differentiated function is not supported", "attach gradients before record(), or inside a record block");
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
      // (An inlined local function: its statements are out; its result, if any, is unused.)
      if ((call.k === "free" && call.text === "undefined") || call.k === "var") return;
      if (call.k === "call" && call.fn.k === "user" && isDiffTy(call.ty)) {
        // A discarded result still has an adjoint (zero): binding it gives the callee's reverse
        // sweep a result adjoint to read, and lets dead-code elimination drop a pure call.
        out.push({ k: "let", name: this.temp("_unused", call.ty), ty: call.ty, init: call, isConst: true, pos: p });
        return;
      }
      out.push({ k: "expr", e: call, pos: p });
      return;
    }
    if (ts.isDeleteExpression(e)) this.refuse("ADC1022", e, "delete is not supported in differentiated code");
    if (ts.isBinaryExpression(e) && [ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken].includes(e.operatorToken.kind))
      this.refuse("ADC1022", e, `the logical assignment ${e.operatorToken.getText()} is not supported in differentiated code`, "write it as an if statement");
    this.refuse("ADC1001", e, `this expression statement (${syntaxName(e)}) is not supported in differentiated code`);
  }

  protected target(e: ts.Expression): Target {
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
        this.refuse("ADC1022", e, "only writes to a named array (`a[i] = ...`) are supported", "write through a local array variable");
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
      this.refuse("ADC1022", e, "writing object properties is not supported in differentiated code", "build a new object, or use a local variable");
    this.refuse("ADC1022", e, "this assignment target is not supported");
  }

  protected targetRead(t: Target, n: ts.Node): Expr {
    if (t.k === "var") return { k: "var", name: t.name, ty: t.ty, pos: t.pos };
    return { k: "index", arr: { k: "var", name: t.arr, ty: t.arrTy, pos: this.pos(n) }, idx: t.idx, pos: t.pos };
  }
}
