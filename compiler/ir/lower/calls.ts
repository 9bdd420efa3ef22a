/**
 * Calls: Math functions (and module constants bound to them), NDArray operations, user functions
 * of the build (with their default arguments and captures), and map/reduce/forEach with an inline
 * callback, which become counted loops.
 */
import { ts } from "ts-morph";
import { bin, cond, math, num } from "../make.js";
import { BOOL, isDiffTy, NUM, VOID, type Ctor, type FnId, type Expr, type Pos, type Stmt, type Target, type Ty } from "../ir.js";
import { scalarRule } from "../../rules/scalar.js";
import { isListOp } from "../../rules/ndarray.js";
import { OBSERVERS, IN_PLACE_ARRAY_METHODS } from "./tables.js";
import { countedLoop } from "./helpers.js";
import { classifyType } from "../types.js";
import { API_KINDS, namespaceMember } from "../../targets.js";

/** The API calls that make derivatives (checkGrads only compares them). */
const DERIVATIVE_KINDS = [...API_KINDS].filter((k) => k !== "checkGrads");
import { LocalFunctions } from "./local-functions.js";
import { isAny } from "./expressions.js";

export abstract class Calls extends LocalFunctions {

  /**
   * `recv.m(args)` where subclasses override m: `if (recv instanceof Sub) r = Sub_m(recv, args)
   * else r = Base_m(recv, args)`, a branch like any other, so each sweep takes the same case.
   */
  private dispatch(e: ts.CallExpression, callee: ts.PropertyAccessExpression, cases: readonly { readonly cls: string; readonly fn: FnId; readonly at: number }[], ty: Ty): Expr {
    const p = this.pos(e);
    if (!this.pre) this.refuse("ADC1002", e, `which '${callee.name.text}' runs depends on the object's class, and the choice cannot be placed here (a condition, a short-circuit operand)`, "call it in a statement of its own first");
    const out = this.pre;
    const once = (x: Expr, base: string, xt: Ty): Expr => {
      if (x.k === "var" || x.k === "num") return x;
      const name = this.temp(base, xt);
      out.push({ k: "let", name, ty: xt, init: x, isConst: true, pos: x.pos });
      return { k: "var", name, ty: xt, pos: x.pos };
    };
    const recvTy = this.typeOf(callee.expression);
    const recv = once(this.expr(callee.expression), "_recv", recvTy);
    const args = e.arguments.map((a) => {
      if (ts.isSpreadElement(a)) this.refuse("ADC1020", a, "spread arguments are not supported");
      return once(this.expr(a), "_arg", this.typeOf(a));
    });
    const text = `.${callee.name.text}()`;
    const result = ty.k === "void" ? undefined : this.temp("_m", ty);
    if (result) out.push({ k: "let", name: result, ty, isConst: false, pos: p });
    const branch = (fn: FnId): Stmt[] => {
      const call: Expr = { k: "call", fn: { k: "user", fn, text }, args: [recv, ...args], ty, pos: p };
      return [result ? { k: "assign", target: { k: "var", name: result, ty, pos: p }, value: call, pos: p } : { k: "expr", e: call, pos: p }];
    };
    let chain = branch(cases[cases.length - 1].fn);
    for (let k = cases.length - 2; k >= 0; k--) {
      // A class declared below the function may not exist yet when a derivative runs (a gradient
      // called at module level before the declaration): then the receiver is none of its instances.
      const late = cases[k].at > this.fn.getStart();
      const test: Expr = late
        ? { k: "call", fn: { k: "rt", name: "instanceOfLate" }, args: [recv, { k: "free", text: `() => ${cases[k].cls}`, ty: { k: "other", text: "() => unknown" }, pos: p }], ty: BOOL, pos: p }
        : { k: "call", fn: { k: "opaque", text: ` instanceof ${cases[k].cls}` }, args: [recv], ty: BOOL, pos: p };
      chain = [{ k: "if", cond: test, then: branch(cases[k].fn), else: chain, pos: p }];
    }
    out.push(...chain);
    return result ? { k: "var", name: result, ty, pos: p } : { k: "call", fn: { k: "opaque", text: "@undefined" }, args: [], ty: VOID, pos: p };
  }

  /** The class a method call is looked up on: `this` in a method stands for the receiver's class. */
  private receiverType(recv: ts.Expression): ts.Type {
    while (ts.isParenthesizedExpression(recv)) recv = recv.expression;
    if (recv.kind === ts.SyntaxKind.ThisKeyword && this.env.thisType) return this.env.thisType;
    return this.env.checker.getTypeAtLocation(recv);
  }

  protected call(e: ts.CallExpression): Expr {
    const p = this.pos(e);
    const callee = e.expression;
    const ty = this.typeOf(e);
    if (e.questionDotToken) this.refuse("ADC1001", e, "optional calls are not supported");
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === "detach" && e.arguments.length === 0 && this.typeOf(callee.expression).k === "nd")
      return { k: "stop", e: this.expr(callee.expression), ty, pos: p };
    if (ts.isPropertyAccessExpression(callee) && (callee.name.text === "backward" || callee.name.text === "zeroGrad") && this.typeOf(callee.expression).k === "nd")
      this.refuse("ADC1023", e, `${callee.name.text}() inside recorded or differentiated code is not supported`, "call it after the record block");
    if (ts.isPropertyAccessExpression(callee) && callee.name.text === "assign" && this.typeOf(callee.expression).k === "nd")
      this.refuse("ADC1022", e, "assigning into an NDArray in place is not supported in recorded or differentiated code (derivatives rely on arrays not changing)", "compute a new array (np.sub(w, ...)); update parameters in place after the record block, with w.assign(...)");
    // A tape inside a block (TensorFlow's nested tapes for a second derivative): not followed.
    if (ts.isPropertyAccessExpression(callee) && (callee.name.text === "record" || callee.name.text === "gradient") && this.env.checker.getTypeAtLocation(callee.expression).getSymbol()?.getName() === "GradientTape")
      this.refuse("ADC1023", e, `a GradientTape's ${callee.name.text}() inside recorded or differentiated code is not supported (nested tapes)`, "take second derivatives with grad(grad(f)), jvp(grad(f), [x], [v]) or hessian(f)");
    if (this.env.isAdcApi(callee, "pause")) return this.inlinePause(e);
    if (this.env.isAdcApi(callee, "record"))
      this.refuse("ADC1023", e, "record() cannot be nested inside recorded or differentiated code", "end the record block first");
    if (this.env.isAdcApi(callee, "stopGradient")) {
      if (e.arguments.length !== 1) this.refuse("ADC1023", e, "stopGradient takes one argument");
      return { k: "stop", e: this.expr(e.arguments[0]), ty, pos: p };
    }
    const local = this.localFunction(callee);
    if (local) return this.inlineLocal(e, local);
    const derivative = this.env.derivativeCall?.(callee);
    if (typeof derivative === "string") this.refuse("ADC1023", e, derivative);
    if (derivative) {
      const args = e.arguments.map((a) => {
        if (ts.isSpreadElement(a)) this.refuse("ADC1020", a, "spread arguments are not supported");
        return this.expr(a);
      });
      return { k: "call", fn: { k: "user", ...derivative }, args, ty, pos: p };
    }
    for (const api of DERIVATIVE_KINDS)
      if (this.env.isAdcApi(callee, api) || (ts.isCallExpression(callee) && this.env.isAdcApi(callee.expression, api)))
        this.refuse("ADC1023", e, `${api} called inside a differentiated function is not supported yet (grad(g)(x), and const [y, dy] = valueAndGrad(g)(x) or jvp(g, [x], [t]) are)`, "differentiate the derivative itself at module level: grad(grad(f)), jvp(grad(f), [x], [v]), hessian(f)");
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && (callee.expression.text === "Float64Array" || callee.expression.text === "Array") && callee.name.text === "from" && e.arguments.length === 1 && !this.localName(callee.expression) && this.typeOf(e.arguments[0]).k === "arr")
      return { k: "copy", ctor: callee.expression.text === "Float64Array" ? "Float64Array" : "Array", e: this.expr(e.arguments[0]), pos: p };
    if (ts.isIdentifier(callee) && (callee.text === "eval" || callee.text === "Function") && !this.localName(callee))
      this.refuse("ADC1001", e, `${callee.text}() is not supported in differentiated code`, "write the computation as code");
    const math = this.mathFunction(callee);
    if (math) {
      const name = `Math.${math}`;
      const spread = e.arguments.find(ts.isSpreadElement);
      if (spread)
        this.refuse("ADC1020", spread, `spreading an array into ${name} is not supported in differentiated code`, math === "max" || math === "min" ? `use a.reduce((m, v) => Math.${math}(m, v))` : "pass the elements one by one, or use a loop");
      const args = e.arguments.map((a) => this.expr(a));
      if (scalarRule(name)) return { k: "call", fn: { k: "prim", name }, args, ty: NUM, pos: p };
      return { k: "call", fn: { k: "opaque", text: name }, args, ty, pos: p };
    }
    if (ts.isPropertyAccessExpression(callee) && this.env.isAdcApi(callee.expression, "np")) {
      const made = this.npCreation(e, callee.name.text, ty);
      if (made) return made;
    }
    if (this.env.ndOp) {
      const nd = this.env.ndOp(e);
      if (nd) return this.ndCall(nd.op, nd.args, ty, e);
    }
    // Any other NDArray method (toArray, toString, attachGrad) is adc's runtime, not code to differentiate.
    if (ts.isPropertyAccessExpression(callee) && this.typeOf(callee.expression).k === "nd")
      this.refuse("ADC1002", e, `'.${callee.name.text}()' of an NDArray has no derivative in adc: only NDArray operations (np.*, their methods, .get, .item) carry derivatives`, callee.name.text === "toArray" ? "read entries with a.get(i).item(), or keep the computation in NDArray operations (wrap a value that needs no derivative in stopGradient)" : "call it outside the differentiated code");
    if (ts.isPropertyAccessExpression(callee) && ts.isPrivateIdentifier(callee.name))
      this.refuse("ADC1012", e, `the private method '${callee.name.text}' cannot be called by derivative code, which lives outside the class`, `declare it without '#' (TypeScript's 'private ${callee.name.text.slice(1)}' is fine)`);
    const resolved = ts.isPropertyAccessExpression(callee) && this.env.resolveMethod ? this.env.resolveMethod(callee, this.receiverType(callee.expression)) : undefined;
    if (typeof resolved === "string") this.refuse("ADC1002", e, resolved);
    if (resolved && "cases" in resolved) return this.dispatch(e, callee as ts.PropertyAccessExpression, resolved.cases, ty);
    // A static method: a plain function, called as written (`Activation.relu(x)`).
    const staticFn = resolved && "static" in resolved ? resolved.static : undefined;
    const method = staticFn ? undefined : (resolved as FnId | undefined);
    const user = staticFn ?? method ?? this.env.resolveUser(callee);
    if (user) {
      const args = e.arguments.map((a) => {
        if (ts.isSpreadElement(a)) this.refuse("ADC1020", a, "spread arguments are not supported");
        return this.expr(a);
      });
      // Arguments left out take the callee's default values, which are literals.
      const decl = this.env.checker.getResolvedSignature(e)?.declaration;
      if (decl && !ts.isJSDocSignature(decl)) this.untypedResult(e, decl, user.name, ty);
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
      // A method takes its receiver first; its primal call is printed `recv.m(...)`.
      if (method) {
        const access = callee as ts.PropertyAccessExpression;
        if (access.expression.kind !== ts.SyntaxKind.SuperKeyword)
          return { k: "call", fn: { k: "user", fn: user, text: `.${access.name.text}()` }, args: [this.expr(access.expression), ...args], ty, pos: p };
        // `super.m(x)`: the base's m on this object; its primal call, at module level, goes
        // through the base class the `extends` clause names: `Base.prototype.m.call(self, x)`.
        const cls = ts.findAncestor(access, ts.isClassLike);
        const base = cls?.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
        if (!this.thisName || !base || !ts.isIdentifier(base)) this.refuse("ADC1002", e, "this super call cannot be followed", "call the base class's method through a function declared at module level");
        const self: Expr = { k: "var", name: this.thisName, ty: this.vars.get(this.thisName)!, pos: this.pos(access.expression) };
        return { k: "call", fn: { k: "user", fn: user, text: `${base.text}.prototype.${access.name.text}.call` }, args: [self, ...args], ty, pos: p };
      }
      const named = ts.isIdentifier(callee) || staticFn || namespaceMember(callee, this.env.checker);
      return { k: "call", fn: { k: "user", fn: user, text: named ? callee.getText() : undefined }, args, ty, pos: p };
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
      const objTy = this.valueTy(callee.expression);
      const method = callee.name.text;
      if (objTy.k === "arr") {
        if (method === "slice" && e.arguments.length === 0) return { k: "copy", ctor: objTy.ctor, e: this.expr(callee.expression), pos: p };
        if (method === "slice" && e.arguments.length <= 2 && !e.arguments.some((a) => ts.isSpreadElement(a))) return this.slice(e, callee.expression, objTy.ctor);
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
      // (Should it carry a derivative, the refusal says what kind of function this is.)
      const decl = this.env.checker.getSymbolAtLocation(callee.name)?.valueDeclaration;
      const why = !decl ? undefined
        // (A list of arrays or objects, `rows.push(r)`: refused should a derivative pass through it.)
        : objTy.k === "list" && IN_PLACE_ARRAY_METHODS.has(method) ? `the array method ${method} changes the list in place, which adc does not follow; build the list as a literal, or keep the rows in one flat array written by a loop`
        : ts.isObjectLiteralExpression(decl.parent) && !ts.isMethodDeclaration(decl) ? `a function held by an object that may be given another one; declare the object 'as const' (adc then calls the function '${method}' names), or call the function by its own name`
        : ts.isObjectLiteralExpression(decl.parent) ? `a method of an object literal, which adc does not differentiate; declare '${method}' as a function, or the object as a class`
        : ts.isInterfaceDeclaration(decl.parent) || ts.isTypeLiteralNode(decl.parent) ? `a method of an interface or object type, which adc cannot follow to the code that runs; type the value with a class (an abstract base class works)`
        : undefined;
      return { k: "call", fn: why ? { k: "opaque", text: `.${method}()`, why } : { k: "opaque", text: `.${method}()` }, args: [recv, ...e.arguments.map((a) => this.expr(a))], ty, pos: p };
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
  protected mathFunction(callee: ts.Expression, depth = 0): string | undefined {
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "Math" && !this.localName(callee.expression))
      return callee.name.text;
    // (A name, imported too: `import { sin } from "./math.js"` of `export const sin = Math.sin`,
    // or a namespace import's member, `M.sin`.)
    const member = ts.isIdentifier(callee) ? undefined : namespaceMember(callee, this.env.checker);
    if ((!ts.isIdentifier(callee) && !member) || (ts.isIdentifier(callee) && this.localName(callee)) || depth > 8) return undefined;
    let sym = member ?? this.env.checker.getSymbolAtLocation(callee);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = this.env.checker.getAliasedSymbol(sym);
    const decl = sym?.valueDeclaration;
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer || !ts.isVariableDeclarationList(decl.parent)) return undefined;
    if ((decl.parent.flags & ts.NodeFlags.Const) === 0) return undefined;
    return this.mathFunction(decl.initializer, depth + 1);
  }

  /** An NDArray op; the list operand of concat/stack is spread into the arguments. */
  protected ndCall(op: string, args: readonly ts.Expression[], ty: Ty, e: ts.Node): Expr {
    const p = this.pos(e);
    if (isListOp(op)) {
      const [list, ...rest] = args;
      if (!list || !ts.isArrayLiteralExpression(list) || list.elements.some((x) => ts.isSpreadElement(x)))
        this.refuse("ADC1020", list ?? e, `${op} needs its arrays written as a list literal here`, `write np.${op}([a, b, ...])`);
      const elems = list.elements.map((x) => this.expr(x));
      return { k: "call", fn: { k: "nd", op, list: elems.length }, args: [...elems, ...rest.map((a) => this.ndArg(a))], ty, pos: p };
    }
    return { k: "call", fn: { k: "nd", op }, args: args.map((a) => this.ndArg(a)), ty, pos: p };
  }

  /** An op's argument; a null literal is kept as written (numpy's "no axis": np.sum(x, null), np.clip(x, null, 1)). */
  private ndArg(a: ts.Expression): Expr {
    if (a.kind === ts.SyntaxKind.NullKeyword) return { k: "free", text: "null", ty: VOID, pos: this.pos(a) };
    return this.expr(a);
  }

  // ---- inline callbacks: map, reduce, forEach ---------------------------------------------

  protected isCallbackCall(e: ts.Expression): boolean {
    if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
    const m = e.expression.name.text;
    if (m !== "map" && m !== "reduce" && m !== "forEach") return false;
    return this.valueTy(e.expression.expression).k === "arr";
  }

  /**
   * Lowers `a.map(cb)`, `a.reduce(cb, init)` or `a.forEach(cb)` into a counted loop in `this.pre`.
   * The callback's body is inlined: its parameters become loop locals, and its `return v`
   * becomes "store v, continue the loop". `target` receives the result (null for forEach).
   */
  protected callbackCall(e: ts.CallExpression, target: Target | null): void {
    const out = this.pre!;
    const p = this.pos(e);
    const access = e.expression as ts.PropertyAccessExpression;
    const method = access.name.text;
    const cb = e.arguments[0];
    if (!cb || !(ts.isArrowFunction(cb) || ts.isFunctionExpression(cb)))
      this.refuse("ADC1014", e, `${method} is supported with an inline callback`, "write the callback as an arrow function in the call");
    if (cb.parameters.some((q) => !ts.isIdentifier(q.name) || q.dotDotDotToken || q.initializer))
      this.refuse("ADC1024", cb, "callback parameters must be plain names");
    let arr = this.expr(access.expression);
    const arrTy = this.valueTy(access.expression);
    const ctor: Ctor = arrTy.k === "arr" ? arrTy.ctor : "Array";
    // The callback runs over the array the receiver evaluated to when the call started.
    if (arr.k === "var" && this.assignsIn(cb.body, arr.name))
      this.refuse("ADC1024", access.expression, `the callback assigns a new array to '${access.expression.getText()}', which ${method} is iterating`, `iterate over a copy (${access.expression.getText()}.slice().${method}(...)) or use an index loop`);
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
        // (The result is a number array: a callback returning arrays or objects is not followed.)
        const made = this.typeOf(e);
        if (made.k !== "arr" && !isAny(made)) this.refuse("ADC1014", e, `map is supported with a callback returning a number; this one makes '${this.env.checker.typeToString(this.env.checker.getTypeAtLocation(e))}'`, "build the array with a loop");
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

  /**
   * `a.slice(start, end)` of a number array: a new array and a loop copying the part, so each
   * element's derivative follows it (an opaque slice would lose them). The bounds are
   * JavaScript's: negative ones count from the end, and both are clamped to the array.
   */
  protected slice(e: ts.CallExpression, arrNode: ts.Expression, ctor: Ctor): Expr {
    const p = this.pos(e);
    if (!this.pre) this.refuse("ADC1014", e, "slice cannot be used where statements cannot run before it (a loop condition, a short-circuit operand)", "compute it in a variable first");
    const out = this.pre;
    const arrTy: Ty = { k: "arr", ctor };
    const constant = (name: string, init: Expr): Expr => {
      out.push({ k: "let", name, ty: NUM, init, isConst: true, pos: p });
      return { k: "var", name, ty: NUM, pos: p };
    };
    // (The array is read where it is named: a second name for it would be an alias.)
    const arr = this.expr(arrNode);
    if (arr.k !== "var" && arr.k !== "field") this.refuse("ADC1014", e, "slice of a computed array is not supported", "assign the array to a variable first, then slice it");
    const len: Expr = { k: "len", arr, pos: p };
    const bound = (arg: ts.Expression | undefined, dflt: Expr, base: string): Expr => {
      if (!arg) return dflt;
      if (this.typeOf(arg).k !== "num") this.refuse("ADC1014", arg, "slice takes number bounds here");
      const v = constant(this.temp(base, NUM), this.expr(arg));
      const negative: Expr = { k: "bin", op: "<", l: v, r: num(0), ty: BOOL, pos: p };
      return cond(negative, math("max", bin("+", len, v), num(0)), math("min", v, len));
    };
    const lo = constant(this.temp("_lo", NUM), bound(e.arguments[0], num(0), "_start"));
    const hi = constant(this.temp("_hi", NUM), bound(e.arguments[1], len, "_end"));
    const n = constant(this.temp("_n", NUM), math("max", bin("-", hi, lo), num(0)));
    const name = this.temp("_slice", arrTy);
    out.push({ k: "let", name, ty: arrTy, init: { k: "alloc", ctor, size: n, pos: p }, isConst: true, pos: p });
    const idx = this.temp("_i", NUM);
    const i: Expr = { k: "var", name: idx, ty: NUM, pos: p };
    const write: Stmt = { k: "assign", target: { k: "index", arr: name, arrTy, idx: i, pos: p }, value: { k: "index", arr, idx: bin("+", lo, i), pos: p }, pos: p };
    out.push(countedLoop(idx, 0, n, [write], p));
    // A copy, as for `new Array(n).fill(v)`: a second name for the part would be an alias.
    return { k: "copy", ctor, e: { k: "var", name, ty: arrTy, pos: p }, pos: p };
  }


  /**
   * Creating arrays inside differentiated code. `np.array([a * b, a + b])` of computed numbers
   * (nested lists too) is np.stack of its elements, so the numbers' derivatives flow into the
   * array; a list of literals stays a plain np.array call, and np.array of a number[] or
   * Float64Array is the registry's fromArray (runtime/ndarray/ops/bridge.ts). The shape-only creations
   * (`np.zerosLike(x)`, `np.ones(shape)`) read no values: their arguments carry no derivative.
   */
  protected npCreation(e: ts.CallExpression, name: string, ty: Ty): Expr | undefined {
    const p = this.pos(e);
    const [first] = e.arguments;
    if (name === "array" && e.arguments.length === 1 && first && ts.isArrayLiteralExpression(first) && !literalList(first)) return this.stacked(first, ty);
    // np.array(xs) of a number[] or Float64Array: a 1-D array of its entries; of an NDArray: a copy.
    if (name === "array" && e.arguments.length === 1 && first && !ts.isArrayLiteralExpression(first)) {
      const k = this.typeOf(first).k;
      if (k === "arr" || k === "nd") return this.ndCall(k === "arr" ? "fromArray" : "copy", [first], ty, e);
    }
    if (!SHAPE_ONLY.has(name)) return undefined;
    const callee = e.expression as ts.PropertyAccessExpression;
    const args = e.arguments.map((a): Expr => ({ k: "stop", e: this.expr(a), ty: this.typeOf(a), pos: this.pos(a) }));
    return { k: "call", fn: { k: "opaque", text: `.${name}()` }, args: [this.expr(callee.expression), ...args], ty, pos: p };
  }

  private stacked(list: ts.ArrayLiteralExpression, ty: Ty): Expr {
    if (list.elements.length === 0 || list.elements.some((x) => ts.isSpreadElement(x)))
      this.refuse("ADC1020", list, "np.array of computed numbers needs them written out as a non-empty list", "write np.array([a, b, ...])");
    const elems = list.elements.map((x) => (ts.isArrayLiteralExpression(x) ? this.stacked(x, ty) : this.expr(x)));
    return { k: "call", fn: { k: "nd", op: "stack", list: elems.length }, args: elems, ty, pos: this.pos(list) };
  }

  /**
   * A call whose callee declares its result `any`, `unknown` or an unconstrained type parameter
   * (`id<T>(v: T): T`), given values adc differentiates: the callee is lowered with its declared types,
   * in which its result carries no derivative, so the gradient would silently lose the path.
   */
  private untypedResult(e: ts.CallExpression, decl: ts.SignatureDeclaration, name: string, ty: Ty): void {
    const called = this.env.checker.getTypeAtLocation(e);
    // (`any[]` too: a helper returning `new Array(n).fill(0)` without a declared result type.)
    const anyElements = this.env.checker.isArrayType(called) && (this.env.checker.getTypeArguments(called as ts.TypeReference)[0]?.flags ?? 0) & (ts.TypeFlags.Any | ts.TypeFlags.Unknown);
    const loose = called.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown) || anyElements;
    // (Or a result mixing numbers with what adc does not differentiate: `[loss, { acc }] as const`.)
    const mixed = ty.k === "other" && this.env.checker.isTupleType(this.env.checker.getTypeAtLocation(e)) && /\b(number|Float64Array|NDArray)\b/.test(ty.text);
    if ((!isDiffTy(ty) && !loose && !mixed) || !e.arguments.some((a) => isDiffTy(this.typeOf(a)))) return;
    const sig = this.env.checker.getSignatureFromDeclaration(decl);
    const ret = sig?.getReturnType();
    if (!ret || classifyType(ret, this.env.checker).k !== "other") return;
    const shown = this.env.checker.typeToString(sig!.getReturnType());
    if (mixed && !loose)
      this.refuse("ADC1012", e, `'${name}' returns '${shown}', numbers mixed with values adc does not differentiate, so no derivative would come out of it`, "return the numbers alone from the function that is differentiated through (the rest from another), or differentiate it with grad(f, { hasAux: true })");
    this.refuse("ADC1012", e, `'${name}' declares its result '${shown}', which adc cannot differentiate through, and is given ${e.arguments.length > 1 ? "values" : "a value"} adc differentiates`, "declare the result's type (: number, : Float64Array, ...)");
  }
}

/** np creations whose result depends on shapes only, never on the values of their arguments. */
const SHAPE_ONLY = new Set(["zerosLike", "onesLike", "zeros", "ones", "eye"]);

/** Whether a (nested) list holds only numeric literals: np.array([1, -2, [3]]) stays as written. */
function literalList(list: ts.ArrayLiteralExpression): boolean {
  return list.elements.every((x) =>
    ts.isNumericLiteral(x) || (ts.isPrefixUnaryExpression(x) && x.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(x.operand)) || (ts.isArrayLiteralExpression(x) && literalList(x)),
  );
}
