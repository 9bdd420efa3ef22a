/**
 * The `@checkGrads` tags of a file for `adc check`: which exported function each marks, its text
 * (the rest of the checkGrads call), where that text is in the file, and whether it parses as
 * the rest of a call. A tag that does not is reported at its own place in the file.
 */
import { readFileSync } from "node:fs";
import { ts } from "ts-morph";

export interface Target {
  readonly file: string;
  readonly name: string;
  /** The call's text after the function: `[0.5, [1, 2]]` or `[x], { modes: ["rev"] }`. */
  readonly call: string;
  /** Where an offset into `call` is in the file (1-based, as tsc prints them). */
  readonly at: (offset: number) => { line: number; column: number };
}

/** Exported functions (declarations and `const` arrows) with their `@checkGrads` tags. */
export function targetsOf(file: string): Target[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Target[] = [];
  const exported = (n: ts.Node): boolean => !!ts.getCombinedModifierFlags(n as ts.Declaration) && (ts.getCombinedModifierFlags(n as ts.Declaration) & ts.ModifierFlags.Export) !== 0;
  // Not ts.getJSDocTags: it reads only the block nearest the declaration, so one tag per block
  // would check the last point alone. `jsDoc` holds every block, as ts-morph's getJsDocs reads it.
  const tags = (...hosts: (ts.Node | undefined)[]): ts.JSDocTag[] =>
    hosts
      .flatMap((n) => (n as { jsDoc?: ts.JSDoc[] } | undefined)?.jsDoc ?? [])
      .flatMap((doc) => doc.tags ?? [])
      .filter((t) => t.tagName.text === "checkGrads");
  const target = (name: string, tag: ts.JSDocTag): Target => {
    const call = (typeof tag.comment === "string" ? tag.comment : (ts.getTextOfJSDocComment(tag.comment) ?? "")).trim();
    return { file, name, call, at: locator(sf, tag, call) };
  };
  for (const st of sf.statements) {
    if (ts.isFunctionDeclaration(st) && st.name && exported(st)) for (const tag of tags(st)) out.push(target(st.name.text, tag));
    if (ts.isVariableStatement(st) && exported(st)) {
      // The statement's blocks go to its first declaration, as getJSDocTags gives them.
      const first = st.declarationList.declarations[0];
      for (const d of st.declarationList.declarations)
        if (ts.isIdentifier(d.name)) for (const tag of tags(d === first ? st : undefined, d, d.initializer)) out.push(target(d.name.text, tag));
    }
  }
  return out;
}

/**
 * Offsets into a tag's text, as places in the file. The text is the file's, line by line, less
 * the comment's margin (` * `) on lines after the first: each line is found in its own.
 */
function locator(sf: ts.SourceFile, tag: ts.JSDocTag, call: string): Target["at"] {
  const lines = call.split("\n");
  const found = sf.text.indexOf(lines[0], tag.tagName.end);
  const start = found < 0 ? tag.tagName.end : found;
  const first = sf.getLineAndCharacterOfPosition(start);
  const starts = sf.getLineStarts();
  return (offset) => {
    const before = call.slice(0, Math.max(0, Math.min(offset, call.length))).split("\n");
    const i = before.length - 1;
    const column = before[i].length;
    if (i === 0) return { line: first.line + 1, column: first.character + column + 1 };
    const line = first.line + i;
    const lineText = sf.text.slice(starts[line] ?? sf.text.length, starts[line + 1] ?? sf.text.length);
    return { line: line + 1, column: Math.max(0, lineText.indexOf(lines[i])) + column + 1 };
  };
}

/** Why a tag's text is not the rest of a checkGrads call (the arguments, then options), at an offset into it; undefined when it is. */
export function tagError(t: Target): { offset: number; code: string; message: string } | undefined {
  if (t.call === "") return { offset: 0, code: "ADC1020", message: `the @checkGrads tag of ${t.name} needs the arguments, e.g. @checkGrads [0.5, [1, 2]]` };
  const head = "__adc_f(";
  // (The newline ends a line comment the tag may hold before the call's parenthesis.)
  const sf = ts.createSourceFile("tag.ts", `${head}${t.call}\n);`, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const [d] = (sf as unknown as { parseDiagnostics: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics;
  if (d) return { offset: d.start - head.length, code: `TS${d.code}`, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") };
  const [st, ...more] = sf.statements;
  const c = st && ts.isExpressionStatement(st) && ts.isCallExpression(st.expression) ? st.expression : undefined;
  if (more.length || !c || !ts.isIdentifier(c.expression) || c.expression.text !== "__adc_f" || c.arguments.length > 2)
    return { offset: 0, code: "ADC1020", message: `the @checkGrads tag of ${t.name} is not the rest of a checkGrads call: the arguments as a list, then options if any, e.g. @checkGrads [0.5, [1, 2]], { rtol: 1e-4 }` };
  return undefined;
}
