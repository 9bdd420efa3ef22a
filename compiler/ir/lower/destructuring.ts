/** Destructuring declarations (`const [a, b] = v`, `const { w, b } = p`) and the swap assignment. */
import { ts } from "ts-morph";
import { NUM, type Expr, type Stmt, type Ty } from "../ir.js";
import { Calls } from "./calls.js";
import type { DerivativePair } from "../../inner-grads.js";

export abstract class Destructuring extends Calls {

  /**
   * `const [a, b] = e` and `const { w, b } = p` become one declaration per name, reading the
   * element or field. An array literal on the right binds its elements directly; anything else
   * is evaluated once, into a temporary unless it is already a variable.
   */
  protected destructure(d: ts.VariableDeclaration, isConst: boolean, out: Stmt[]): void {
    const pattern = d.name as ts.BindingPattern;
    const init = d.initializer;
    if (!init) this.refuse("ADC1019", d, "a destructuring declaration needs a value");
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
    if (ts.isArrayBindingPattern(pattern) && ts.isCallExpression(lit)) {
      const pair = this.env.derivativePair?.(lit);
      if (typeof pair === "string") this.refuse("ADC1023", lit, pair);
      if (pair) return this.derivativePair(pair, names, isConst, lit, out);
    }
    const base = this.wholeValue(init, out);
    const baseTy = base.k === "var" || base.k === "free" ? base.ty : this.typeOf(init);
    this.unpack(pattern, base, baseTy, isConst, d, out);
  }

  /**
   * One declaration per name of `pattern`, reading the element or field of `base` (of type
   * `baseTy`): the general case of a destructuring declaration, and a destructured parameter.
   */
  protected unpack(pattern: ts.BindingPattern, base: Expr, baseTy: Ty, isConst: boolean, d: ts.Node, out: Stmt[]): void {
    const names = this.patternNames(pattern);
    const p = this.pos(d);
    const what = (): string => (baseTy.k === "other" ? baseTy.text : this.env.checker.typeToString(this.env.checker.getTypeAtLocation(d)));
    names.forEach((n, k) => {
      if (!n) return;
      const ty = this.typeOf(n.ident);
      let value: Expr;
      if (ts.isArrayBindingPattern(pattern)) {
        const at: Expr = { k: "num", v: k, text: String(k), pos: p };
        if (baseTy.k === "list") value = { k: "field", obj: base, name: "[]", idx: at, ty: baseTy.elem, pos: this.pos(n.ident) };
        else if (baseTy.k !== "arr") this.refuse("ADC1012", d, `array destructuring is supported for number arrays, Float64Array and arrays of arrays or NDArrays, not '${what()}'`, "read each element by index");
        else value = { k: "index", arr: base, idx: at, pos: this.pos(n.ident) };
      } else {
        const f = baseTy.k === "obj" ? baseTy.fields.find(([fname]) => fname === n.key) : undefined;
        if (!f) this.refuse("ADC1012", d, `object destructuring is supported for objects of numbers and arrays (parameter objects), not '${what()}'`, "read each property by name");
        value = { k: "field", obj: base, name: n.key, ty: f[1], pos: this.pos(n.ident) };
      }
      out.push({ k: "let", name: this.declare(n.ident, ty), ty, init: value, isConst, pos: this.pos(n.ident) });
    });
  }

  /**
   * `const [y, dy] = valueAndGrad(g)(x)` (or `= jvp(g, [x], [t])`): y is a call of g, dy a call of
   * g's tangent function; each argument is evaluated once.
   */
  private derivativePair(pair: DerivativePair, names: readonly ({ ident: ts.Identifier } | null)[], isConst: boolean, call: ts.CallExpression, out: Stmt[]): void {
    if (names.length > 2) this.refuse("ADC1019", call, "a value and its derivative are two elements");
    const once = new Map<ts.Expression, Expr>();
    const arg = (e: ts.Expression): Expr => {
      let v = once.get(e);
      if (!v) once.set(e, (v = this.wholeValue(e, out)));
      return v;
    };
    const p = this.pos(call);
    // (Numbers, or arrays: a gradient along an array, a tangent of an array function.)
    const tys = names.map((n) => (n ? this.typeOf(n.ident) : NUM));
    const calls: Expr[] = [
      { k: "call", fn: { k: "user", ...pair.value }, args: pair.valueArgs.map(arg), ty: tys[0], pos: p },
      { k: "call", fn: { k: "user", ...pair.tangent }, args: pair.tangentArgs.map(arg), ty: tys[1] ?? NUM, pos: p },
    ];
    names.forEach((n, k) => {
      if (!n) return;
      out.push({ k: "let", name: this.declare(n.ident, tys[k]), ty: tys[k], init: calls[k], isConst, pos: this.pos(n.ident) });
    });
  }

  /** The names a binding pattern declares, in order (null for an array hole), with their keys. */
  protected patternNames(pattern: ts.BindingPattern): ({ ident: ts.Identifier; key: string } | null)[] {
    return (pattern.elements as ts.NodeArray<ts.ArrayBindingElement>).map((el) => {
      if (ts.isOmittedExpression(el)) return null;
      if (el.dotDotDotToken) this.refuse("ADC1019", el, "rest elements in destructuring are not supported", "read the elements you need by index");
      if (el.initializer) this.refuse("ADC1019", el, "default values in destructuring are not supported", "declare the value on its own and test it");
      if (!ts.isIdentifier(el.name)) this.refuse("ADC1019", el, "nested destructuring is not supported", "destructure one level at a time");
      let key = el.name.text;
      if (el.propertyName) {
        if (!ts.isIdentifier(el.propertyName) && !ts.isStringLiteral(el.propertyName)) this.refuse("ADC1019", el, "computed keys in destructuring are not supported");
        key = el.propertyName.text;
      }
      return { ident: el.name, key };
    });
  }

  /** Evaluates e once: a variable as it is, anything else into a compiler-made constant. */
  protected wholeValue(e: ts.Expression, out: Stmt[]): Expr {
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
  protected destructuringAssign(left: ts.ArrayLiteralExpression, right: ts.Expression, out: Stmt[]): void {
    const p = this.pos(left);
    const targets = left.elements.map((x) => {
      if (ts.isOmittedExpression(x)) return null;
      if (ts.isSpreadElement(x)) this.refuse("ADC1019", x, "rest elements in destructuring are not supported", "read the elements you need by index");
      if (ts.isBinaryExpression(x)) this.refuse("ADC1019", x, "default values in destructuring are not supported");
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
        // (TypeScript may type the element any[] where adc knows the array: `new Array(2).fill(0)`.)
        const declTy: Ty = ty.k === "other" && (v.k === "arrlit" || v.k === "alloc" || v.k === "copy") ? { k: "arr", ctor: v.ctor } : ty.k === "other" && v.k === "var" ? v.ty : ty;
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
}
