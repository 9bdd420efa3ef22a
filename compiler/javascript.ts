/**
 * JavaScript files that use adc's API. adc compiles TypeScript only, so a `.js` module of the
 * program that imports `grad` (or another call adc replaces) would build and then fail when it
 * runs; the build reports it instead.
 */
import { ts } from "ts-morph";
import type { Diagnostic } from "./diagnostics.js";
import { API_KINDS } from "./targets.js";

/** adc's exports that only work once compiled. */
const COMPILED = new Set([...API_KINDS, "record"]);

export function javascriptApiUses(file: string, text: string): Diagnostic[] {
  if (!/from\s*["']adc["']/.test(text)) return [];
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const out: Diagnostic[] = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || st.moduleSpecifier.text !== "adc") continue;
    const named = st.importClause?.namedBindings;
    const names = named && ts.isNamedImports(named) ? named.elements.filter((e) => COMPILED.has((e.propertyName ?? e.name).text)) : [];
    const all = named && ts.isNamespaceImport(named) ? [named] : names;
    for (const n of all) {
      const start = n.getStart(sf);
      const lc = sf.getLineAndCharacterOfPosition(start);
      const what = ts.isNamespaceImport(n) ? "adc's API" : (n.propertyName ?? n.name).text;
      out.push({
        code: "ADC1008",
        file,
        line: lc.line + 1,
        column: lc.character + 1,
        start,
        length: n.getEnd() - start,
        message: `this JavaScript file imports ${what}, which adc replaces at build time only in TypeScript files, so it would fail when it runs`,
        hint: "rename the file to .ts (or .mts), or move the derivative calls into a TypeScript module",
      });
    }
  }
  return out;
}
