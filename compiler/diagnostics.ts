/**
 * Diagnostics: every refusal carries a code, the user's file, line and column, and a one-line
 * hint that names the fix. The compiler collects them and never emits code for a file that has
 * an error, so a refusal can never turn into a silently wrong gradient.
 */

export interface Diagnostic {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly file: string;
  /** 1-based, as tsc prints them. */
  readonly line: number;
  readonly column: number;
  readonly start: number;
  readonly length: number;
}

/** Every code adc reports, with what it means. Tests check each has a fixture. */
export const CODES = {
  ADC1001: "syntax adc does not differentiate",
  ADC1002: "call of a function adc cannot differentiate",
  ADC1003: "Math.random in differentiated code",
  ADC1004: "a differentiated value turned into a string or other non-number",
  ADC1005: "writing to a variable outside the differentiated function",
  ADC1006: "argnums that is not a literal",
  ADC1007: "grad of a function that does not return a number",
  ADC1008: "a function argument adc cannot resolve",
  // ADC1009 (recursion) is retired: recursion is differentiated.
  ADC1010: "an argument outside the function's parameters",
  ADC1011: "array aliasing adc cannot follow",
  ADC1012: "a type adc cannot differentiate",
  ADC1013: "a switch case that falls through",
  ADC1014: "an unsupported array method",
  ADC1015: "try/catch, throw, generators or async around differentiated code",
  ADC1016: "a closure that writes captured state",
  ADC1017: "a differentiated parameter that is reassigned in a way adc cannot follow",
  ADC1018: "a call that writes a differentiated array inside a condition or a larger non-differentiated expression",
  ADC1019: "a destructuring form adc does not follow (rest, defaults, nesting, computed keys, a destructured parameter with a default)",
  ADC1020: "spread, or an argument list not written out, where adc needs each argument",
  ADC1021: "an increment inside an expression that adc cannot place",
  ADC1022: "an assignment form adc does not follow (inside an expression, logical, to a property, var, delete)",
  ADC1023: "adc's own API (record, attachGrad, grad) inside differentiated code",
  ADC1024: "a callback or for...of loop adc cannot turn into a loop",
  ADC1025: "a parameter list adc cannot differentiate through (rest, non-literal defaults, arguments)",
  ADC1026: "a higher derivative adc cannot make yet (NDArrays, objects, callees that write arrays)",
  ADC1027: "code nested too deeply to compile",
} as const;

export type Code = keyof typeof CODES;

/** Formats like tsc: `file(line,col): error ADC1002: message - hint`. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? ` - ${d.hint}` : "";
  return `${d.file}(${d.line},${d.column}): error ${d.code}: ${d.message}${hint}`;
}

type Paint = (text: string, style: "red" | "cyan" | "gray" | "bold") => string;

/**
 * tsc's --pretty layout: `file:line:col - error CODE: message`, then the source line with its
 * number and the span underlined. `text` is the file's text; `paint` colours (identity for none).
 */
export function formatPretty(d: Diagnostic, text: string | undefined, paint: Paint = (t) => t): string {
  const hint = d.hint ? ` - ${d.hint}` : "";
  const head = `${paint(d.file, "cyan")}:${d.line}:${d.column} - ${paint("error", "red")} ${paint(d.code, "gray")}: ${d.message}${hint}`;
  const line = text?.split("\n")[d.line - 1];
  if (line === undefined) return head;
  const shown = line.replace(/\t/g, " ").replace(/\r$/, "");
  const num = String(d.line);
  const width = Math.max(1, Math.min(d.length, shown.length - (d.column - 1)));
  const gutter = " ".repeat(num.length);
  return [head, "", `${paint(num, "gray")} ${shown}`, `${gutter} ${" ".repeat(d.column - 1)}${paint("~".repeat(width), "red")}`, ""].join("\n");
}

/** Thrown inside a pass to abandon the current function after a diagnostic was recorded. */
export class Refusal extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(formatDiagnostic(diagnostic));
  }
}

/** Where a pass reports: collects diagnostics, locating offsets in one source text. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  private seen = new Set<string>();

  constructor(private readonly locate: (file: string, offset: number) => { line: number; column: number }) {}

  report(code: Code, file: string, start: number, end: number, message: string, hint?: string): Diagnostic {
    const { line, column } = this.locate(file, start);
    const d: Diagnostic = { code, message, hint, file, line, column, start, length: Math.max(0, end - start) };
    const key = `${file}:${start}:${code}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.list.push(d);
    }
    return d;
  }

  /** A TypeScript diagnostic (a syntax error), with its own code: `TS1005`. */
  reportTs(code: number, file: string, start: number, end: number, message: string): void {
    const { line, column } = this.locate(file, start);
    this.list.push({ code: `TS${code}`, message, file, line, column, start, length: Math.max(0, end - start) });
  }

  /** Reports and throws, to abandon the function being processed. */
  refuse(code: Code, file: string, start: number, end: number, message: string, hint?: string): never {
    throw new Refusal(this.report(code, file, start, end, message, hint));
  }

  get hasErrors(): boolean {
    return this.list.length > 0;
  }
}

/** Sorted by file, then position, so output is deterministic. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.start - b.start || (a.code < b.code ? -1 : 1)));
}
