/** Where a function is declared, as far as generated code (which lives at module level) cares. */
import { ts } from "ts-morph";

export function topLevelStatement(n: ts.Node): ts.Node {
  while (n.parent && !ts.isSourceFile(n.parent)) n = n.parent;
  return n;
}

/**
 * The scope whose locals a function may read but generated code (at module level) cannot: the
 * top-level statement around it, when the function is declared anywhere below module level (in
 * a function, a block, an `if`, a loop, a namespace, or several of these:
 * `{ const k = 2; function run(x) { const h = (y) => k * y; grad(h)(x) } }` reads k and run's
 * locals alike). A function declared by a plain module-level statement has none.
 */
export function enclosingScope(n: ts.Node): ts.Node | undefined {
  const top = topLevelStatement(n);
  if (top === n) return undefined;
  // A method of a module-level class reads its object through `this`, a parameter.
  if (ts.isMethodDeclaration(n) && n.parent === top && ts.isClassDeclaration(top)) return undefined;
  // (So does one of a class expression a module-level const holds: `const M = class { ... }`.)
  if (ts.isMethodDeclaration(n) && ts.isClassExpression(n.parent) && ts.isVariableDeclaration(n.parent.parent) && ts.isVariableStatement(top) && n.parent.parent.parent.parent === top) return undefined;
  for (let p = n.parent; p && p !== top; p = p.parent) if (ts.isFunctionLike(p) || ts.isBlock(p) || ts.isClassLike(p)) return top;
  return ts.isVariableStatement(top) || ts.isExpressionStatement(top) || ts.isExportAssignment(top) ? undefined : top;
}

/** A declaration visible at module level (where generated code lives): no need to capture it. */
export function isModuleScoped(decl: ts.Node): boolean {
  if (ts.isFunctionDeclaration(decl) || ts.isClassDeclaration(decl) || ts.isModuleDeclaration(decl) || ts.isEnumDeclaration(decl)) return ts.isSourceFile(decl.parent);
  if (ts.isVariableDeclaration(decl)) return ts.isVariableDeclarationList(decl.parent) && ts.isVariableStatement(decl.parent.parent) && ts.isSourceFile(decl.parent.parent.parent);
  return false;
}
