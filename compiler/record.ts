/**
 * Record blocks: `record(() => { ... }, options?)` and `tape.record(() => { ... })`.
 *
 * A block is compiled like a function whose inputs are the outer variables it reads and whose
 * outputs are the outer variables it assigns. This module finds the blocks and their captures;
 * build.ts lowers them (with the captures as parameters and outputs), generates their `vjp`, and
 * replaces the call with `_rt.record([inputs], vjp, assign, options, tape)`.
 */
import { forEachNode } from "./ast-walk.js";
import { functionOf } from "./targets.js";
import { ts } from "ts-morph";
import { adcExportName } from "./targets.js";
import { isModuleScoped } from "./scopes.js";
import { isDiffTy } from "./ir/ir.js";
import { classifyType } from "./ir/types.js";

export interface RecordSite {
  readonly call: ts.CallExpression;
  readonly cb: ts.ArrowFunction | ts.FunctionExpression;
  /** `tape.record(...)`: the tape expression. */
  readonly tape?: ts.Expression;
  readonly options?: ts.Expression;
}

export interface Capture {
  /** The variable, or `this` (in a record block inside a method: the object is an input). */
  readonly ident: ts.Identifier | ts.ThisExpression;
  readonly read: boolean;
  readonly written: boolean;
  /** The variable's type as TypeScript text (for the cast when outputs are stored back). */
  readonly typeText: string;
}

function isTape(e: ts.Expression, checker: ts.TypeChecker): boolean {
  const t = checker.getTypeAtLocation(e);
  return (t.getSymbol() ?? t.aliasSymbol)?.getName() === "GradientTape";
}

/** Record calls in a file, in source order; malformed ones are left for the lowering to refuse. */
export function findRecordSites(sf: ts.SourceFile, checker: ts.TypeChecker): RecordSite[] {
  const out: RecordSite[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const [cb, options] = n.arguments;
      const fnArg = cb && (ts.isArrowFunction(cb) || ts.isFunctionExpression(cb)) ? cb : undefined;
      if (fnArg && adcExportName(n.expression, checker) === "record") out.push({ call: n, cb: fnArg, options });
      else if (fnArg && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "record" && isTape(n.expression.expression, checker))
        out.push({ call: n, cb: fnArg, tape: n.expression.expression });
    }
  };
  forEachNode(sf, visit);
  return out;
}

function isWrite(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isBinaryExpression(p) && p.left === id) {
    const k = p.operatorToken.kind;
    return k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;
  }
  if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) && (p.operator === ts.SyntaxKind.PlusPlusToken || p.operator === ts.SyntaxKind.MinusMinusToken)) return true;
  return false;
}

/**
 * The outer variables a block reads and assigns (functions are called, not captured). A variable
 * is an input if the block may read it before assigning it (its first use in evaluation order is
 * a read); read-only values that carry no derivative (strings, adc's own `np`) stay free names.
 */
export function capturesOf(cb: ts.ArrowFunction | ts.FunctionExpression, checker: ts.TypeChecker): Capture[] {
  const found = new Map<ts.Symbol, { ident: ts.Identifier; read: boolean; written: boolean; typeText: string }>();
  const inside = (d: ts.Node): boolean => d.pos >= cb.pos && d.end <= cb.end && d.getSourceFile() === cb.getSourceFile();
  const note = (n: ts.Identifier, write: boolean, compound: boolean): void => {
    const sym = valueSymbol(n, checker);
    if (!sym) return;
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decl = target.valueDeclaration ?? target.declarations?.[0];
    if (!decl || inside(decl)) return;
    // (Also `const loss = squaredLoss`, a second name for a function.)
    const isFunction = ts.isVariableDeclaration(decl) && !!decl.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer) || (ts.isIdentifier(decl.initializer) && typeof functionOf(decl.initializer, checker) !== "string"));
    // (A name a destructuring declares is a variable too: `for (const [X, y] of batches)`.)
    if (!(ts.isParameter(decl) || ts.isVariableDeclaration(decl) || ts.isBindingElement(decl)) || isFunction) return;
    const fromAdc = sym.declarations?.some((d) => ts.isImportSpecifier(d) && ts.isStringLiteral(d.parent.parent.parent.moduleSpecifier) && d.parent.parent.parent.moduleSpecifier.text === "adc");
    if (fromAdc) return;
    const prev = found.get(sym);
    if (prev) {
      prev.written ||= write;
      return;
    }
    const type = checker.getTypeAtLocation(n);
    found.set(sym, { ident: n, read: !write || compound, written: write, typeText: checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation) });
  };
  // Evaluation order: an assignment's right side runs before its target is written.
  const step = (n: ts.Node): boolean | void => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
      walk(n.right);
      const compound = n.operatorToken.kind !== ts.SyntaxKind.EqualsToken;
      if (ts.isIdentifier(n.left)) note(n.left, true, compound);
      else if (ts.isArrayLiteralExpression(n.left) && !compound)
        // `[y, z] = [z, y]`
        for (const x of n.left.elements) ts.isIdentifier(x) ? note(x, true, false) : walk(x);
      else walk(n.left);
      return false;
    }
    if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && ts.isIdentifier(n.operand) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken)) {
      note(n.operand, true, true);
      return false;
    }
    if (ts.isIdentifier(n) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) && !ts.isTypeReferenceNode(n.parent)) note(n, false, false);
    if (n.kind === ts.SyntaxKind.ThisKeyword && !self) self = n as ts.ThisExpression;
  };
  let self: ts.ThisExpression | undefined;
  // (Each assignment walks its two sides itself, in that order.)
  const walk = (root: ts.Node): void => forEachNode(root, step);
  walk(cb.body);
  // Values that carry no derivative and are only read need not be inputs. Objects and lists
  // that may hold NDArrays (a model's `w`, `params[0]`) are inputs: their arrays may have
  // gradients attached.
  const out: Capture[] = [...found.values()].filter((c) => c.written || isDiffTy(classifyType(checker.getTypeAtLocation(c.ident), checker)));
  // (An arrow's `this` is its method's object; a function expression's own `this` is refused by the lowering.)
  if (self && ts.isArrowFunction(cb)) out.unshift({ ident: self, read: true, written: false, typeText: checker.typeToString(checker.getTypeAtLocation(self)) });
  return out;
}

/** What the code around a block calls a captured variable (`this` for the object). */
export function captureText(c: Capture): string {
  return ts.isIdentifier(c.ident) ? c.ident.text : "this";
}

/**
 * The locals of the enclosing function that a differentiated closure reads (`const loss = (w) =>
 * ... xs ...` inside `fit(xs)`), in order of first use. Generated code lives at module level, so
 * they become trailing parameters of the generated functions and the call site passes them.
 * Closures are constants to differentiation, as in JAX. A local helper that is called passes its
 * own captures through (`nested`); one used any other way cannot be moved to module level, and
 * `refuse` is told.
 */
export function closureCaptures(
  fn: ts.FunctionLikeDeclaration, outer: ts.Node, checker: ts.TypeChecker,
  refuse: (n: ts.Node, message: string, hint: string) => void,
  /** The captures of a function declared in the enclosing function that `fn` calls. */
  nested: (fn: ts.FunctionLikeDeclaration) => readonly Capture[] | undefined,
): Capture[] {
  const found = new Map<ts.Symbol, Capture>();
  const inside = (d: ts.Node, n: ts.Node): boolean => d.getSourceFile() === n.getSourceFile() && d.pos >= n.pos && d.end <= n.end;
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && !(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) && !ts.isTypeReferenceNode(n.parent)) {
      const sym = valueSymbol(n, checker);
      const decl = sym?.valueDeclaration;
      if (sym && decl && inside(decl, outer) && !inside(decl, fn) && !isModuleScoped(decl)) {
        const target = ts.isFunctionDeclaration(decl) ? decl
          : ts.isVariableDeclaration(decl) && decl.initializer && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer)) ? decl.initializer
          : undefined;
        if (target) {
          // A local helper it calls: the helper's captures are passed through this function.
          const inner = ts.isCallExpression(n.parent) && n.parent.expression === n ? nested(target) : undefined;
          if (!inner) refuse(n, `'${n.text}' is a function declared inside the enclosing function, used here other than by calling it`, "call it directly, or declare it at module level");
          else {
            for (const c of inner) {
              const csym = checker.getSymbolAtLocation(c.ident);
              if (csym && !found.has(csym) && !inside(csym.valueDeclaration!, fn)) found.set(csym, c);
            }
            // The helper itself too: generated code calls it by name where nothing is
            // differentiated, and at module level only a parameter can bring it.
            if (!found.has(sym)) found.set(sym, { ident: n, read: true, written: false, typeText: checker.typeToString(checker.getTypeAtLocation(n), undefined, ts.TypeFormatFlags.NoTruncation) });
          }
        } else if (!ts.isParameter(decl) && !ts.isVariableDeclaration(decl) && !ts.isBindingElement(decl)) refuse(n, `the differentiated function reads '${n.text}' from the enclosing function`, "declare the function at module level and pass the value as an argument");
        else if (isWrite(n)) {
          // Left to the lowering, which refuses writes to variables from outside (ADC1005).
        } else if (!found.has(sym)) {
          const typeText = checker.typeToString(checker.getTypeAtLocation(n), undefined, ts.TypeFormatFlags.NoTruncation);
          found.set(sym, { ident: n, read: true, written: false, typeText });
        }
      }
    }
  };
  if (fn.body) forEachNode(fn.body, visit);
  fn.parameters.forEach((q) => q.initializer && forEachNode(q.initializer, visit));
  // An arrow's `this` is its method's object: read like any captured value (`this` at the call).
  let self: ts.ThisExpression | undefined;
  if (ts.isArrowFunction(fn) && fn.body)
    forEachNode(fn.body, (n) => {
      if (self) return "stop";
      if (ts.isFunctionLike(n) && !ts.isArrowFunction(n)) return false;
      if (n.kind === ts.SyntaxKind.ThisKeyword) self = n as ts.ThisExpression;
    });
  const out = [...found.values()];
  if (self) out.unshift({ ident: self, read: true, written: false, typeText: checker.typeToString(checker.getTypeAtLocation(self), undefined, ts.TypeFormatFlags.NoTruncation) });
  return out;
}

/** The variable an identifier reads: in `{ x }` the name is the property, the value is x. */
export function valueSymbol(n: ts.Identifier, checker: ts.TypeChecker): ts.Symbol | undefined {
  const p = n.parent;
  if (p && ts.isShorthandPropertyAssignment(p) && p.name === n) return checker.getShorthandAssignmentValueSymbol(p);
  return checker.getSymbolAtLocation(n);
}
