/**
 * The lowering's state and the helpers every construct uses: names (renaming shadowed locals),
 * types, positions, refusals, compiler-made temporaries, and the list where an expression puts
 * the statements it needs first.
 */
import { forEachNode } from "../../ast-walk.js";
import { ts } from "ts-morph";
import type { Code } from "../../diagnostics.js";
import { NUM, type Expr, type FnId, type Pos, type Stmt, type Target, type Ty } from "../ir.js";
import { classifyType } from "../types.js";
import { readsAnyElement, readsElementOf, impureIndex } from "./helpers.js";
import type { FunctionNode, LowerEnv } from "./index.js";

export abstract class LowerBase {
  protected abstract call(e: ts.CallExpression): Expr;
  protected abstract ndCall(op: string, args: readonly ts.Expression[], ty: Ty, e: ts.Node): Expr;
  protected abstract assignsIn(node: ts.Node, name: string): boolean;
  protected abstract block(stmts: readonly ts.Statement[] | ts.NodeArray<ts.Statement>): Stmt[];
  protected abstract body(s: ts.Statement): Stmt[];
  protected abstract exprStmt(e: ts.Expression, out: Stmt[]): void;
  protected abstract target(e: ts.Expression): Target;
  protected abstract varDecls(list: ts.VariableDeclarationList, out: Stmt[]): void;
  protected abstract localFunction(e: ts.Expression): unknown;

  protected readonly locals = new Map<ts.Symbol, string>();
  protected readonly vars = new Map<string, Ty>();
  protected readonly taken = new Set<string>();
  /** Where `fresh` resumes looking for a free `base_k`. */
  private readonly suffixFrom = new Map<string, number>();
  protected readonly reserved = new Set<string>();
  protected temps = 0;
  /** The IR name `this` lowers to: a method's leading parameter, or a record block's capture. */
  protected thisName: string | undefined;
  /** With hasAux: the variable each `return [value, aux]` stores aux in. */
  protected auxName: string | undefined;
  /** Statements an expression needs run before it (map/reduce loops); null where none may go. */
  protected pre: Stmt[] | null = null;
  /** Labels of the jump targets we are inside, innermost last: loops, blocks, map callbacks. */
  protected readonly targets: { label: string | undefined; kind: "loop" | "block" | "switch" }[] = [];
  /** Inside an inlined callback: `return e` assigns here and continues the generated loop. */
  protected callbackReturn: { label: string; assign: (e: Expr, pos: Pos) => Stmt; leave?: "break" } | null = null;

  constructor(
    protected readonly fn: FunctionNode,
    protected readonly id: FnId,
    protected readonly env: LowerEnv,
  ) {}

  /** A record block's body (captures are its inputs and outputs), rather than a function. */
  protected isBlock(): boolean {
    return !!this.env.captures && !this.env.closure;
  }

  // ---- names, types, positions ------------------------------------------------------------

  protected collectReserved(node: ts.Node): void {
    forEachNode(node, (n) => void (ts.isIdentifier(n) && this.reserved.add(n.text)));
    this.takeOutsideNames(node);
  }

  /**
   * Names the function reads from outside itself (a module constant, an import) that one of its
   * own declarations also uses: `{ let K = ...; } return y * K;` reads the module's K after the
   * block. Lowering flattens blocks, so the local must not keep the name: taking the outside name
   * first makes `declare` give the local `K_1`.
   */
  private takeOutsideNames(node: ts.Node): void {
    const declared = new Set<string>();
    forEachNode(node, (n) => {
      const name = (n as ts.Node & { name?: ts.Node }).name;
      if (n !== node && name && ts.isIdentifier(name) && (ts.isVariableDeclaration(n) || ts.isParameter(n) || ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isBindingElement(n)))
        declared.add(name.text);
    });
    if (!declared.size) return;
    const within = (d: ts.Node): boolean => {
      for (let p: ts.Node | undefined = d; p; p = p.parent) if (p === node) return true;
      return false;
    };
    forEachNode(node, (n) => {
      if (!ts.isIdentifier(n) || !declared.has(n.text) || this.taken.has(n.text)) return;
      const p = n.parent;
      if ((ts.isPropertyAccessExpression(p) || ts.isPropertyAssignment(p) || ts.isQualifiedName(p)) && (p as { name?: ts.Node }).name === n) return;
      const decls = this.symbolOf(n)?.declarations;
      if (decls?.length && !decls.some(within)) this.taken.add(n.text);
    });
  }

  protected pos(n: ts.Node): Pos {
    return { start: n.getStart(), end: n.getEnd() };
  }

  protected refuse(code: Code, n: ts.Node, message: string, hint?: string): never {
    return this.env.sink.refuse(code, this.env.file, n.getStart(), n.getEnd(), message, hint);
  }

  protected typeOf(n: ts.Node): Ty {
    return classifyType(this.env.checker.getTypeAtLocation(n), this.env.checker);
  }

  /** Gives a declared identifier its unique IR name (`this`, captured by a block, is named `self`). */
  protected declare(ident: ts.Identifier | ts.ThisExpression, ty: Ty): string {
    if (!ts.isIdentifier(ident)) {
      this.thisName = this.fresh("self");
      this.vars.set(this.thisName, ty);
      return this.thisName;
    }
    const sym = this.symbolOf(ident);
    const name = this.fresh(ident.text);
    if (sym) this.locals.set(sym, name);
    this.vars.set(name, ty);
    return name;
  }

  /**
   * `base`, else the first free `base_1`, `base_2`, ...; the search resumes where the last one
   * for `base` ended (names are never freed), not at 1: a long function may declare `u` in a
   * thousand blocks.
   */
  protected fresh(base: string): string {
    let name = base;
    let k = this.suffixFrom.get(base) ?? 1;
    if (this.taken.has(name)) {
      while (this.taken.has((name = `${base}_${k}`))) k++;
      this.suffixFrom.set(base, k + 1);
    }
    this.taken.add(name);
    this.reserved.add(name);
    return name;
  }

  /**
   * A parameter's default value, which must be a number or boolean literal (`lambda = 0.1`,
   * `sign = -1`): calls that leave the argument out get the literal in its place, and the
   * generated entry points keep it, so nothing depends on the caller's scope.
   */
  protected constantDefault(p: ts.ParameterDeclaration): string {
    const init = p.initializer!;
    const literal = (e: ts.Expression): boolean =>
      ts.isNumericLiteral(e) || e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword ||
      (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken) && ts.isNumericLiteral(e.operand));
    if (!literal(init))
      this.refuse("ADC1025", init, "a default parameter value must be a number or boolean literal here", "pass the value explicitly, or give the parameter a literal default");
    return init.getText();
  }

  /**
   * `w[j++]`: the old (or, for `++j`, the new) value goes into a temporary and the update runs
   * just before the statement. That is JavaScript's order only when nothing else in the statement
   * reads the variable and the increment runs unconditionally, so both are required.
   */
  protected incrementInExpr(e: ts.PrefixUnaryExpression | ts.PostfixUnaryExpression): Expr {
    const p = this.pos(e);
    const hint = "write `i++` as its own statement";
    if (!this.pre) this.refuse("ADC1021", e, "an increment inside a condition, a loop test or a branch of ?:, && or || is not supported", hint);
    if (!ts.isIdentifier(e.operand)) this.refuse("ADC1021", e, "only a local variable can be incremented inside an expression", hint);
    const target = this.target(e.operand);
    if (target.k !== "var" || target.ty.k !== "num") this.refuse("ADC1021", e, "only a number variable can be incremented inside an expression", hint);
    let root: ts.Node = e;
    while (ts.isExpression(root.parent) || ts.isSpreadElement(root.parent)) root = root.parent;
    const sym = this.env.checker.getSymbolAtLocation(e.operand);
    let refs = 0;
    forEachNode(root, (n) => void (ts.isIdentifier(n) && this.symbolOf(n) === sym && refs++));
    if (refs !== 1) this.refuse("ADC1021", e, `'${e.operand.text}' is incremented and also used elsewhere in this expression`, hint);
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
  protected indexOnce(target: Target, out: Stmt[], valueCalls = false): Target {
    // (`valueCalls`: the value calls a function, which may write an array the index reads; the
    // index is evaluated first, as JavaScript does: `a[f(b[0])] -= g(b)`, a fuzzer find.)
    if (target.k !== "index" || !(impureIndex(target.idx) || readsElementOf(target.idx, target.arr) || (valueCalls && readsAnyElement(target.idx)))) return target;
    const name = this.temp("_ix", NUM);
    out.push({ k: "let", name, ty: NUM, init: target.idx, isConst: true, pos: target.idx.pos });
    return { ...target, idx: { k: "var", name, ty: NUM, pos: target.idx.pos } };
  }

  /** A compiler-made local (loop index of a for...of, a map result). */
  protected temp(base: string, ty: Ty): string {
    let name: string;
    do name = `${base}${this.temps++}`;
    while (this.taken.has(name) || this.reserved.has(name));
    this.taken.add(name);
    this.reserved.add(name);
    this.vars.set(name, ty);
    return name;
  }

  /**
   * An expression's kind; for a local, the kind it was declared with here (`new Array(n).fill(0)`
   * is any[] to TypeScript and a number array to adc).
   */
  protected valueTy(e: ts.Expression): Ty {
    const name = ts.isIdentifier(e) ? this.localName(e) : undefined;
    return (name && this.vars.get(name)) || this.typeOf(e);
  }

  protected localName(ident: ts.Identifier): string | undefined {
    const sym = this.symbolOf(ident);
    return sym ? this.locals.get(sym) : undefined;
  }

  /** The variable an identifier names: in `{ x }` the name is the property, the value is x. */
  protected symbolOf(ident: ts.Identifier): ts.Symbol | undefined {
    const p = ident.parent;
    if (p && ts.isShorthandPropertyAssignment(p) && p.name === ident) return this.env.checker.getShorthandAssignmentValueSymbol(p);
    return this.env.checker.getSymbolAtLocation(ident);
  }

  protected withPre<T>(list: Stmt[] | null, f: () => T): T {
    const saved = this.pre;
    this.pre = list;
    try {
      return f();
    } finally {
      this.pre = saved;
    }
  }
}
