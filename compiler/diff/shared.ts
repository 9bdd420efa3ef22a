/**
 * Printing helpers of the reverse-mode emitter (which still writes text): primal declarations,
 * `if` chains, NDArray operand lists. Forward mode is IR printed by ir/print-stmt.ts.
 */
import type { Code } from "../emit/code.js";
import type { Expr, Stmt } from "../ir/ir.js";
import { printExpr, printTy } from "../ir/print.js";
export { assignText, elementIncrement } from "../ir/print-stmt.js";

/** A primal `let`/`const` as written. */
export function declText(s: Extract<Stmt, { k: "let" }>, rename?: (n: string) => string): string {
  // `!`: the generated code assigns it on every path the source did, but guards and jumps that
  // adc adds can hide that from TypeScript's flow analysis.
  if (!s.init) return `let ${s.name}!: ${printTy(s.ty, undefined, true)};`;
  return `${s.isConst ? "const" : "let"} ${s.name}${letAnnotation(s)} = ${printExpr(s.init, rename)};`;
}

/**
 * `: Float64Array` on a reassignable array: TypeScript infers `new Float64Array(n)` as the
 * narrower Float64Array<ArrayBuffer>, and generated code may later assign it arrays typed with
 * any buffer (restored from the tape, copied by the runtime).
 */
export function letAnnotation(s: Extract<Stmt, { k: "let" }>): string {
  return !s.isConst && s.ty.k === "arr" ? `: ${printTy(s.ty)}` : "";
}

/** Prints an `if` with `else if` chains; `block` prints a branch's statements. */
export function emitIf(c: Code, s: Extract<Stmt, { k: "if" }>, block: (b: readonly Stmt[]) => void, cond = printExpr(s.cond), flatten = true): void {
  c.open(`if (${cond})`);
  block(s.then);
  let e = s.else;
  while (flatten && e.length === 1 && e[0].k === "if") {
    c.mid(`} else if (${printExpr(e[0].cond)}) {`);
    block(e[0].then);
    e = e[0].else;
  }
  if (e.length) {
    c.mid("} else {");
    block(e);
  }
  c.close();
}

/**
 * The argument list of an NDArray op call as the runtime rules take it, with the list operand of
 * concat/stack gathered back into one array; `dotOf` gives each argument's tangent text.
 */
export function ndOperands(e: Extract<Expr, { k: "call" }>, dotOf: (a: Expr) => string): { args: string; dots: string } {
  const list = e.fn.k === "nd" ? e.fn.list : undefined;
  const a = e.args.map((x) => printExpr(x));
  const d = e.args.map(dotOf);
  if (list === undefined) return { args: `[${a.join(", ")}]`, dots: `[${d.join(", ")}]` };
  const gather = (xs: string[]): string => `[[${xs.slice(0, list).join(", ")}]${xs.slice(list).map((x) => `, ${x}`).join("")}]`;
  return { args: gather(a), dots: gather(d) };
}
