/**
 * Prints IR expressions as TypeScript, with only the parentheses precedence needs.
 * `rename` maps an IR variable to the name the emitted code uses (identity by default).
 */
import type { BinOp, Expr, Ty } from "./ir.js";
import { RT } from "../emit/names.js";

const PREC: Record<BinOp, number> = {
  "??": 1, "||": 2, "&&": 3, "|": 4, "^": 5, "&": 6,
  "==": 7, "!=": 7, "===": 7, "!==": 7,
  "<": 8, "<=": 8, ">": 8, ">=": 8,
  "<<": 9, ">>": 9, ">>>": 9,
  "+": 10, "-": 10, "*": 11, "/": 11, "%": 11, "**": 12,
};
const UNARY = 13;
const POSTFIX = 15; // member access, call, index
const COND = 0.5;
/** `e as T` binds like a relational operator. */
const AS = 8;

/** Comparisons of two number literals, folded when printed. */
const LITERAL_TESTS: Partial<Record<BinOp, (a: number, b: number) => boolean>> = {
  "===": (a, b) => a === b, "!==": (a, b) => a !== b, "==": (a, b) => a === b, "!=": (a, b) => a !== b,
  "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b,
};

export type Rename = (name: string) => string;

/** How generated code calls an NDArray op's primal (set by the NDArray rules module). */
let ndPath: (op: string) => string = (op) => `${RT}.np.${op}`;
export function setNdPath(f: (op: string) => string): void {
  ndPath = f;
}
const same: Rename = (n) => n;

/**
 * An optional parameter (`s?: number`) in arithmetic: the user's code had narrowed it (`if (s ===
 * undefined) return ...`), which generated code, with its control flow rearranged, does not show
 * TypeScript; the value is the one the user's code computed with.
 */
function defined(e: Expr, op: BinOp, printed: [string, number]): [string, number] {
  const arithmetic = PREC[op] >= PREC["<"];
  return arithmetic && e.k === "var" && e.ty.k === "other" && /\bundefined\b/.test(e.ty.text) ? [`${printed[0]}!`, POSTFIX] : printed;
}

export function printExpr(e: Expr, rename: Rename = same): string {
  return print(e, rename)[0];
}

/** Returns the text and its precedence. */
function print(e: Expr, rn: Rename): [string, number] {
  switch (e.k) {
    case "num":
      return [e.text, e.v < 0 || e.text.startsWith("-") ? UNARY : POSTFIX];
    case "bool":
      return [String(e.v), POSTFIX];
    case "str":
      return [e.text, POSTFIX];
    case "var":
      return [rn(e.name), POSTFIX];
    case "free":
      return [e.text, POSTFIX];
    case "bin": {
      // Two literals compared (an inlined argument against the callee's test: `1 === 0`): the
      // result, which TypeScript would otherwise call a comparison of types with no overlap.
      if (e.l.k === "num" && e.r.k === "num" && e.op in LITERAL_TESTS) return [`${LITERAL_TESTS[e.op]!(e.l.v, e.r.v)}`, POSTFIX];
      const p = PREC[e.op];
      // `**` is right-associative and its left operand may not be a unary expression.
      const lp = e.op === "**" ? p + 1 : p;
      const rp = e.op === "**" ? p : p + 1;
      const l = wrap(defined(e.l, e.op, print(e.l, rn)), lp, e.op === "**");
      const r = wrap(defined(e.r, e.op, print(e.r, rn)), rp);
      return [`${l} ${e.op} ${r}`, p];
    }
    case "un": {
      const [t, p] = print(e.e, rn);
      // Avoid `--x` and `- -x` ambiguity.
      const inner = p < UNARY || (e.op === "-" && t.startsWith("-")) || (e.op === "+" && t.startsWith("+")) ? `(${t})` : t;
      return [`${e.op}${inner}`, UNARY];
    }
    case "call": {
      const args = e.args.map((a) => printExpr(a, rn));
      if (e.fn.k === "opaque") {
        const t = e.fn.text;
        // "@text": kept verbatim; ".m()": a method call on args[0]; ".p": a property of args[0];
        // "[]": args[0][args[1]].
        if (t.startsWith("@")) return [t.slice(1), isAtomic(t.slice(1)) ? POSTFIX : 0];
        if (t.startsWith(" instanceof ")) return [`${wrap(print(e.args[0], rn), PREC["<"] + 1)}${t}`, PREC["<"]];
        if (t === "[]") return [`${wrap(print(e.args[0], rn), POSTFIX)}[${args[1]}]`, POSTFIX];
        if (t.startsWith(".")) {
          const recv = wrap(print(e.args[0], rn), POSTFIX);
          return t.endsWith("()") ? [`${recv}${t.slice(0, -2)}(${args.slice(1).join(", ")})`, POSTFIX] : [`${recv}${t}`, POSTFIX];
        }
        return [`${t}(${args.join(", ")})`, POSTFIX];
      }
      // A method of the program: `recv.m(...)`.
      if (e.fn.k === "user" && e.fn.text?.startsWith(".")) return [`${wrap(print(e.args[0], rn), POSTFIX)}${e.fn.text.slice(0, -2)}(${args.slice(1).join(", ")})`, POSTFIX];
      const callee = e.fn.k === "prim" ? e.fn.name : e.fn.k === "user" ? e.fn.text ?? e.fn.fn.name : e.fn.k === "rt" ? `${RT}.${e.fn.name}` : e.fn.k === "derived" ? e.fn.name : ndPath(e.fn.op);
      if (e.tyArgs) return [`${callee}<${e.tyArgs.map((t) => printTy(t)).join(", ")}>(${args.join(", ")})`, POSTFIX];
      if (e.fn.k === "nd" && e.fn.list !== undefined) return [`${callee}([${args.slice(0, e.fn.list).join(", ")}]${args.slice(e.fn.list).map((a) => `, ${a}`).join("")})`, POSTFIX];
      return [`${callee}(${args.join(", ")})`, POSTFIX];
    }
    case "index":
      return [`${wrap(print(e.arr, rn), POSTFIX)}[${printExpr(e.idx, rn)}]`, POSTFIX];
    case "len":
      return [`${wrap(print(e.arr, rn), POSTFIX)}.length`, POSTFIX];
    case "field": {
      // A subclass's field read through a variable of the base class (a method inlined for the
      // receiver a branch on its class chose, which generated code does not narrow): through any.
      const foreign = !e.idx && e.obj.k === "var" && e.obj.ty.k === "obj" && !e.obj.ty.fields.some(([n]) => n === e.name);
      const obj = foreign ? `(${print(e.obj, rn)[0]} as any)` : wrap(print(e.obj, rn), POSTFIX);
      return [`${obj}${e.idx ? `[${printExpr(e.idx, rn)}]` : e.hidden ? `[${JSON.stringify(e.name)}]` : `.${e.name}`}`, POSTFIX];
    }
    case "cond": {
      const c = wrap(print(e.c, rn), COND + 0.5);
      return [`${c} ? ${printExpr(e.a, rn)} : ${printExpr(e.b, rn)}`, COND];
    }
    case "stop":
      return print(e.e, rn);
    case "alloc":
      return e.ctor === "Float64Array"
        ? [`new Float64Array(${printExpr(e.size, rn)})`, POSTFIX]
        : [`new Array<number>(${printExpr(e.size, rn)}).fill(0)`, POSTFIX];
    case "arrlit": {
      const items = e.elems.map((x) => printExpr(x, rn)).join(", ");
      return e.ctor === "Float64Array" ? [`new Float64Array([${items}])`, POSTFIX] : [`[${items}]`, POSTFIX];
    }
    case "copy":
      return [`${e.ctor}.from(${printExpr(e.e, rn)})`, POSTFIX];
    case "as":
      return [`${wrap(print(e.e, rn), AS + 1)} as ${printTy(e.ty)}`, AS];
  }
}

function wrap([t, p]: [string, number], min: number, noUnary = false): string {
  return p < min || (noUnary && p === UNARY) ? `(${t})` : t;
}

/** Parenthesizes a text unless it is plainly one operand (a name, a number, a call or member chain). */
export function paren(t: string): string {
  return isAtomic(t) ? t : `(${t})`;
}

export function isAtomic(t: string): boolean {
  if (/^[\w$.]+$/.test(t)) return true;
  // A call or index chain whose brackets close at the very end, with no top-level operator.
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (depth === 0 && !/[\w$.]/.test(c)) return false;
  }
  return true;
}

/** A type as TypeScript text, for declarations the emitters add. */
/**
 * A type as generated code writes it. `ro`: where a declared-readonly array keeps the word (a
 * parameter, a local holding the user's array); elsewhere (adjoints, results, rows, which
 * generated code writes or hands out) the array type is the mutable one.
 */
export function printTy(t: Ty, ndName = `${RT}.NDArray`, ro = false): string {
  switch (t.k) {
    case "num":
      return "number";
    case "bool":
      return "boolean";
    case "arr":
      return t.ctor === "Float64Array" ? "Float64Array" : ro && t.ro ? "readonly number[]" : "number[]";
    case "nd":
      return ndName;
    case "obj":
    case "list":
      return t.text;
    case "void":
      return "void";
    case "other":
      return t.text;
  }
}
