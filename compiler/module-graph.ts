/**
 * The modules a build reads: the roots and every local module they import, transitively (static
 * imports, re-exports and `import("./m")`), in a stable order. A relative import, or one a `paths`
 * pattern of the tsconfig maps, that resolves to no file is reported as tsc reports it (TS2307),
 * not later as a function adc cannot see into; other package imports are the user's toolchain's
 * business (adc only reads what it differentiates).
 */
import { dirname, relative } from "node:path";
import { ts } from "ts-morph";
import { forEachNode } from "./ast-walk.js";
import type { DiagnosticSink } from "./diagnostics.js";
import { runtimeFile } from "./program.js";

/**
 * adc's own runtime (its sources in a checkout, where `adc` resolves to runtime/api.ts): never
 * part of a user's program. Walking its 39 modules took about half of every small build.
 */
let runtimeDir: string | undefined;
function isAdcRuntime(file: string): boolean {
  runtimeDir ??= dirname(runtimeFile("api")).split("\\").join("/") + "/";
  return file.split("\\").join("/").startsWith(runtimeDir);
}

export function localModules(roots: readonly ts.SourceFile[], checker: ts.TypeChecker, program: ts.Program, sink: DiagnosticSink): ts.SourceFile[] {
  const seen = new Set<ts.SourceFile>();
  const options = program.getCompilerOptions();
  const unresolvedLocal = (spec: ts.StringLiteralLike, sf: ts.SourceFile): boolean => {
    const text = spec.text;
    const local = text.startsWith(".") || text.startsWith("/") || Object.keys(options.paths ?? {}).some((p) => matchesPattern(p, text));
    return local && !ts.resolveModuleName(text, sf.fileName, options, ts.sys).resolvedModule;
  };
  const visit = (sf: ts.SourceFile): void => {
    if (seen.has(sf) || sf.isDeclarationFile || sf.fileName.includes("/node_modules/") || isAdcRuntime(sf.fileName)) return;
    seen.add(sf);
    const follow = (spec: ts.StringLiteralLike): void => {
      // (A module given as text, not on disk, is found by the program, not by the disk.)
      const sym = checker.getSymbolAtLocation(spec);
      const target = sym?.valueDeclaration ?? sym?.declarations?.[0];
      if (target && ts.isSourceFile(target)) return visit(target);
      if (unresolvedLocal(spec, sf)) sink.reportTs(2307, sf.fileName, spec.getStart(sf), spec.getEnd(), `Cannot find module '${spec.text}' or its corresponding type declarations.`);
    };
    for (const st of sf.statements) {
      const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier;
      if (spec && ts.isStringLiteral(spec)) follow(spec);
    }
    // A module loaded with import("./m") is part of the program too: its grad calls are compiled.
    forEachNode(sf, (n) => {
      if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) follow(n.arguments[0]);
    });
  };
  for (const r of roots) visit(r);
  return [...seen];
}

/** Whether a module name matches a tsconfig `paths` key (at most one `*`). */
function matchesPattern(pattern: string, name: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === name;
  const [pre, post] = [pattern.slice(0, star), pattern.slice(star + 1)];
  return name.length >= pre.length + post.length && name.startsWith(pre) && name.endsWith(post);
}

/**
 * How `sf` can import `target` when it imports it only through another module (a barrel's
 * `export * from`): a relative specifier, with `.js` as the file's own relative imports write it
 * (or none, if they write none).
 */
export function relativeSpecifier(sf: ts.SourceFile, target: string): string {
  const own = sf.statements.flatMap((st) => (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier) && st.moduleSpecifier.text.startsWith(".") ? [st.moduleSpecifier.text] : []));
  const bare = own.length > 0 && own.every((s) => !/\.[cm]?[jt]sx?$/.test(s));
  let rel = relative(dirname(sf.fileName), target).split("\\").join("/").replace(/\.([cm]?)tsx?$/, bare ? "" : ".$1js");
  if (!rel.startsWith(".")) rel = `./${rel}`;
  return rel;
}
