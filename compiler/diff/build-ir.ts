/**
 * Statement builders for derivative code: the runtime calls reverse mode adds (tape pushes and
 * pops, adjoint accumulation), declarations of adjoints and hoisted variables, and the small
 * statement shapes the sweeps write. Every statement takes the position of the user statement
 * it is part of the derivative of, so the source map sends it there.
 */
import { NUM, type Expr, type IrFunction, type Pos, type Stmt, type Ty } from "../ir/ir.js";
import { RT } from "../emit/names.js";
import { GEN, name, num } from "../ir/make.js";

/** A call of a runtime function (`tape.pushF`, `addInto`, `ndAcc`, ...). */
export function rt(fn: string, args: readonly Expr[], ty: Ty = NUM, tyArgs?: readonly Ty[]): Expr {
  return tyArgs ? { k: "call", fn: { k: "rt", name: fn }, args, ty, pos: GEN, tyArgs } : { k: "call", fn: { k: "rt", name: fn }, args, ty, pos: GEN };
}

export function exprStmt(e: Expr, pos: Pos): Stmt {
  return { k: "expr", e, pos };
}

/** `v = value`, or with `op` the compound `v += value`. */
export function assign(v: string, value: Expr, pos: Pos, ty: Ty = NUM, op?: "+"): Stmt {
  return { k: "assign", target: { k: "var", name: v, ty, pos }, value, pos, ...(op ? { op } : {}) };
}

export function assignAt(arr: string, idx: Expr, value: Expr, pos: Pos, arrTy: Ty = NUM, op?: "+"): Stmt {
  return { k: "assign", target: { k: "index", arr, arrTy, idx, pos }, value, pos, ...(op ? { op } : {}) };
}

/** `const v = init` (or `let`, optionally annotated). */
export function decl(v: string, init: Expr | undefined, pos: Pos, opts: { isConst?: boolean; ty?: Ty; annot?: Ty } = {}): Stmt {
  const s: Stmt = { k: "let", name: v, ty: opts.ty ?? NUM, isConst: opts.isConst ?? false, pos, ...(init ? { init } : {}), ...(opts.annot ? { annot: opts.annot } : {}) };
  return s;
}

export function comment(text: string, pos: Pos): Stmt {
  return { k: "comment", text, pos };
}

export function ifStmt(cond: Expr, then: Stmt[], els: Stmt[], pos: Pos): Stmt {
  return { k: "if", cond, then, else: els, pos };
}

export function block(body: Stmt[], pos: Pos, label = ""): Stmt {
  return { k: "block", label, body, pos };
}

/** `v++`, printed so. */
export function increment(v: string, pos: Pos): Stmt {
  return assign(v, { k: "bin", op: "+", l: name(v), r: num(1), ty: NUM, pos: GEN }, pos);
}

/** A value of the text's type (`_rt.NDArray | null`), for annotations. */
export function tyText(text: string): Ty {
  return { k: "other", text };
}

/** `e[k]` for a runtime array (`_rt.retF[0]`). */
export function lane(path: string, k: number): Expr {
  return { k: "index", arr: { k: "free", text: path, ty: NUM, pos: GEN }, idx: num(k), pos: GEN };
}

/**
 * The operands of an NDArray op call as the runtime rules take them, with the list operand of
 * concat/stack gathered back into one array; `dotOf` gives each operand's tangent.
 */
export function ndOperands(e: Extract<Expr, { k: "call" }>, dotOf: (a: Expr) => Expr): { args: Expr; dots: Expr } {
  const list = e.fn.k === "nd" ? e.fn.list : undefined;
  const arr = (elems: Expr[]): Expr => ({ k: "arrlit", ctor: "Array", elems, pos: e.pos });
  const gather = (xs: Expr[]): Expr => (list === undefined ? arr(xs) : arr([arr(xs.slice(0, list)), ...xs.slice(list)]));
  return { args: gather([...e.args]), dots: gather(e.args.map(dotOf)) };
}


/**
 * A method's receiver as its derivative takes it: where the caller knows the object only as a base
 * class (a branch on `instanceof` chose the subclass's method), cast to the method's class (or its
 * adjoint's type, `bar`), so the generated TypeScript type-checks. Values are not changed.
 */
export function receiverCast(arg: Expr, argTy: Ty, callee: IrFunction, bar: boolean): Expr {
  const self = callee.params[0];
  if (!callee.method || !self || self.ty.k !== "obj" || argTy.k !== "obj" || argTy.text === self.ty.text) return arg;
  return { k: "as", e: arg, ty: tyText(bar ? `${RT}.Bar<${self.ty.text}>` : self.ty.text), pos: arg.pos };
}
