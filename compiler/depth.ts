/**
 * Input nested too deeply to compile. TypeScript's parser and binder, and adc's own passes over
 * expressions, recurse once per level of nesting, so a thousand nested blocks or an 800-deep
 * call chain overflow the stack (`tsc` itself crashes on them). When that happens the build
 * reports where the file is nested deepest instead of an internal error. The search uses the
 * scanner only, which keeps no stack, so it works on text the parser could not read.
 */
import { ts } from "ts-morph";
import { sortDiagnostics, type Diagnostic } from "./diagnostics.js";

const OPEN = new Set([ts.SyntaxKind.OpenParenToken, ts.SyntaxKind.OpenBracketToken, ts.SyntaxKind.OpenBraceToken]);
const CLOSE = new Set([ts.SyntaxKind.CloseParenToken, ts.SyntaxKind.CloseBracketToken, ts.SyntaxKind.CloseBraceToken]);

/** The deepest bracket nesting of a text and the offset of the bracket that reaches it. */
export function deepestNesting(text: string): { depth: number; offset: number } {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  let depth = 0;
  let best = { depth: 0, offset: 0 };
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (OPEN.has(kind)) {
      depth++;
      if (depth > best.depth) best = { depth, offset: scanner.getTokenStart() };
    } else if (CLOSE.has(kind)) depth = Math.max(0, depth - 1);
  }
  return best;
}

/** Whether an error is a stack overflow (V8's RangeError). */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/** Nesting reported after an overflow: well below what overflows, well above real code. */
const DEEP = 200;

/**
 * ADC1027 for each file nested deeper than DEEP, at its deepest point; if none is, for the
 * first file, since something in the program was still too deep to read.
 */
export function tooDeepDiagnostics(files: readonly { path: string; text: string }[]): Diagnostic[] {
  const hint = "split deep expressions or blocks into smaller functions or statements";
  const at = (path: string, text: string, offset: number, message: string): Diagnostic => {
    const before = text.slice(0, offset).split("\n");
    return { code: "ADC1027", file: path, line: before.length, column: before[before.length - 1].length + 1, start: offset, length: 1, message, hint };
  };
  const out: Diagnostic[] = [];
  for (const { path, text } of files) {
    const { depth, offset } = deepestNesting(text);
    if (depth >= DEEP) out.push(at(path, text, offset, `code nested ${depth} levels deep here is more than TypeScript's parser can read`));
  }
  if (!out.length && files.length) out.push(at(files[0].path, files[0].text, 0, "this program is nested too deeply for TypeScript's parser to read"));
  return sortDiagnostics(out);
}
