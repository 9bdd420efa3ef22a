/**
 * Prints IR statements as TypeScript, each line placed (Code.at) at the user statement it comes
 * from. The one printer of generated statements: a derivative is IR until it is printed here.
 *
 * A loop prints as `for (init; cond; update)`, so its init must be declarations (or plain
 * assignments) and its update plain assignments; transforms that need more (derivative code in
 * an update) rewrite the loop first. `if` chains print as `else if`.
 */
import { Code } from "../emit/code.js";
import { assertNever, NUM, originOf, type Expr, type GenFunction, type Loop, type Stmt } from "./ir.js";
import { printExpr, printTy } from "./print.js";

/** `export function name(params): ret { body }`, placed at the user function. */
export function printFunction(g: GenFunction): Code {
  const c = new Code().at(g.pos.start);
  c.open(`export function ${g.name}(${g.params.map((q) => `${q.name}: ${printTy(q.ty, undefined, true)}`).join(", ")}): ${printTy(g.ret)}`);
  printStmts(g.body, c);
  c.at(g.pos.start).close();
  return c;
}

export function printStmts(stmts: readonly Stmt[], c: Code): void {
  for (const s of stmts) printStmt(s, c);
}

export function printStmt(s: Stmt, c: Code): void {
  c.at(originOf(s));
  switch (s.k) {
    case "let":
      c.line(`${letText(s)};`);
      return;
    case "assign":
      c.line(`${assignText(s)};`);
      return;
    case "if": {
      c.open(`if (${printExpr(s.cond)})`);
      printStmts(s.then, c);
      let e = s.else;
      while (e.length === 1 && e[0].k === "if") {
        c.at(originOf(e[0])).mid(`} else if (${printExpr(e[0].cond)}) {`);
        printStmts(e[0].then, c);
        e = e[0].else;
      }
      if (e.length) {
        c.mid("} else {");
        printStmts(e, c);
      }
      c.close();
      return;
    }
    case "loop":
      return printLoop(s, c);
    case "block":
      c.open(s.label ? `${s.label}:` : "");
      printStmts(s.body, c);
      c.close();
      return;
    case "break":
      c.line(s.label ? `break ${s.label};` : "break;");
      return;
    case "continue":
      c.line(s.label ? `continue ${s.label};` : "continue;");
      return;
    case "return":
      c.line(s.value ? `return ${printExpr(s.value)};` : "return;");
      return;
    case "expr":
      c.line(`${printExpr(s.e)};`);
      return;
    case "comment":
      c.line(`// ${s.text}`);
      return;
    default:
      assertNever(s, "statement");
  }
}

function printLoop(s: Loop, c: Code): void {
  const label = s.label ? `${s.label}: ` : "";
  if (s.doWhile) {
    c.open(`${label}do`);
    printStmts(s.body, c);
    c.close(`} while (${printExpr(s.cond!)});`);
    return;
  }
  c.open(`${label}${loopHead(s)}`);
  printStmts(s.body, c);
  c.close();
}

/** `for (init; cond; update)`, or `while (cond)` when there is neither init nor update. */
export function loopHead(s: Loop): string {
  const cond = s.cond ? printExpr(s.cond) : "";
  if (s.init.length === 0 && s.update.length === 0) return s.cond ? `while (${cond})` : "for (;;)";
  let init = "";
  if (s.init.length) {
    const lets = s.init.filter((x): x is Extract<Stmt, { k: "let" }> => x.k === "let");
    if (lets.length === s.init.length) init = "let " + lets.map((l) => (l.init ? `${l.name} = ${printExpr(l.init)}` : l.name)).join(", ");
    else if (s.init.every((x) => x.k === "assign")) init = s.init.map((x) => assignText(x as Extract<Stmt, { k: "assign" }>)).join(", ");
    else throw new Error("printer: a loop's init must be all declarations or all assignments");
  }
  if (!s.update.every((u) => u.k === "assign")) throw new Error("printer: a loop's update must be assignments");
  const update = s.update.map((u) => assignText(u as Extract<Stmt, { k: "assign" }>)).join(", ");
  return `for (${init}; ${cond}; ${update})`;
}

/** A declaration without the semicolon. */
export function letText(s: Extract<Stmt, { k: "let" }>): string {
  if (!s.init) return s.annot ? `let ${s.name}: ${printTy(s.annot, undefined, true)}` : `let ${s.name}!: ${printTy(s.ty, undefined, true)}`;
  // A reassignable array is declared with its wide type: TypeScript infers `new Float64Array(n)`
  // as Float64Array<ArrayBuffer>, and later assignments may bring any buffer.
  // (A `const k = 2` of the user's has the literal type 2, which a derivative's test `k === 0`
  // may not compare: generated code declares it a number.)
  // (So is a const of a constant the program names, `Poly.ORDER` or an enum member `Act.Sig`:
  // declared with its declared type, not the member's literal type.)
  const named = s.isConst && namedConstant(s.init);
  const annot = s.annot ?? (!s.isConst && s.ty.k === "arr" ? s.ty
    : s.isConst && s.init.k === "num" && !s.name.startsWith("_") ? NUM
    : named && s.ty.k === "num" ? NUM
    : named && s.ty.k === "other" && /^[A-Za-z_$][\w$.]*$/.test(s.ty.text) && !/^(undefined|null|any|unknown)$/.test(s.ty.text) ? s.ty
    : undefined);
  // A number taken from a `number | undefined` (`a ?? b` starts as a, replaced if missing): the
  // variable is a number to TypeScript, as the value it ends with is.
  const init = s.init;
  const bang = s.ty.k === "num" && !annot && (init.k === "var" || init.k === "field") && init.ty.k === "other" && /\bundefined\b/.test(init.ty.text) ? "!" : "";
  return `${s.isConst ? "const" : "let"} ${s.name}${annot ? `: ${printTy(annot, undefined, true)}` : ""} = ${printExpr(init)}${bang}`;
}

/** `Poly.ORDER`, `Act.Sig`: a member read off a name the program declares (a class, an enum, a namespace). */
function namedConstant(e: Expr): boolean {
  if (e.k === "free") return /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(e.text);
  return e.k === "call" && e.fn.k === "opaque" && /^\.[A-Za-z_$][\w$]*$/.test(e.fn.text) && e.args.length === 1 && (e.args[0].k === "free" || namedConstant(e.args[0]));
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

/** An assignment without the semicolon (`i++`, `s += x`, `a[i] = v`). */
export function assignText(s: Extract<Stmt, { k: "assign" }>): string {
  const t = s.target;
  const lhs = t.k === "var" ? t.name : `${t.arr}[${printExpr(t.idx)}]`;
  const v = s.value;
  if (s.op) return `${lhs} ${s.op}= ${printExpr(v)}`;
  const inc = elementIncrement(s);
  if (inc) return `${lhs} ${inc.sign}= ${printExpr(inc.step)}`;
  if (t.k === "var" && v.k === "bin" && v.l.k === "var" && v.l.name === t.name && v.r.k === "num" && (v.op === "+" || v.op === "-")) {
    if (v.r.v === 1) return `${lhs}${v.op}${v.op}`;
    return `${lhs} ${v.op}= ${printExpr(v.r)}`;
  }
  return `${lhs} = ${printExpr(v)}`;
}
