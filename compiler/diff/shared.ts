/**
 * Printing helpers shared by the emitters: primal declarations, loop heads, `if` chains and
 * zero values of each type.
 */
import type { Code } from "../emit/code.js";
import type { Expr, Loop, Stmt, Ty } from "../ir/ir.js";
import { printExpr, printTy } from "../ir/print.js";
import { RT } from "../emit/names.js";

/** A primal `let`/`const` as written. */
export function declText(s: Extract<Stmt, { k: "let" }>, rename?: (n: string) => string): string {
  // `!`: the generated code assigns it on every path the source did, but guards and jumps that
  // adc adds can hide that from TypeScript's flow analysis.
  if (!s.init) return `let ${s.name}!: ${printTy(s.ty)};`;
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

/**
 * `a[i] = a[i] + t` or `a[i] = a[i] - t` (ANF keeps `a[i] += t` in this shape): linear in the old
 * element with coefficient 1, so its adjoint adds a_bar[i] to t_bar and leaves a_bar[i] alone.
 */
export function elementIncrement(s: Stmt): { readonly sign: "+" | "-"; readonly step: Expr } | null {
  if (s.k !== "assign" || s.target.k !== "index") return null;
  const v = s.value;
  if (v.k !== "bin" || (v.op !== "+" && v.op !== "-") || v.l.k !== "index") return null;
  const old = v.l;
  if (old.arr.k !== "var" || old.arr.name !== s.target.arr || printExpr(old.idx) !== printExpr(s.target.idx)) return null;
  return { sign: v.op, step: v.r };
}

/** An assignment statement as text without the semicolon (`i++`, `s += x`, `a[i] = v`). */
export function assignText(s: Extract<Stmt, { k: "assign" }>): string {
  const t = s.target;
  const lhs = t.k === "var" ? t.name : `${t.arr}[${printExpr(t.idx)}]`;
  const v = s.value;
  const inc = elementIncrement(s);
  if (inc) return `${lhs} ${inc.sign}= ${printExpr(inc.step)}`;
  if (t.k === "var" && v.k === "bin" && v.l.k === "var" && v.l.name === t.name && v.r.k === "num" && (v.op === "+" || v.op === "-")) {
    if (v.r.v === 1) return `${lhs}${v.op}${v.op}`;
    return `${lhs} ${v.op}= ${printExpr(v.r)}`;
  }
  return `${lhs} = ${printExpr(v)}`;
}

/** `for (init; cond; update)` or `while (cond)`; `init` and `update` must be plain statements. */
export function printLoopHead(s: Loop, init: readonly Stmt[], update: readonly Stmt[]): string {
  const cond = s.cond ? printExpr(s.cond) : "";
  if (init.length === 0 && update.length === 0) return s.cond ? `while (${cond})` : "for (;;)";
  let initText = "";
  if (init.length) {
    const lets = init.filter((x): x is Extract<Stmt, { k: "let" }> => x.k === "let");
    if (lets.length === init.length) initText = "let " + lets.map((l) => (l.init ? `${l.name} = ${printExpr(l.init)}` : l.name)).join(", ");
    else initText = init.map((x) => (x.k === "assign" ? assignText(x) : "")).join(", ");
  }
  const updateText = update.map((u) => (u.k === "assign" ? assignText(u) : "")).join(", ");
  return `for (${initText}; ${cond}; ${updateText})`;
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

/** The zero of a type, shaped like the value `like` for arrays. */
export function zeroOf(ty: Ty, like: string): string {
  switch (ty.k) {
    case "num":
      return "0";
    case "arr":
      return `${RT}.zerosLike(${like})`;
    case "nd":
      return `${RT}.ndZerosLike(${like})`;
    default:
      return "0";
  }
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

export function isAtomExpr(e: Expr): boolean {
  return e.k === "var" || e.k === "num" || e.k === "free";
}
