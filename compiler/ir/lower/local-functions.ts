/**
 * Functions declared inside the function being lowered (`const sq = (v: number) => v * v;` or a
 * nested `function add(v) { acc += v; }`), called directly: each call is inlined where it is made,
 * its parameters bound to the arguments and each `return v` assigning the result and leaving a
 * labelled block. The body reads and writes the enclosing function's variables as the closure
 * does at that moment, so nothing is captured and nothing escapes. A local function used any
 * other way (passed, returned, stored) or calling itself is refused.
 */
import { isLiteral, isUndefined } from "../inline.js";
import { ts } from "ts-morph";
import { tyOf } from "../anf.js";
import { VOID, type Expr, type Pos, type Stmt, type Ty } from "../ir.js";
import { RT } from "../../emit/names.js";
import { Expressions } from "./expressions.js";

export type LocalFunction = ts.ArrowFunction | ts.FunctionExpression | ts.FunctionDeclaration;

export abstract class LocalFunctions extends Expressions {
  /** Local functions being inlined, innermost last (a call of one of these is recursion). */
  private readonly inlining: LocalFunction[] = [];

  /** The local function `e` names: a `const` bound to a function, or a nested declaration. */
  protected localFunction(e: ts.Expression): LocalFunction | undefined {
    if (!ts.isIdentifier(e)) return undefined;
    const decl = this.env.checker.getSymbolAtLocation(e)?.valueDeclaration;
    // (Declared inside the function being lowered: not the function itself, not an enclosing scope.)
    if (!decl?.parent || !isWithin(decl.parent, this.fn as ts.Node)) return undefined;
    if (ts.isFunctionDeclaration(decl) && decl.body) return decl;
    if (ts.isVariableDeclaration(decl) && decl.initializer && decl.parent.flags & ts.NodeFlags.Const) {
      let init: ts.Expression = decl.initializer;
      while (ts.isParenthesizedExpression(init) || ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
    }
    return undefined;
  }

  /** Whether a declaration is the value of a `const` holding a function (lowered to nothing). */
  protected isLocalFunctionDecl(d: ts.VariableDeclaration): boolean {
    return ts.isIdentifier(d.name) && !!this.localFunction(d.name);
  }

  /** A variable or array declared outside `fn` that its body (or a local function it calls) writes. */
  private writesOutside(fn: LocalFunction, seen: Set<LocalFunction>): string | undefined {
    if (seen.has(fn)) return undefined;
    seen.add(fn);
    let found: string | undefined;
    const outside = (target: ts.Expression): void => {
      let root = target;
      while (ts.isElementAccessExpression(root) || ts.isPropertyAccessExpression(root) || ts.isParenthesizedExpression(root)) root = root.expression;
      const decl = ts.isIdentifier(root) ? this.env.checker.getSymbolAtLocation(root)?.valueDeclaration : undefined;
      // (An array parameter is the caller's array: writing its elements writes outside too.)
      const param = decl && ts.isParameter(decl) && decl.parent === fn && root !== target;
      if (decl && (!isWithin(decl, fn) || param)) found ??= root.getText();
    };
    const visit = (n: ts.Node): void => {
      if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) outside(n.left);
      if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken)) outside(n.operand);
      if (ts.isCallExpression(n)) {
        const inner = this.localFunction(n.expression);
        if (inner) found ??= this.writesOutside(inner, seen);
      }
      ts.forEachChild(n, visit);
    };
    if (fn.body) visit(fn.body);
    return found;
  }

  /** A call of a local function, inlined into `this.pre`; its result is a variable. */
  protected inlineLocal(e: ts.CallExpression, fn: LocalFunction, into?: string): Expr {
    const name = e.expression.getText();
    const p = this.pos(e);
    if (this.inlining.includes(fn)) this.refuse("ADC1016", e, `the local function '${name}' calls itself, which is not supported (its calls are inlined)`, "declare it at module level");
    if (!this.pre) this.refuse("ADC1014", e, `a call of the local function '${name}' cannot be used where statements cannot run before it (a loop condition, a short-circuit operand)`, "compute it in a variable first");
    // Its statements run before the rest of the expression it is in: one that writes a variable
    // or array of the enclosing function must be the whole expression, or an operand read before
    // it would see the write (`acc + mul(x)` where mul writes acc).
    const written = this.writesOutside(fn, new Set());
    if (written && !wholeExpression(e))
      this.refuse("ADC1014", e, `the local function '${name}' writes '${written}', which the rest of this expression may read; its call must be a statement or a whole initializer here`, `compute it first: const r = ${name}(...)`);
    if (fn.asteriskToken || ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) this.refuse("ADC1015", fn, `'${name}' is a generator or async function`);
    const out = this.pre;
    // The arguments in order, then the parameters bound to them (a default where one is missing).
    const args = e.arguments.map((a) => {
      if (ts.isSpreadElement(a)) this.refuse("ADC1020", a, "spread arguments are not supported");
      return this.expr(a);
    });
    fn.parameters.forEach((q, k) => {
      if (!ts.isIdentifier(q.name) || q.dotDotDotToken) this.refuse("ADC1024", q, "a local function's parameters must be plain names");
      const ty = this.typeOf(q.name);
      const fallback = (): Expr => (q.initializer ? this.withPre(out, () => this.expr(q.initializer!)) : { k: "free", text: "undefined", ty: VOID, pos: p });
      // An argument that is undefined takes the default, as the call would (a type without
      // undefined in it proves nothing where strictNullChecks is off).
      const value = args[k] === undefined || (q.initializer && isUndefined(args[k])) ? fallback() : q.initializer && !isLiteral(args[k]) ? { k: "bin", op: "??", l: args[k], r: fallback(), ty, pos: args[k].pos } as Expr : args[k];
      // An array (or object) passed in is the caller's, as in JavaScript: the parameter names the
      // argument's variable itself (a second name would be an alias), unless the body assigns it.
      const sym = this.env.checker.getSymbolAtLocation(q.name);
      if (value.k === "var" && value.ty.k !== "num" && value.ty.k !== "bool" && sym && !this.assignsIn(fn.body!, q.name.text)) return void this.locals.set(sym, value.name);
      out.push({ k: "let", name: this.declare(q.name, ty), ty, init: value, isConst: false, pos: this.pos(q) });
    });
    this.inlining.push(fn);
    try {
      return this.inlineBody(fn, out, into ? this.vars.get(into)! : this.typeOf(e), name, into) ?? { k: "free", text: "undefined", ty: VOID, pos: p };
    } finally {
      this.inlining.pop();
    }
  }

  /**
   * A function's body into `out`: an expression body is the result; in a block body each
   * `return v` assigns the result and leaves a labelled block. Undefined for a void result.
   */
  private inlineBody(fn: LocalFunction, out: Stmt[], ty: Ty, name: string, into?: string): Expr | undefined {
    const p = this.pos(fn);
    // (`into`: a variable declared for the result, `const p = pair(a, b)`, so it is not a copy.)
    const result = into ?? (ty.k === "void" ? undefined : this.temp(`_${name}`, ty));
    if (result && !into) out.push({ k: "let", name: result, ty, isConst: false, pos: p });
    const assign = (v: Expr, at: Pos): Stmt => (result ? { k: "assign", target: { k: "var", name: result, ty, pos: at }, value: v, pos: at } : { k: "expr", e: v, pos: at });
    const savedReturn = this.callbackReturn;
    try {
      const body = fn.body!;
      if (!ts.isBlock(body)) out.push(assign(this.withPre(out, () => this.expr(body)), this.pos(body)));
      else {
        const label = this.temp(`_${name}`, VOID);
        this.vars.delete(label);
        this.callbackReturn = { label, assign, leave: "break" };
        this.targets.push({ label, kind: "block" });
        try {
          out.push({ k: "block", label, body: this.block(body.statements), pos: p });
        } finally {
          this.targets.pop();
        }
      }
    } finally {
      this.callbackReturn = savedReturn;
    }
    return result ? { k: "var", name: result, ty, pos: p } : undefined;
  }

  /**
   * `pause(() => { ... }, { train? })` (MXNet's autograd.pause) inside recorded or differentiated
   * code: the body inlined, every value it computes cut from the derivative (as stopGradient), and
   * between the two runtime calls that switch to prediction mode for whatever it calls.
   */
  protected inlinePause(e: ts.CallExpression): Expr {
    const p = this.pos(e);
    const [cb, options] = e.arguments;
    if (!cb || !(ts.isArrowFunction(cb) || ts.isFunctionExpression(cb)) || cb.parameters.length)
      this.refuse("ADC1023", e, "pause inside recorded or differentiated code takes a function of no arguments, written inline", "pause(() => { ... })");
    let train = "false";
    if (options) {
      const prop = ts.isObjectLiteralExpression(options) ? options.properties.find((q) => q.name?.getText() === "train") : undefined;
      const value = prop && ts.isPropertyAssignment(prop) ? prop.initializer.getText() : undefined;
      if (!ts.isObjectLiteralExpression(options) || options.properties.length !== (prop ? 1 : 0) || (prop && value !== "true" && value !== "false"))
        this.refuse("ADC1023", options, "pause's options here are { train: true } or { train: false }, written as a literal");
      if (value) train = value;
    }
    if (!this.pre) this.refuse("ADC1014", e, "pause cannot be used where statements cannot run before it (a loop condition, a short-circuit operand)", "call it as a statement");
    const out = this.pre;
    const rt = (call: string): Stmt => ({ k: "expr", e: { k: "call", fn: { k: "opaque", text: `@${RT}.${call}` }, args: [], ty: VOID, pos: p }, pos: p });
    out.push(rt(`pauseEnter(${train})`));
    const body: Stmt[] = [];
    const value = this.inlineBody(cb, body, this.typeOf(e), "pause");
    out.push(...body.map((s) => stopped(s, this.vars)));
    out.push(rt("pauseLeave()"));
    return value ? { k: "stop", e: value, ty: this.typeOf(e), pos: p } : { k: "free", text: "undefined", ty: VOID, pos: p };
  }
}

/** A statement whose assigned values carry no derivative (inside pause). */
function stopped(s: Stmt, vars: ReadonlyMap<string, Ty>): Stmt {
  const stop = (e: Expr): Expr => (e.k === "stop" ? e : { k: "stop", e, ty: tyOf(e, vars), pos: e.pos });
  const inner = (x: Stmt): Stmt => stopped(x, vars);
  switch (s.k) {
    case "let":
      return s.init ? { ...s, init: stop(s.init) } : s;
    case "assign":
      return { ...s, value: stop(s.value) };
    case "if":
      return { ...s, then: s.then.map(inner), else: s.else.map(inner) };
    case "loop":
      return { ...s, init: s.init.map(inner), body: s.body.map(inner), update: s.update.map(inner) };
    case "block":
      return { ...s, body: s.body.map(inner) };
    default:
      return s;
  }
}

function isWithin(n: ts.Node, ancestor: ts.Node): boolean {
  for (let p: ts.Node | undefined = n; p; p = p.parent) if (p === ancestor) return true;
  return false;
}

/** Whether a call is all of its statement: `f(x);`, `const r = f(x)`, `r = f(x);`, `return f(x)`. */
function wholeExpression(e: ts.Expression): boolean {
  let n: ts.Node = e;
  while (ts.isParenthesizedExpression(n.parent)) n = n.parent;
  const p = n.parent;
  return ts.isExpressionStatement(p) || ts.isReturnStatement(p) || (ts.isVariableDeclaration(p) && p.initializer === n)
    || (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken && p.right === n && ts.isExpressionStatement(p.parent));
}
