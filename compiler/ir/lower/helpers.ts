/** Small facts about TypeScript and IR statements that several lowering files use. */
import { someNode } from "../../ast-walk.js";
import { ts } from "ts-morph";
import { BOOL, NUM, type Expr, type Pos, type Stmt } from "../ir.js";
import { forEachExpr } from "../walk.js";

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

export function endsAbruptly(s: ts.Statement): boolean {
  if (ts.isBreakStatement(s) || ts.isReturnStatement(s) || ts.isContinueStatement(s) || ts.isThrowStatement(s)) return true;
  if (ts.isBlock(s)) {
    const last = s.statements[s.statements.length - 1];
    return !!last && endsAbruptly(last);
  }
  if (ts.isIfStatement(s)) return !!s.elseStatement && endsAbruptly(s.thenStatement) && endsAbruptly(s.elseStatement);
  return false;
}

/** A construct's name for a diagnostic, as a user would say it. */
export function syntaxName(n: ts.Node): string {
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
    case ts.SyntaxKind.NullKeyword: return "null (for a value that may be missing, keep a boolean flag beside it)";
    default: {
      // CamelCase kind name to words: "ConditionalExpression" -> "conditional expression".
      const words = ts.SyntaxKind[n.kind].replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
      return `this ${words}`;
    }
  }
}

/** Whether e reads an element of any array. */
export function readsAnyElement(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "index") found = true;
  });
  return found;
}

/** Whether a TypeScript expression calls something other than a Math function. */
export function callsFunction(e: ts.Node): boolean {
  return someNode(e, (n) => {
    if (!ts.isCallExpression(n)) return false;
    const callee = n.expression;
    return !(ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "Math");
  });
}

/** Whether e reads an element of the array variable `arr`. */
export function readsElementOf(e: Expr, arr: string): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.k === "index" && x.arr.k === "var" && x.arr.name === arr) found = true;
  });
  return found;
}

/** An index expression whose evaluation calls something other than a Math function. */
export function impureIndex(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if ((x.k === "call" && x.fn.k !== "prim") || x.k === "alloc" || x.k === "arrlit" || x.k === "copy") found = true;
  });
  return found;
}

/** `for (let idx = start; idx < end; idx++) body`, with the counter the reverse sweep recounts. */
export function countedLoop(idx: string, start: number, end: Expr, body: Stmt[], pos: Pos): Extract<Stmt, { k: "loop" }> {
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

/**
 * Why adc cannot follow what a list's elements do, when they are of an interface or object type
 * (`Layer[]` with `interface Layer { forward(x): ... }`): said in the refusal should an element
 * carry a derivative.
 */
export function interfaceListWhy(list: ts.Type, checker: ts.TypeChecker): string | undefined {
  // `T extends number[] | Float64Array`: one of several array types, known only when it runs.
  const apparent = list.flags & ts.TypeFlags.TypeParameter ? checker.getBaseConstraintOfType(list) ?? list : list;
  if (apparent.isUnion() && apparent.types.every((u) => checker.isArrayType(u) || u.getSymbol()?.getName() === "Float64Array"))
    return `an array that may be ${apparent.types.map((u) => checker.typeToString(u).replace(/<ArrayBufferLike>$/, "")).join(" or ")}, known only when the program runs; adc differentiates one array type per parameter: declare it number[] or Float64Array (a function for each, if both are needed)`;
  const elem = checker.isArrayType(list) ? checker.getTypeArguments(list as ts.TypeReference)[0] : undefined;
  if (!elem?.getSymbol()?.declarations?.some((d) => ts.isInterfaceDeclaration(d) || ts.isTypeLiteralNode(d))) return undefined;
  return `a list of '${checker.typeToString(elem)}', an interface or object type adc cannot follow to the code that runs; type the list with a class (an abstract base class works)`;
}
