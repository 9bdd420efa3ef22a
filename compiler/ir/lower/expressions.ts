/** Expressions: operators, names, properties, `new`, and what is kept as written (opaque). */
import { forEachNode, someNode } from "../../ast-walk.js";
import { ts } from "ts-morph";
import { BOOL, NUM, VOID, type BinOp, type Expr, type Pos, type Stmt, type Ty, type UnOp } from "../ir.js";
import { MATH_CONSTANTS } from "../../rules/scalar.js";
import { ASSIGN_OPS, BIN_OPS, COMPARISONS, INT_OPS } from "./tables.js";
import { interfaceListWhy, syntaxName } from "./helpers.js";
import { LowerBase } from "./base.js";

export abstract class Expressions extends LowerBase {

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
      const chain = this.longChain(e);
      if (chain) return chain;
      const kind = e.operatorToken.kind;
      const op = BIN_OPS[kind];
      if (!op) {
        if (kind === ts.SyntaxKind.EqualsToken || ASSIGN_OPS[kind])
          this.refuse("ADC1022", e, "assignments inside expressions are not supported", "assign in a statement of its own");
        this.refuse("ADC1001", e, `the operator ${e.operatorToken.getText()} is not supported`);
      }
      const l = this.expr(e.left);
      const r = op === "&&" || op === "||" || op === "??" ? this.withPre(null, () => this.expr(e.right)) : this.expr(e.right);
      // (Elements of `new Array(n).fill(0)`, any[] to TypeScript, are numbers here.)
      const ty = this.typeOf(e);
      return this.binary(op, l, r, p, isAny(ty) && isNumeric(l) && isNumeric(r) ? NUM : ty);
    }
    if (ts.isConditionalExpression(e)) {
      const c = this.expr(e.condition);
      const ty = this.typeOf(e);
      if (this.pre) {
        // A branch that needs statements run first (an inlined local function, map, reduce)
        // becomes an if, so they run only when their branch is taken.
        const [preA, preB]: Stmt[][] = [[], []];
        const a = this.withPre(preA, () => this.expr(e.whenTrue));
        const b = this.withPre(preB, () => this.expr(e.whenFalse));
        if (!preA.length && !preB.length) return { k: "cond", c, a, b, ty, pos: p };
        const t = this.temp("_cond", ty);
        const set = (v: Expr): Stmt => ({ k: "assign", target: { k: "var", name: t, ty, pos: v.pos }, value: v, pos: v.pos });
        this.pre.push({ k: "let", name: t, ty, isConst: false, pos: p }, { k: "if", cond: c, then: [...preA, set(a)], else: [...preB, set(b)], pos: p });
        return { k: "var", name: t, ty, pos: p };
      }
      const a = this.withPre(null, () => this.expr(e.whenTrue));
      const b = this.withPre(null, () => this.expr(e.whenFalse));
      return { k: "cond", c, a, b, ty, pos: p };
    }
    if (ts.isCallExpression(e)) return this.call(e);
    if (ts.isElementAccessExpression(e)) {
      const arr = this.expr(e.expression);
      const t = arr.k === "var" || arr.k === "free" ? arr.ty : this.typeOf(e.expression);
      if (t.k === "list") return { k: "field", obj: arr, name: "[]", idx: this.withPre(this.pre, () => this.expr(e.argumentExpression)), ty: t.elem, pos: p };
      if (t.k !== "arr") {
        // `p["w"]` with a literal key is the field p.w.
        const key = e.argumentExpression;
        if (t.k === "obj" && (ts.isStringLiteral(key) || ts.isNoSubstitutionTemplateLiteral(key))) {
          const f = t.fields.find(([n]) => n === key.text);
          if (f) return { k: "field", obj: arr, name: key.text, ty: f[1], pos: p };
        }
        if (t.k === "obj" || t.k === "nd") this.refuse("ADC1012", e, t.k === "obj" ? "indexing an object by a computed key is not supported" : "indexing an NDArray with [] is not supported", t.k === "obj" ? "read the field by name (p.w, or p[\"w\"] with a literal key)" : "read entries with a.get(i) (a.get(i).item() for a number)");
        // A list of values adc does not differentiate: say why, should one carry a derivative.
        return this.opaque(e, interfaceListWhy(this.env.checker.getTypeAtLocation(e.expression), this.env.checker));
      }
      return { k: "index", arr, idx: this.withPre(this.pre, () => this.expr(e.argumentExpression)), pos: p };
    }
    if (ts.isPropertyAccessExpression(e)) return this.property(e);
    if (e.kind === ts.SyntaxKind.ThisKeyword) {
      if (!this.thisName) {
        // An arrow inside a method reads the method's `this`, which it does not receive.
        const inMethod = ts.isArrowFunction(this.fn) && ts.findAncestor(this.fn, (n) => ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n) || ts.isGetAccessor(n));
        if (inMethod) this.refuse("ADC1001", e, "'this' inside an arrow function that is differentiated is not supported (the arrow is differentiated on its own, without the method's object)", "name the object first, const self = this;, and use self in the arrow");
        this.refuse("ADC1001", e, "'this' is supported in class methods and in record blocks inside them", "pass the object as a parameter");
      }
      return { k: "var", name: this.thisName, ty: this.vars.get(this.thisName)!, pos: p };
    }
    if (ts.isArrayLiteralExpression(e)) {
      const t = this.typeOf(e);
      if (e.elements.some((x) => ts.isSpreadElement(x))) {
        if (e.elements.length === 1) return { k: "copy", ctor: "Array", e: this.expr((e.elements[0] as ts.SpreadElement).expression), pos: p };
        this.refuse("ADC1020", e, "spreading into an array literal is supported only as a copy `[...a]`");
      }
      if (t.k !== "arr") return this.opaque(e);
      return { k: "arrlit", ctor: "Array", elems: e.elements.map((x) => this.expr(x)), pos: p };
    }
    if (ts.isNewExpression(e)) return this.newExpr(e);
    if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) {
      // The callback of map, reduce or forEach over something other than numbers gets here too.
      const p = e.parent;
      const method = ts.isCallExpression(p) && ts.isPropertyAccessExpression(p.expression) ? p.expression.name.text : undefined;
      if (method === "map" || method === "reduce" || method === "forEach")
        this.refuse("ADC1016", e, `${method} with a callback is supported over number arrays and Float64Array, not over '${this.env.checker.typeToString(this.env.checker.getTypeAtLocation((p as ts.CallExpression & { expression: ts.PropertyAccessExpression }).expression.expression))}'`, "write it as a loop over the elements");
      this.refuse("ADC1016", e, "a function value inside a differentiated function is supported only as the callback of map, reduce or forEach", "declare the function at module level and call it");
    }
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

  /**
   * A long left-leaning chain of arithmetic (`t0 + t1 + ... + t1499`: tsc takes any length) is
   * lowered by a loop, not by recursion, and cut into constants of CHAIN operations each, so no
   * later pass meets an expression deeper than that. Cutting moves the start of the chain before
   * its statement, which changes nothing only where the chain is the first thing the statement
   * evaluates (an initializer, a return, the right side of an assignment to a local); elsewhere
   * a chain is lowered as written and a stack overflow is reported as ADC1027.
   */
  protected longChain(e: ts.BinaryExpression): Expr | undefined {
    const spine: ts.BinaryExpression[] = [];
    for (let n: ts.Expression = e; ts.isBinaryExpression(n) && CHAIN_OPS.has(n.operatorToken.kind); n = n.left) spine.push(n);
    if (spine.length <= CHAIN || !this.pre || !evaluatedFirst(e) || this.typeOf(e).k !== "num") return undefined;
    const pre = this.pre;
    let acc = this.expr(spine[spine.length - 1].left);
    for (let i = spine.length - 1; i >= 0; i--) {
      const node = spine[i];
      const p = this.pos(node);
      acc = this.binary(BIN_OPS[node.operatorToken.kind]!, acc, this.expr(node.right), p, NUM);
      if (i > 0 && (spine.length - i) % CHAIN === 0) {
        const name = this.temp("_part", NUM);
        pre.push({ k: "let", name, ty: NUM, init: acc, isConst: true, pos: p });
        acc = { k: "var", name, ty: NUM, pos: p };
      }
    }
    return acc;
  }

  protected identifier(e: ts.Identifier): Expr {
    const p = this.pos(e);
    if (e.text === "arguments") this.refuse("ADC1025", e, "`arguments` is not supported", "name the parameters");
    const name = this.localName(e);
    if (name) return { k: "var", name, ty: this.vars.get(name)!, pos: p };
    if (this.localFunction(e)) this.refuse("ADC1016", e, `the local function '${e.text}' is used as a value here; adc inlines a local function where it is called, so it can only be called`, "call it, or declare it at module level to pass it around");
    if (e.text === "undefined" || e.text === "NaN" || e.text === "Infinity") return { k: "free", text: e.text, ty: e.text === "undefined" ? VOID : NUM, pos: p };
    return { k: "free", text: e.text, ty: this.typeOf(e), pos: p };
  }

  protected property(e: ts.PropertyAccessExpression): Expr {
    const p = this.pos(e);
    if (ts.isPrivateIdentifier(e.name))
      this.refuse("ADC1012", e, `the private member '${e.name.text}' cannot be read by derivative code, which lives outside the class`, `declare it without '#' (TypeScript's 'private ${e.name.text.slice(1)}' is fine)`);
    const name = e.name.text;
    // `p?.w` (the outermost access of an optional chain): evaluated as written, short-circuit
    // included; a value that carries a derivative cannot pass through it (the fence says so).
    if (ts.isOptionalChain(e) && !(ts.isPropertyAccessExpression(e.parent) && e.parent.expression === e && ts.isOptionalChain(e.parent)))
      return this.opaque(e, "optional chaining (?.) is kept as written, which carries no derivative; test for undefined with an if, or pass the value as a number");
    if (ts.isIdentifier(e.expression) && e.expression.text === "Math" && !this.localName(e.expression)) {
      if (MATH_CONSTANTS.has(name)) return { k: "free", text: `Math.${name}`, ty: NUM, pos: p };
      this.refuse("ADC1001", e, `Math.${name} used as a value is not supported`, "call it directly");
    }
    const obj = this.expr(e.expression);
    const objTy = obj.k === "var" || obj.k === "free" ? obj.ty : this.typeOf(e.expression);
    if (name === "length" && (objTy.k === "arr" || objTy.k === "list")) return { k: "len", arr: obj, pos: p };
    if (objTy.k === "obj") {
      const f = objTy.fields.find(([n]) => n === name);
      // Derivative code lives outside the class: TypeScript lets it read a private or protected
      // member by element access.
      const hidden = this.env.checker.getSymbolAtLocation(e.name)?.declarations?.some((d) => ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected));
      if (f) return hidden ? { k: "field", obj, name, ty: f[1], pos: p, hidden: true } : { k: "field", obj, name, ty: f[1], pos: p };
    }
    if (this.env.ndOp) {
      const nd = this.env.ndOp(e);
      if (nd) return this.ndCall(nd.op, nd.args, this.typeOf(e), e);
    }
    // An NDArray's shape facts are constants of its derivative (adc's own getters, not the user's).
    if (objTy.k === "nd" && ND_SHAPE_FACTS.has(name)) return { k: "stop", e: { k: "call", fn: { k: "opaque", text: `.${name}` }, args: [obj], ty: this.typeOf(e), pos: p }, ty: this.typeOf(e), pos: p };
    // A getter written in the program runs code adc does not see, which may change state; the
    // generated code may evaluate it a different number of times than the source does.
    const sym = this.env.checker.getSymbolAtLocation(e.name);
    if (sym && sym.flags & ts.SymbolFlags.GetAccessor && sym.declarations?.some((d) => !d.getSourceFile().isDeclarationFile))
      this.refuse("ADC1002", e, `'${e.getText()}' is a getter, code adc does not see`, "read it into a variable outside the differentiated function and pass the value in");
    // Some other property (a field of a non-numeric object): read as it is.
    if (objTy.k === "nd" && name === "data") return { k: "call", fn: { k: "opaque", text: `.${name}`, why: "an NDArray's storage carries no derivative; read entries with a.get(i).item() or use NDArray operations" }, args: [obj], ty: this.typeOf(e), pos: p };
    return { k: "call", fn: { k: "opaque", text: `.${name}` }, args: [obj], ty: this.typeOf(e), pos: p };
  }

  protected newExpr(e: ts.NewExpression): Expr {
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
  protected opaque(e: ts.Expression, why?: string): Expr {
    // Its free names must still be the function's own names: refuse if it reads a renamed local.
    const reads: Expr[] = [];
    const visit = (n: ts.Node): void => {
      // Generated code lives outside the class, where `this` is not the object.
      if (n.kind === ts.SyntaxKind.ThisKeyword && this.thisName)
        this.refuse("ADC1001", e, `'${shortSource(e)}' reads 'this' in a form adc keeps as written, which generated code (outside the class) cannot`, "read the part you need into a local first, e.g. const layers = this.layers");
      if (ts.isIdentifier(n) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n)) {
        const name = this.localName(n);
        if (name) {
          if (name !== n.text) this.refuse("ADC1001", n, `'${n.text}' is shadowed here; adc cannot keep this expression as written`, "rename the variable");
          reads.push({ k: "var", name, ty: this.vars.get(name)!, pos: this.pos(n) });
        }
      }
    };
    forEachNode(e, visit);
    return { k: "call", fn: why ? { k: "opaque", text: `@${e.getText()}`, why } : { k: "opaque", text: `@${e.getText()}` }, args: reads, ty: this.typeOf(e), pos: this.pos(e) };
  }
}

/** Operations of the same precedence that chain to the left (not `**`, which chains right). */
const CHAIN_OPS = new Set([ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken, ts.SyntaxKind.AsteriskToken, ts.SyntaxKind.SlashToken, ts.SyntaxKind.PercentToken]);
/** Operations per constant when a long chain is cut. */
const CHAIN = 64;

/** Whether nothing else in e's statement is evaluated before e. */
function evaluatedFirst(e: ts.Expression): boolean {
  const p = e.parent;
  if (ts.isVariableDeclaration(p) || ts.isReturnStatement(p) || ts.isExpressionStatement(p)) return true;
  if (ts.isArrowFunction(p)) return p.body === e;
  if (ts.isBinaryExpression(p) && p.right === e && ts.isIdentifier(p.left) && ts.isExpressionStatement(p.parent)) {
    const k = p.operatorToken.kind;
    return k === ts.SyntaxKind.EqualsToken || (k >= ts.SyntaxKind.FirstCompoundAssignment && k <= ts.SyntaxKind.LastCompoundAssignment);
  }
  return false;
}

/** TypeScript's `any`: what it does not know about (`new Array(n).fill(0)[i]`). */
export function isAny(t: Ty): boolean {
  return t.k === "other" && t.text === "any";
}

/** An expression adc knows to be a number: a literal, an element of a number array, a number variable or operation. */
export function isNumeric(x: Expr): boolean {
  return x.k === "num" || x.k === "index" || ("ty" in x && x.ty.k === "num");
}

function shortSource(e: ts.Node): string {
  const t = e.getText().replace(/\s+/g, " ");
  return t.length > 40 ? t.slice(0, 37) + "..." : t;
}

/** NDArray properties that describe its shape, never its values. */
const ND_SHAPE_FACTS = new Set(["size", "ndim", "shape", "dtype"]);
